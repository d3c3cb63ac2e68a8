"""Platform-neutral events every adapter (Telegram, Discord, console) translates into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from harvest.model import ChatMessage

__all__ = ["CommandEvent", "DeleteEvent", "EditEvent", "MessageEvent", "ReactionEvent"]


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A new chat message; ``mentions_bot`` when it addresses the bot."""

    message: ChatMessage
    mentions_bot: bool = False


@dataclass(frozen=True, slots=True)
class EditEvent:
    """A message's text changed."""

    platform: str
    chat_id: str
    message_id: str
    text: str
    edited_at: datetime


@dataclass(frozen=True, slots=True)
class DeleteEvent:
    """A message was deleted."""

    platform: str
    chat_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ReactionEvent:
    """An emoji reaction added (``added``) to or removed from a message."""

    platform: str
    chat_id: str
    message_id: str
    user_id: str
    user_name: str
    emoji: str
    added: bool = True


@dataclass(frozen=True, slots=True)
class CommandEvent:
    """A slash command, ``name`` without the slash, ``args`` split on whitespace."""

    platform: str
    chat_id: str
    user_id: str
    user_name: str
    name: str
    args: tuple[str, ...] = field(default=())
    message_id: str | None = None
