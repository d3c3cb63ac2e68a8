"""The Telegram adapter: python-telegram-bot ``Update`` <-> the neutral core, and the port."""

from bot.telegram_bot.adapter import (
    PLATFORM,
    BotIdentity,
    bare_chat_id,
    message_link,
    telegram_chat_key,
)
from bot.telegram_bot.app import ALLOWED_UPDATES, TelegramBot, rights_notice
from bot.telegram_bot.platform import TelegramPlatform, split_text

__all__ = [
    "ALLOWED_UPDATES",
    "PLATFORM",
    "BotIdentity",
    "TelegramBot",
    "TelegramPlatform",
    "bare_chat_id",
    "message_link",
    "rights_notice",
    "split_text",
    "telegram_chat_key",
]
