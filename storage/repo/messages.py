"""Stored messages: insert-or-ignore, look-up, edit and delete by plain ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Message, PairMessage, QAPair, utcnow

__all__ = ["delete_message", "edit_message", "get_message", "store_message"]


def get_message(session: Session, chat_id: int, external_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.chat_id == chat_id, Message.external_id == external_id)
    ).first()


def store_message(session: Session, message: Message) -> tuple[Message, bool]:
    """Insert ``message`` unless (chat, external id) is stored; returns (row, created)."""
    existing = get_message(session, message.chat_id, message.external_id)
    if existing is not None:
        return existing, False
    try:  # the same update delivered twice at once: the second insert loses, harmlessly
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        stored = get_message(session, message.chat_id, message.external_id)
        if stored is None:
            raise
        return stored, False
    return message, True


def _pairs_of(session: Session, message_id: int) -> list[QAPair]:
    as_answer = select(PairMessage.pair_id).where(PairMessage.message_id == message_id)
    return list(
        session.exec(
            select(QAPair).where(
                col(QAPair.deleted_at).is_(None),
                (col(QAPair.id).in_(as_answer)) | (QAPair.question_message_id == message_id),
            )
        ).all()
    )


def edit_message(
    session: Session, chat_id: int, external_id: str, text: str, edited_at: datetime
) -> list[QAPair]:
    """Update a stored message's text and the pairs built from it; returns those pairs."""
    message = get_message(session, chat_id, external_id)
    if message is None or message.deleted or message.text == text:  # forgotten stays gone
        return []
    message.text = text
    message.edited_at = edited_at
    session.add(message)
    changed = []
    for pair in _pairs_of(session, message.id or 0):
        if pair.question_message_id == message.id:
            pair.question_text = text
        else:
            ids = [
                pm.message_id
                for pm in session.exec(
                    select(PairMessage)
                    .where(PairMessage.pair_id == pair.id)
                    .order_by(col(PairMessage.position))
                ).all()
            ]
            texts = [m.text for i in ids if (m := session.get(Message, i)) is not None]
            pair.answer_text = "\n".join(t for t in texts if t)
        pair.updated_at = utcnow()
        session.add(pair)
        changed.append(pair)
    session.flush()
    return changed


def delete_message(session: Session, chat_id: int, external_id: str) -> list[QAPair]:
    """Mark a message deleted; its pairs leave every future dataset. Returns those pairs."""
    message = get_message(session, chat_id, external_id)
    if message is None:
        return []
    message.deleted = True
    session.add(message)
    pairs = _pairs_of(session, message.id or 0)
    now = utcnow()
    for pair in pairs:
        pair.deleted_at = now
        session.add(pair)
    session.flush()
    return pairs
