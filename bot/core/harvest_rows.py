"""A batch of live messages: a message staged before it is stored, its row, its outcome."""

from __future__ import annotations

from typing import Any, NamedTuple

from bot.core.outcomes import HarvestOutcome
from harvest.model import ChatMessage
from storage.repo.pair_batch import Ticket

__all__ = ["StagedMessage", "message_row", "outcome_of"]


class StagedMessage(NamedTuple):
    """A message of a batch, its chat and window looked up, before it is stored."""

    msg: ChatMessage
    chat_pk: int
    community_id: int
    window: Any  # the chat's window (bot.core.harvest_memory.ChatWindow)
    role: str
    asks: bool


def message_row(msg: ChatMessage, chat_pk: int, member_id: int, asks: bool) -> dict[str, object]:
    """The ``messages`` row of a live message."""
    return {
        "chat_id": chat_pk,
        "platform": msg.platform,
        "external_id": msg.message_id,
        "author_id": member_id,
        "text": msg.text,
        "reply_to_external_id": msg.reply_to_id,
        "thread_external_id": msg.thread_id,
        "sent_at": msg.sent_at,
        "edited_at": msg.edited_at,
        "deleted": False,
        "is_question": asks,
        "is_bot": msg.is_bot,
        "has_media": msg.has_media,
    }


def outcome_of(row_id: int, is_question: bool, ticket: Ticket) -> HarvestOutcome:
    """What a stored message did, once its batch's pairs are written."""
    applied = ticket.applied()
    return HarvestOutcome(applied.kind, row_id, is_question, applied.pair_ids)
