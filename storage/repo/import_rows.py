"""An import's message rows, written the cheapest way each backend allows, ids kept.

On SQLite the rows go to the driver as tuples in multi-row ``INSERT … ON CONFLICT DO
NOTHING RETURNING`` statements (SQLAlchemy's per-row parameter handling cost more than the
insert); elsewhere through Core. Either way the new rows' ids come back from ``RETURNING``,
so the pairs of a chunk need no second look-up of their messages.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import Member
from storage.repo.messages import insert_messages

__all__ = [
    "IMPORT_CACHE_KIB",
    "MESSAGE_COLUMNS",
    "insert_members",
    "insert_message_rows",
    "no_gc_pause",
    "widen_cache",
]

# SQLite page cache of an importing connection: with the default 2 MiB, a chunk's index pages
# did not fit and a chunk now and then held the write lock 0.14-0.32 s (200k messages);
# with 16 MiB the longest was 0.04 s, at the same rate (+16 MB of memory, flat).
IMPORT_CACHE_KIB = 16_384

# The order of a message row's values (as tuples).
MESSAGE_COLUMNS = (
    "chat_id",
    "platform",
    "external_id",
    "author_id",
    "text",
    "reply_to_external_id",
    "thread_external_id",
    "sent_at",
    "edited_at",
    "deleted",
    "is_question",
    "is_bot",
    "has_media",
    "import_id",
)
_SENT, _EDITED = MESSAGE_COLUMNS.index("sent_at"), MESSAGE_COLUMNS.index("edited_at")
# Rows per statement: 14 parameters each, well under SQLite's 32,766 variables.
_ROWS_PER_STATEMENT = 500
_SQLITE_SQL: dict[int, str] = {}


def _sqlite_sql(rows: int) -> str:
    sql = _SQLITE_SQL.get(rows)
    if sql is None:
        one = f"({', '.join('?' * len(MESSAGE_COLUMNS))})"
        sql = _SQLITE_SQL[rows] = (
            f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES "
            + ", ".join([one] * rows)
            + " ON CONFLICT (chat_id, external_id) DO NOTHING RETURNING id, chat_id, external_id"
        )
    return sql


def _sqlite_time(moment: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (UTC, no offset, microseconds)."""
    tz = moment.tzinfo
    if tz is not UTC and tz is not None and moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def insert_message_rows(
    session: Session, rows: Sequence[tuple[Any, ...]]
) -> list[tuple[int, int, str]]:
    """Insert message rows (values in :data:`MESSAGE_COLUMNS` order), skipping those whose
    (chat, external id) is stored: (id, chat id, external id) of each row inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        out: list[tuple[int, int, str]] = []
        flat: list[Any] = []
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[start : start + _ROWS_PER_STATEMENT]
            flat.clear()
            for row in part:
                values = list(row)
                values[_SENT] = _sqlite_time(row[_SENT])
                edited = row[_EDITED]
                values[_EDITED] = None if edited is None else _sqlite_time(edited)
                flat.extend(values)
            out.extend(cursor.execute(_sqlite_sql(len(part)), flat).fetchall())
        cursor.close()
        return out
    dicts = [dict(zip(MESSAGE_COLUMNS, row, strict=True)) for row in rows]
    ids = insert_messages(session, dicts)  # the live path's multi-row statement
    return [(mid, chat, ext) for (chat, ext), mid in ids.items()]


def insert_members(
    session: Session, community_id: int, names: Mapping[tuple[str, str], tuple[str, bool]]
) -> tuple[list[int], dict[tuple[str, str], int]]:
    """Create the members ``names`` lists ((platform, author) → (name, is bot)) unless they
    exist: the ids created, and every listed member's id by (platform, author)."""
    table: Any = Member.__table__  # type: ignore[attr-defined]
    new = [
        {
            "community_id": community_id,
            "platform": platform,
            "external_id": external,
            "display_name": name[:255],
            "role": "member",
            "is_bot": is_bot,
        }
        for (platform, external), (name, is_bot) in names.items()
    ]
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        index = ["community_id", "platform", "external_id"]
        stmt = insert(table).on_conflict_do_nothing(index_elements=index)
    else:  # pragma: no cover - other databases: plain insert, duplicates filtered upstream
        stmt = table.insert()
    created = list(session.execute(stmt.returning(table.c.id), new).scalars())
    c = table.c
    found = session.execute(
        select(c.platform, c.external_id, c.id).where(
            c.community_id == community_id, c.external_id.in_([e for _, e in names])
        )
    )
    return created, {(platform, ext): mid for platform, ext, mid in found}


def widen_cache(session: Session) -> None:
    """Give the session's SQLite connection an import-sized page cache (no-op elsewhere)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")


@contextmanager
def no_gc_pause() -> Iterator[None]:
    """No cyclic garbage collection while a chunk holds the write lock (a full collection
    over an import's engine window took ~0.1 s of it); collection resumes right after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
