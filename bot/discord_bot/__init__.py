"""The Discord adapter: discord.py 2.x events → the neutral core, the port → REST calls."""

from bot.discord_bot.bot import DiscordBot
from bot.discord_bot.client import build_client, intents
from bot.discord_bot.platform import DiscordPlatform
from bot.discord_bot.text import MAX_MESSAGE, split_message

__all__ = [
    "MAX_MESSAGE",
    "DiscordBot",
    "DiscordPlatform",
    "build_client",
    "intents",
    "split_message",
]
