"""The ``ChatPlatform`` port every adapter implements; the core talks only to this."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["ChatPlatform"]


@runtime_checkable
class ChatPlatform(Protocol):
    """What the core needs from a chat platform: send, reply, react, ask who is admin, link,
    message a user in private.

    ``text_limit``: the longest message the platform takes, in UTF-16 code units (Telegram
    4,096; Discord 2,000 characters): answers and review cards are capped to it.
    """

    name: str
    text_limit: int

    async def reply(self, chat_id: str, to_message_id: str, text: str) -> str:
        """Reply to a message; returns the new message's id."""
        ...

    async def send(self, chat_id: str, text: str) -> str:
        """Send a message to a chat; returns its id."""
        ...

    async def send_photo(self, chat_id: str, path: Path, caption: str) -> str:
        """Send an image (a report chart) with a caption; returns the message id."""
        ...

    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        """Put an emoji reaction on a message."""
        ...

    async def is_moderator(self, chat_id: str, user_id: str) -> bool:
        """True when the platform says the user administers the chat."""
        ...

    def message_link(self, chat_id: str, message_id: str) -> str | None:
        """A link to a message (answers cite their sources with it); None when there is none.

        Synchronous and without I/O: it only formats ids the platform already knows.
        """
        ...

    async def send_private(self, user_id: str, text: str) -> str:
        """Send a private message to a user, never in a group (``/desk``'s login link);
        returns its id. PlatformError when the platform will not deliver it."""
        ...
