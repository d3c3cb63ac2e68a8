"""A new member seen by many writers at once becomes one row, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import Member
from storage.repo.communities import ensure_member, get_or_create_community, get_or_create_member

WRITERS = 6


def _race(engine: Engine, make: str) -> list[int]:
    with session_scope(engine) as session:
        cid = get_or_create_community(session, "fund").id or 0
    start = threading.Barrier(WRITERS)

    def sight(i: int) -> int:
        start.wait()
        with session_scope(engine) as session:
            if make == "ensure":
                return ensure_member(session, cid, "telegram", "777", f"Alice {i}")
            return get_or_create_member(session, cid, "telegram", "777", "Alice").id or 0

    with ThreadPoolExecutor(WRITERS) as pool:
        return list(pool.map(sight, range(WRITERS)))


def test_concurrent_first_sightings_share_one_row(engine: Engine) -> None:
    """Six writers meeting member 777 at once (ensure_member, then get_or_create_member)."""
    ids = _race(engine, "ensure") + _race(engine, "get")
    with session_scope(engine) as session:
        rows = session.exec(select(Member).where(Member.external_id == "777")).all()
    assert [len(set(ids)), len(rows)] == [1, 1]
    assert ids[0] == rows[0].id
