"""The harvest engine's decisions written down, and the history it is restored from.

The database records what :class:`harvest.engine.HarvestEngine` decided; it never drives
pairing. Pairs are unique per community by source key and by content hash. Here: the row a
pair is stored as (every writer's), the history a restarted engine reads, drops, edits and
deletes; new and grown pairs are written by :class:`storage.repo.pair_batch.PairBatch`
(live and import alike).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from harvest.dedup import content_hash
from harvest.engine import DecisionKind, PairKey, StoredPair
from harvest.engine.edits import PairChange
from harvest.model import ChatMessage, PairedAnswer
from storage.models import Member, Message, PairMessage, PairStatus, QAPair, utcnow
from storage.repo.pairs import record_event, split_for_hash

__all__ = [
    "apply_change",
    "drop_pair",
    "new_pair_row",
    "pair_row_values",
    "recent_messages",
    "source_key",
    "stored_chat_message",
    "stored_pair",
    "thread_starter",
]


def source_key(platform: str, key: PairKey) -> str:
    """The key that makes a pair unique in its community (import and live alike)."""
    chat, question, answer = key
    return f"{platform}:{chat}:{question}:{answer}"


def pair_row_values(pair: PairedAnswer) -> dict[str, object]:
    """The columns every writer sets from a decided pair (texts, method, scores)."""
    confidence = pair.confidence
    return {
        "question_text": pair.question_text,
        "answer_text": pair.answer_text,
        "method": str(pair.method),
        "score": pair.score,
        "confidence": confidence.value if confidence is not None else 0.0,
        "confidence_reason": confidence.as_json() if confidence is not None else None,
    }


def new_pair_row(
    pair: PairedAnswer,
    *,
    community_id: int,
    chat_pk: int,
    key: str,
    chash: str,
    question_message_id: int | None,
    asker_id: int | None,
    answerer_id: int | None,
    now: datetime,
) -> dict[str, object]:
    """A new pending pair's row, as every writer (live, batched live, import) inserts it."""
    return {
        "community_id": community_id,
        "chat_id": chat_pk,
        "source_key": key,
        "question_message_id": question_message_id,
        "asker_id": asker_id,
        "answerer_id": answerer_id,
        "status": str(PairStatus.PENDING),
        "content_hash": chash,
        "split": split_for_hash(chash),
        "golden": False,
        "created_at": now,
        "updated_at": now,
        **pair_row_values(pair),
    }


# -- history --------------------------------------------------------------------------


def _as_chat_message(row: Message, author: Member | None, platform: str, chat: str) -> ChatMessage:
    return ChatMessage(
        platform=platform,
        chat_id=chat,
        message_id=row.external_id,
        author_id=author.external_id if author is not None else "",
        author_name=author.display_name if author is not None else "",
        text=row.text,
        sent_at=row.sent_at,
        reply_to_id=row.reply_to_external_id,
        thread_id=row.thread_external_id,
        is_bot=row.is_bot,
        has_media=row.has_media,
        edited_at=row.edited_at,
    )


def _live(chat_pk: int, *where: Any) -> Any:
    """Live (not deleted) messages of a chat with their authors, filtered by ``where``."""
    return (
        select(Message, Member)
        .join(Member, col(Member.id) == col(Message.author_id), isouter=True)
        .where(Message.chat_id == chat_pk, col(Message.deleted).is_(False), *where)
    )


def _messages(session: Session, query: object, platform: str, chat: str) -> list[ChatMessage]:
    rows = session.exec(query).all()  # type: ignore[call-overload]
    return [_as_chat_message(m, a, platform, chat) for m, a in rows]


def recent_messages(
    session: Session, chat_pk: int, platform: str, chat: str, limit: int
) -> list[ChatMessage]:
    """The chat's latest ``limit`` live messages, oldest first (a restarted engine's window)."""
    query = (
        _live(chat_pk).order_by(col(Message.sent_at).desc(), col(Message.id).desc()).limit(limit)
    )
    return _messages(session, query, platform, chat)[::-1]


