"""Translate python-telegram-bot objects into the core's neutral events (no decisions here).

Chat ids: a live supergroup's id is ``-100`` followed by the id a Telegram Desktop export
shows (``-1001234567890`` live, ``1234567890`` in ``result.json``). fanqa stores live chats
under the live id as-is (:func:`telegram_chat_key`); :func:`bare_chat_id` gives the export /
``t.me/c/`` form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import Message, MessageEntity, MessageReactionUpdated, ReactionTypeEmoji

from bot.core.events import CommandEvent, EditEvent, MessageEvent, ReactionEvent
from harvest.model import ChatMessage

__all__ = [
    "PLATFORM",
    "BotIdentity",
    "Translated",
    "bare_chat_id",
    "message_link",
    "telegram_chat_key",
    "to_command_event",
    "to_edit_event",
    "to_message_event",
    "to_reaction_events",
]

PLATFORM = "telegram"
_SUPERGROUP_PREFIX = "-100"


def telegram_chat_key(chat_id: int) -> str:
    """The key a live Telegram chat is stored under: its live id as a string.

    Supergroups and channels have live ids ``-100<id>``; link a chat with that live id
    (``upsert_chat(session, community_id, "telegram", "-1001234567890")``). Exports
    (Telegram Desktop ``result.json``) name the same chat by the bare ``<id>``, see
    :func:`bare_chat_id`.
    """
    return str(chat_id)


def bare_chat_id(chat_id: int | str) -> str:
    """The id without the ``-100`` supergroup prefix (the export's and ``t.me/c/``'s form)."""
    text = str(chat_id)
    return text[len(_SUPERGROUP_PREFIX) :] if text.startswith(_SUPERGROUP_PREFIX) else text


def message_link(chat_id: str, message_id: str) -> str | None:
    """``https://t.me/c/<id>/<message>`` for supergroup messages; None for other chats."""
    if not chat_id.startswith(_SUPERGROUP_PREFIX):
        return None
    return f"https://t.me/c/{bare_chat_id(chat_id)}/{message_id}"


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is (from ``getMe``): enough to see mentions of it and replies to it."""

    id: int
    username: str


@dataclass(frozen=True, slots=True)
class Translated:
    """A new message as the core sees it, the question without the bot's mention, and the
    forum topic it was posted in (None outside forum topics)."""

    event: MessageEvent
    prompt: str
    topic_id: int | None


def _author(message: Message) -> tuple[str, str, bool]:
    user = message.from_user
    if user is not None:
        name = user.full_name or (user.username or "")
        return str(user.id), name, user.is_bot
    sender = message.sender_chat
    if sender is not None:  # anonymous admin or a linked channel posting as the chat
        return str(sender.id), sender.title or "", False
    return "", "", False


def _has_media(message: Message) -> bool:
    return any(
        getattr(message, kind) is not None and getattr(message, kind) != ()
        for kind in ("photo", "document", "video", "audio", "voice", "animation", "sticker")
    )


def _topic_root_reply(message: Message) -> bool:
    """True when the message's "reply" is only the implicit link to its forum topic's root."""
    target = message.reply_to_message
    if not message.is_topic_message or target is None:
        return False
    return target.message_id == message.message_thread_id or target.forum_topic_created is not None


def _mentions(message: Message, me: BotIdentity) -> list[str]:
    """The pieces of text that address the bot (``@username`` or a text mention of it)."""
    found = []
    parsed = message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ) or message.parse_caption_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    wanted = f"@{me.username.lower()}"
    for entity, text in parsed.items():
        by_name = entity.type == MessageEntity.MENTION and text.lower() == wanted
        by_id = entity.type == MessageEntity.TEXT_MENTION and entity.user is not None
        if by_name or (by_id and entity.user is not None and entity.user.id == me.id):
            found.append(text)
    return found


def to_message_event(message: Message, me: BotIdentity) -> Translated | None:
    """A new group message as a MessageEvent; None for service messages (joins, topic
    creation, pins) which carry neither text nor media."""
    text = message.text or message.caption or ""
    media = _has_media(message)
    if not text and not media:
        return None
    author_id, author_name, is_bot = _author(message)
    chat_key = telegram_chat_key(message.chat.id)
    topic_id = message.message_thread_id if message.is_topic_message else None
    root = _topic_root_reply(message)
    target = None if root else message.reply_to_message
    mentions = _mentions(message, me)
    to_me = target is not None and target.from_user is not None and target.from_user.id == me.id
    prompt = text
    for piece in mentions:
        prompt = prompt.replace(piece, " ", 1)
    prompt = re.sub(r"\s+", " ", prompt).strip(" ,:，：")
    chat_message = ChatMessage(
        platform=PLATFORM,
        chat_id=chat_key,
        message_id=str(message.message_id),
        author_id=author_id,
        author_name=author_name,
        text=text,
        sent_at=_aware(message.date),
        reply_to_id=str(target.message_id) if target is not None else None,
        thread_id=str(topic_id) if topic_id is not None else None,
        is_bot=is_bot,
        has_media=media,
        is_topic_root=root,
    )
    event = MessageEvent(chat_message, mentions_bot=bool(mentions) or to_me)
    return Translated(event, prompt, topic_id)


def to_edit_event(message: Message) -> EditEvent:
    """An edited message as an EditEvent (its new text or caption)."""
    edited = message.edit_date or datetime.now(UTC)
    return EditEvent(
        platform=PLATFORM,
        chat_id=telegram_chat_key(message.chat.id),
        message_id=str(message.message_id),
        text=message.text or message.caption or "",
        edited_at=_aware(edited),
    )


def _emojis(reactions: tuple[object, ...]) -> list[str]:
    """The plain emoji reactions (custom emoji and paid stars mean nothing to fanqa)."""
    return [r.emoji for r in reactions if isinstance(r, ReactionTypeEmoji)]


def to_reaction_events(update: MessageReactionUpdated) -> list[ReactionEvent]:
    """One ReactionEvent per emoji removed or added; empty for anonymous reactions."""
    user = update.user
    if user is None:  # an anonymous admin reacts as the chat: nobody to check rights for
        return []
    old, new = _emojis(update.old_reaction), _emojis(update.new_reaction)
    chat_key = telegram_chat_key(update.chat.id)
    name = user.full_name or (user.username or "")

    def event(emoji: str, added: bool) -> ReactionEvent:
        return ReactionEvent(
            PLATFORM, chat_key, str(update.message_id), str(user.id), name, emoji, added
        )

    removed = [event(e, False) for e in old if e not in new]
    return removed + [event(e, True) for e in new if e not in old]


def to_command_event(message: Message, me: BotIdentity) -> CommandEvent | None:
    """``/name[@bot] args`` as a CommandEvent; None when it is addressed to another bot."""
    text = message.text or ""
    if not text.startswith("/"):
        return None
    head, *args = text.split()
    name, _, target = head[1:].partition("@")
    if target and target.lower() != me.username.lower():
        return None
    author_id, author_name, _ = _author(message)
    return CommandEvent(
        platform=PLATFORM,
        chat_id=telegram_chat_key(message.chat.id),
        user_id=author_id,
        user_name=author_name,
        name=name.lower(),
        args=tuple(args),
        message_id=str(message.message_id),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
