"""The ``ChatPlatform`` port on python-telegram-bot's ``Bot``: send, reply, react, admins."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from telegram import Bot, LinkPreviewOptions, ReplyParameters
from telegram.constants import MessageLimit, ReactionEmoji
from telegram.error import TelegramError

from bot.telegram_bot.adapter import PLATFORM, message_link
from harvest.errors import PlatformError

__all__ = ["TelegramPlatform", "split_text"]

log = logging.getLogger(__name__)

# Telegram only accepts its fixed reaction set; the core's verdict emojis map onto it.
_ALLOWED_REACTIONS = frozenset(e.value for e in ReactionEmoji)
_REACTION_FALLBACK = {"✅": "👍", "✔️": "👍", "☑️": "👍", "❌": "👎", "🚫": "👎", "✖️": "👎"}
_TEXT_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)
_CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)


def split_text(text: str, limit: int = _TEXT_LIMIT) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, at line or word breaks
    where there is one in the second half of a piece."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


class TelegramPlatform:
    """What the core may do in Telegram chats.

    ``admin_ttl``: seconds a chat's ``getChatAdministrators`` answer is trusted;
    ``clock``: monotonic seconds (injectable so tests need no sleeping).
    Replies to forum topic messages go to the same topic: the adapter tells the platform
    which messages were topic messages (:meth:`remember_topic`).
    """

    name = PLATFORM
    text_limit = _TEXT_LIMIT  # UTF-16 code units, as Telegram counts

    def __init__(
        self,
        bot: Bot,
        *,
        admin_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        topic_memory: int = 10_000,
    ) -> None:
        self.bot = bot
        self.admin_ttl = admin_ttl
        self.clock = clock
        self._admins: dict[str, tuple[float, frozenset[str]]] = {}
        self._topics: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._topic_memory = topic_memory

    # -- forum topics -------------------------------------------------------------------

    def remember_topic(self, chat_id: str, message_id: str, topic_id: int) -> None:
        """Note that a message sits in forum topic ``topic_id`` (bounded memory)."""
        self._topics[(chat_id, message_id)] = topic_id
        self._topics.move_to_end((chat_id, message_id))
        while len(self._topics) > self._topic_memory:
            self._topics.popitem(last=False)

    def topic_of(self, chat_id: str, message_id: str) -> int | None:
        """The forum topic a message was posted in, if it was a topic message."""
        return self._topics.get((chat_id, message_id))

    # -- the port -----------------------------------------------------------------------

    async def reply(self, chat_id: str, to_message_id: str, text: str) -> str:
        """Reply to a message (in its forum topic); long texts go out in several parts."""
        topic = self.topic_of(chat_id, to_message_id)
        first: str | None = None
        target = int(to_message_id)
        for piece in split_text(text):
            sent = await self.bot.send_message(
                chat_id=int(chat_id),
                text=piece,
                reply_parameters=ReplyParameters(
                    message_id=target, allow_sending_without_reply=True
                ),
                message_thread_id=topic,
            )
            target = sent.message_id
            first = first or str(sent.message_id)
            if topic is not None:
                self.remember_topic(chat_id, str(sent.message_id), topic)
        assert first is not None
        return first

    async def send(self, chat_id: str, text: str) -> str:
        """Send a message to a chat; long texts go out in several parts."""
        first: str | None = None
        for piece in split_text(text):
            sent = await self.bot.send_message(chat_id=int(chat_id), text=piece)
            first = first or str(sent.message_id)
        assert first is not None
        return first

    async def send_photo(self, chat_id: str, path: Path, caption: str) -> str:
        """Send an image; a caption over Telegram's 1024 characters follows as a message."""
        short = caption if len(caption) <= _CAPTION_LIMIT else None
        with path.open("rb") as handle:
            sent = await self.bot.send_photo(chat_id=int(chat_id), photo=handle, caption=short)
        if short is None and caption:
            await self.send(chat_id, caption)
        return str(sent.message_id)

    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        """Put a reaction on a message (✅/❌ become 👍/👎: Telegram has a fixed set)."""
        chosen = emoji if emoji in _ALLOWED_REACTIONS else _REACTION_FALLBACK.get(emoji, "👀")
        await self.bot.set_message_reaction(
            chat_id=int(chat_id), message_id=int(message_id), reaction=chosen
        )

    async def send_private(self, user_id: str, text: str) -> str:
        """A private message: a user's private chat id is their user id. Telegram refuses
        (403) until the user has opened a chat with the bot: PlatformError then. No link
        preview, so Telegram does not fetch (and burn) a one-time link."""
        try:
            sent = await self.bot.send_message(
                chat_id=int(user_id), text=text, link_preview_options=LinkPreviewOptions(True)
            )
        except TelegramError as exc:
            raise PlatformError(
                f"Telegram refused a private message: {exc}", platform=PLATFORM
            ) from exc
        return str(sent.message_id)

    async def is_moderator(self, chat_id: str, user_id: str) -> bool:
        """True when ``user_id`` administers the chat (cached ``admin_ttl`` seconds)."""
        return user_id in await self.administrators(chat_id)

    async def administrators(self, chat_id: str) -> frozenset[str]:
        """The chat's administrators' user ids; empty (not cached) when Telegram fails."""
        now = self.clock()
        cached = self._admins.get(chat_id)
        if cached is not None and now - cached[0] < self.admin_ttl:
            return cached[1]
        try:
            members = await self.bot.get_chat_administrators(chat_id=int(chat_id))
        except TelegramError as exc:
            log.warning("telegram: cannot list administrators of %s: %s", chat_id, exc)
            return frozenset()
        ids = frozenset(str(m.user.id) for m in members)
        self._admins[chat_id] = (now, ids)
        return ids

    def forget_administrators(self, chat_id: str) -> None:
        """Drop the cached administrators of a chat (its rights just changed)."""
        self._admins.pop(chat_id, None)

    def message_link(self, chat_id: str, message_id: str) -> str | None:
        """A ``t.me/c/`` link for supergroup messages, None for basic groups."""
        return message_link(chat_id, message_id)