def stored_chat_message(
    session: Session, chat_pk: int, platform: str, chat: str, external_id: str
) -> ChatMessage | None:
    """A stored live message by its external id, as the engine sees messages."""
    query = _live(chat_pk, Message.external_id == external_id)
    found = _messages(session, query, platform, chat)
    return found[0] if found else None


def thread_starter(
    session: Session, chat_pk: int, platform: str, chat: str, thread: str
) -> ChatMessage | None:
    """The question of a thread: the message it was started from, else its first one."""
    found = stored_chat_message(session, chat_pk, platform, chat, thread)
    if found is not None:
        return found
    query = (
        _live(chat_pk, Message.thread_external_id == thread)
        .order_by(col(Message.sent_at), col(Message.id))
        .limit(1)
    )
    first = _messages(session, query, platform, chat)
    return first[0] if first else None


# -- drops ---------------------------------------------------------------------------


def drop_pair(
    session: Session, *, community_id: int, platform: str, key: PairKey, reason: str
) -> None:
    """Write the engine's ``drop`` of pair ``key``: a pending pair leaves every dataset
    (a reviewed one stays as it was reviewed)."""
    row = session.exec(
        select(QAPair).where(
            QAPair.community_id == community_id,
            QAPair.source_key == source_key(platform, key),
        )
    ).first()
    if row is None or row.status != PairStatus.PENDING or row.deleted_at is not None:
        return
    drop = PairChange(row.id or 0, DecisionKind.DROP, row.question_text, row.answer_text, reason)
    apply_change(session, row, drop, actor_label="harvest")


# -- edits and deletes ----------------------------------------------------------------


def stored_pair(session: Session, row: QAPair, answer_texts: dict[int, str]) -> StoredPair:
    """``row`` as the engine's edit rules see it; ``answer_texts`` overrides message texts
    by stored id (the texts before an edit)."""
    links = session.exec(
        select(PairMessage.message_id, Message.external_id, Message.text)
        .join(Message, col(Message.id) == col(PairMessage.message_id))
        .where(PairMessage.pair_id == row.id)
        .order_by(col(PairMessage.position))
    ).all()
    question = session.get(Message, row.question_message_id) if row.question_message_id else None
    asker = session.get(Member, row.asker_id) if row.asker_id else None
    return StoredPair(
        pair_id=row.id or 0,
        status=row.status,
        question_id=question.external_id if question is not None else "",
        question_text=row.question_text,
        answer_messages=tuple((ext, answer_texts.get(mid, text)) for mid, ext, text in links),
        answer_text=row.answer_text,
        asker_name=asker.display_name if asker is not None else "",
    )


def apply_change(session: Session, row: QAPair, change: PairChange, *, actor_label: str) -> None:
    """Write an edit / delete decision and its review event (the old texts kept there)."""
    before = {
        "status": row.status,
        "question_text": row.question_text,
        "answer_text": row.answer_text,
    }
    now = utcnow()
    if change.kind is DecisionKind.DROP:
        row.deleted_at = now
        action = "dropped"
    else:
        row.question_text = change.question_text
        row.answer_text = change.answer_text
        row.content_hash = content_hash(row.question_text, row.answer_text)
        if row.status == PairStatus.PENDING:
            row.split = split_for_hash(row.content_hash)
        action = "edited"
        if change.kind is DecisionKind.REOPEN:
            row.status = PairStatus.PENDING
            row.reviewed_by = None
            row.reviewed_at = None
            action = "reopened"
    row.updated_at = now
    session.add(row)
    after = {
        "status": row.status,
        "question_text": row.question_text,
        "answer_text": row.answer_text,
        "reason": change.reason,
    }
    record_event(
        session,
        community_id=row.community_id,
        action=action,
        pair_id=row.id,
        actor_label=actor_label,
        before=before,
        after=after,
    )
