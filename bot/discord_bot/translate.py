"""discord.py objects and raw events → the core's neutral events (translation only).

Where a message lives (:class:`Place`) is worked out by :mod:`bot.discord_bot.locate`: a
thread's or forum post's messages belong to the parent channel's chat (``chat_id`` = the
parent channel id) with ``thread_id`` = the thread id, like the DiscordChatExporter reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC

import discord

from bot.core.events import DeleteEvent, EditEvent, MessageEvent, ReactionEvent
from harvest.model import ChatMessage

__all__ = [
    "PLATFORM",
    "Place",
    "delete_event",
    "edit_event",
    "is_content",
    "mentions_bot",
    "message_event",
    "prompt_of",
    "reaction_event",
    "readable_text",
    "reply_target",
]

PLATFORM = "discord"
# Message types that carry what a person (or a bot answering a command) wrote; the rest
# (pins, joins, "started a thread", thread starter copies) are service messages.
_CONTENT_TYPES = frozenset(
    {
        discord.MessageType.default,
        discord.MessageType.reply,
        discord.MessageType.chat_input_command,
        discord.MessageType.context_menu_command,
    }
)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message lives: the chat fanqa stores it in, its thread, the real channel."""

    chat_id: str
    thread_id: str | None
    channel_id: int
    guild_id: int | None = None


def is_content(message: discord.Message) -> bool:
    """A message someone wrote, not a service notice."""
    return message.type in _CONTENT_TYPES


def mentions_bot(message: discord.Message, bot_id: int) -> bool:
    """The message @-mentions the bot or replies to one of the bot's messages."""
    if bot_id in message.raw_mentions:
        return True
    ref = message.reference
    if ref is None:
        return False
    target = ref.resolved if isinstance(ref.resolved, discord.Message) else ref.cached_message
    return target is not None and target.author.id == bot_id


def prompt_of(message: discord.Message, bot_id: int) -> str:
    """The message's text with the bot's mention(s) removed."""
    text = re.sub(rf"<@!?{bot_id}>", " ", message.content)
    return " ".join(text.split())


def readable_text(message: discord.Message) -> str:
    """The content with user mentions as ``@Name``, as DiscordChatExporter writes them, so
    an answer that @mentions its asker links to the question live as on import."""
    names = {user.id: user.display_name for user in message.mentions}

    def name(match: re.Match[str]) -> str:
        found = names.get(int(match.group(1)))
        return match.group(0) if found is None else f"@{found}"

    return re.sub(r"<@!?(\d+)>", name, message.content) if names else message.content


def reply_target(message: discord.Message, place: Place) -> str | None:
    """The id of the message this one replies to, when that message is in the same place."""
    ref = message.reference
    if ref is None or ref.message_id is None or not is_content(message):
        return None
    if ref.type is discord.MessageReferenceType.forward:
        return None  # a forwarded message is a quote from elsewhere, not a reply
    same = {place.channel_id, int(place.chat_id)}
    if ref.channel_id not in same:
        return None  # a reply into another channel cannot pair inside this chat
    return str(ref.message_id)


def message_event(
    message: discord.Message,
    place: Place,
    *,
    bot_id: int,
    reply_to_id: str | None,
    is_root: bool = False,
) -> MessageEvent:
    """A new message as a MessageEvent; ``reply_to_id`` is already resolved by the caller."""
    author = message.author
    content = is_content(message)
    chat_message = ChatMessage(
        platform=PLATFORM,
        chat_id=place.chat_id,
        message_id=str(message.id),
        author_id=str(author.id),
        author_name=author.display_name,
        text=readable_text(message),
        sent_at=message.created_at.astimezone(UTC),
        reply_to_id=reply_to_id if content else None,
        thread_id=place.thread_id,
        is_bot=author.bot or message.webhook_id is not None,
        is_service=not content,
        has_media=bool(message.attachments or message.stickers or message.embeds),
        edited_at=message.edited_at,
        author_roles=tuple(r.name for r in getattr(author, "roles", ())[1:]),
        is_topic_root=is_root,
    )
    return MessageEvent(chat_message, mentions_bot=content and mentions_bot(message, bot_id))


def edit_event(message: discord.Message, place: Place) -> EditEvent | None:
    """An edit of the text, or None for an update that is not one (an embed unfurling)."""
    if message.edited_at is None:
        return None
    return EditEvent(PLATFORM, place.chat_id, str(message.id), message.content, message.edited_at)


def delete_event(message_id: int, place: Place) -> DeleteEvent:
    return DeleteEvent(PLATFORM, place.chat_id, str(message_id))


def reaction_event(payload: discord.RawReactionActionEvent, place: Place) -> ReactionEvent:
    """A reaction added or removed (the cache-free raw event)."""
    member = payload.member
    name = member.display_name if member is not None else str(payload.user_id)
    return ReactionEvent(
        platform=PLATFORM,
        chat_id=place.chat_id,
        message_id=str(payload.message_id),
        user_id=str(payload.user_id),
        user_name=name,
        emoji=str(payload.emoji),
        added=payload.event_type == "REACTION_ADD",
    )
