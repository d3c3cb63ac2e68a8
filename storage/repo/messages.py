"""Stored messages: insert-or-ignore, look-up, edit and delete by plain ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Chat, Message, PairMessage, QAPair
from storage.repo.communities import find_chat

__all__ = [
    "delete_message",
    "edit_message",
    "get_message",
    "insert_message",
    "insert_messages",
    "pairs_of_message",
    "store_message",
    "stored_message",
]


def get_message(session: Session, chat_id: int, external_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.chat_id == chat_id, Message.external_id == external_id)
    ).first()


_INSERTS: dict[tuple[str, bool], Any] = {}


def _insert_statement(dialect: str, *, keyed: bool = False) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` for ``dialect`` (``keyed``: also
    ``chat_id, external_id``, to match a multi-row insert's ids), built once."""
    stmt = _INSERTS.get((dialect, keyed))
    if stmt is None:
        table: Any = Message.__table__  # type: ignore[attr-defined]
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(table).on_conflict_do_nothing(index_elements=["chat_id", "external_id"])
        columns = (table.c.id, table.c.chat_id, table.c.external_id) if keyed else (table.c.id,)
        stmt = _INSERTS[(dialect, keyed)] = stmt.returning(*columns)
    return stmt


def insert_message(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a message row unless (chat, external id) is stored: its new id, or None.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (no look-up first, no savepoint):
    the live path's per-message cost.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - look up first
        if get_message(session, values["chat_id"], values["external_id"]) is not None:
            return None
        row = Message(**values)
        session.add(row)
        session.flush()
        return row.id
    # On the session's connection (same transaction), without the ORM's execute layer.
    found = session.connection().execute(_insert_statement(dialect), values).scalar()
    return None if found is None else int(found)


def insert_messages(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """Insert message rows, skipping those whose (chat, external id) is stored: the new ids
    by (chat, external id). One multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for
    a batch of live messages (rows must not repeat a (chat, external id))."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - one by one
        out = {}
        for values in rows:
            found = insert_message(session, values)
            if found is not None:
                out[(values["chat_id"], values["external_id"])] = found
        return out
    params: Any = rows[0] if len(rows) == 1 else rows  # one row: no executemany machinery
    result = session.connection().execute(_insert_statement(dialect, keyed=True), params)
    return {(chat, ext): int(mid) for mid, chat, ext in result}


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


def pairs_of_message(session: Session, message_id: int) -> list[QAPair]:
    """Live pairs whose question is, or whose answer includes, stored message ``message_id``."""
    as_answer = select(PairMessage.pair_id).where(PairMessage.message_id == message_id)
    return list(
        session.exec(
            select(QAPair)
            .where(
                col(QAPair.deleted_at).is_(None),
                (col(QAPair.id).in_(as_answer)) | (QAPair.question_message_id == message_id),
            )
            .order_by(col(QAPair.id))
        ).all()
    )


def edit_message(
    session: Session, chat_id: int, external_id: str, text: str, edited_at: datetime
) -> tuple[Message, str] | None:
    """Store a message's new text; (row, old text), or None when unknown or unchanged.

    What the edit does to pairs is the harvest engine's decision
    (:func:`harvest.engine.decide_edit`), written by ``storage.repo.harvested``.
    """
    message = get_message(session, chat_id, external_id)
    if message is None or message.deleted or message.text == text:  # forgotten stays gone
        return None
    old = message.text
    message.text = text
    message.edited_at = edited_at
    session.add(message)
    session.flush()
    return message, old


def delete_message(session: Session, chat_id: int, external_id: str) -> Message | None:
    """Mark a message deleted (its pairs are dropped by the engine's decision)."""
    message = get_message(session, chat_id, external_id)
    if message is None:
        return None
    message.deleted = True
    session.add(message)
    session.flush()
    return message


def stored_message(
    session: Session, platform: str, chat_external_id: str, message_external_id: str
) -> tuple[Chat, Message] | None:
    """The chat and stored message an edit or delete refers to, if fanqa has both."""
    chat = find_chat(session, platform, chat_external_id)
    if chat is None:
        return None
    row = get_message(session, chat.id or 0, message_external_id)
    return None if row is None else (chat, row)
