"""Import runs: begun, heartbeated, finished, or undone (their rows removed in chunks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from harvest.community_config import DEFAULT_REPLY_LINKING
from storage.db import session_scope
from storage.models import (
    Chat,
    Community,
    ImportRun,
    Member,
    Message,
    PairMessage,
    QAPair,
    ReviewEvent,
    utcnow,
)
from storage.repo.communities import get_or_create_community

__all__ = ["RunInfo", "begin_run", "finish_run", "undo_run"]

_UNDO_CHUNK = 2000  # rows deleted per transaction: live writers get in between


@dataclass
class RunInfo:
    """A running import: its id, community, and what it created besides tagged rows."""

    run_id: int
    community_id: int
    patterns: tuple[str, ...] = ()
    reply_linking: str = DEFAULT_REPLY_LINKING
    created_community: bool = False
    created_chats: list[int] = field(default_factory=list)
    created_members: list[int] = field(default_factory=list)


def begin_run(engine: Engine, community: str, source: str, *, stale_after: timedelta) -> RunInfo:
    """Clean up abandoned runs, then record a new one for ``community`` (made if new)."""
    cutoff = utcnow() - stale_after
    with session_scope(engine) as session:
        stale = session.execute(
            select(col(ImportRun.id), col(ImportRun.community_id)).where(
                col(ImportRun.status) == "running", col(ImportRun.heartbeat_at) < cutoff
            )
        ).all()
    for run_id, community_id in stale:
        undo_run(engine, RunInfo(run_id, community_id))
    with session_scope(engine) as session:
        existed = session.execute(
            select(col(Community.id)).where(col(Community.name) == community)
        ).first()
        row = get_or_create_community(session, community)
        run = ImportRun(community_id=row.id or 0, source=source[:1024])
        session.add(run)
        session.flush()
        return RunInfo(
            run.id or 0,
            row.id or 0,
            tuple(row.question_patterns or ()),
            row.reply_linking,
            created_community=existed is None,
        )


def finish_run(engine: Engine, run_id: int, *, done: bool) -> None:
    """Record a heartbeat, or (``done``) that the run finished and its rows are final."""
    now = utcnow()
    values: dict[str, object] = {"heartbeat_at": now}
    if done:
        values.update(status="done", finished_at=now)
    with session_scope(engine) as session:
        session.execute(update(ImportRun).where(col(ImportRun.id) == run_id).values(**values))


def _chunked(engine: Engine, table: type, ids_query: object) -> None:
    """Delete the rows of ``table`` whose id ``ids_query`` selects, a chunk at a time."""
    while True:
        with session_scope(engine) as session:
            ids = list(session.execute(ids_query.limit(_UNDO_CHUNK)).scalars())  # type: ignore[attr-defined]
            if not ids:
                return
            session.execute(delete(table).where(table.id.in_(ids)))  # type: ignore[attr-defined]


def undo_run(engine: Engine, run: RunInfo) -> None:
    """Remove everything run ``run.run_id`` wrote, then the run itself."""
    rid = run.run_id
    pairs = select(col(QAPair.id)).where(col(QAPair.import_id) == rid)
    messages = select(col(Message.id)).where(col(Message.import_id) == rid)
    with session_scope(engine) as session:  # live rows that point at imported messages
        session.execute(
            update(QAPair)
            .where(col(QAPair.question_message_id).in_(messages), col(QAPair.import_id).is_(None))
            .values(question_message_id=None)
        )
    _chunked(
        engine,
        PairMessage,
        select(col(PairMessage.id)).where(
            col(PairMessage.pair_id).in_(pairs) | col(PairMessage.message_id).in_(messages)
        ),
    )
    _chunked(
        engine, ReviewEvent, select(col(ReviewEvent.id)).where(col(ReviewEvent.pair_id).in_(pairs))
    )
    _chunked(engine, QAPair, pairs)
    _chunked(engine, Message, messages)
    with session_scope(engine) as session:
        for member_id in run.created_members:
            used = (
                exists().where(col(Message.author_id) == member_id)
                | exists().where(col(QAPair.asker_id) == member_id)
                | exists().where(col(QAPair.answerer_id) == member_id)
                | exists().where(col(ReviewEvent.actor_id) == member_id)
            )
            session.execute(delete(Member).where(col(Member.id) == member_id, ~used))
        for chat_id in run.created_chats:
            used = exists().where(col(Message.chat_id) == chat_id) | exists().where(
                col(QAPair.chat_id) == chat_id
            )
            session.execute(delete(Chat).where(col(Chat.id) == chat_id, ~used))
        session.execute(delete(ImportRun).where(col(ImportRun.id) == rid))
        if run.created_community:
            cid = run.community_id
            used = (
                exists().where(col(Chat.community_id) == cid)
                | exists().where(col(Member.community_id) == cid)
                | exists().where(col(QAPair.community_id) == cid)
                | exists().where(col(ImportRun.community_id) == cid)
            )
            session.execute(delete(Community).where(col(Community.id) == cid, ~used))
