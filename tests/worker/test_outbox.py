"""The outbox records each event once, delivers in order, retries with backoff, then gives up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.db import session_scope
from storage.models import Notification, utcnow
from tests.worker.conftest import make_community
from trainer.outbox import MAX_ATTEMPTS, deliver_due, record_now


def _rows(engine: Engine) -> list[Notification]:
    with session_scope(engine) as session:
        return list(session.exec(select(Notification).order_by(col(Notification.id))).all())


async def test_same_key_is_recorded_once_and_delivered_once(engine: Engine) -> None:
    """A restarted worker re-recording "run:1:started:1" changes nothing; delivery is once."""
    cid = make_community(engine, pairs=0)
    recorded = [record_now(engine, cid, f"hello {i}", key="run:1:started:1") for i in range(2)]
    got: list[tuple[int, str, Path | None]] = []

    async def send(community_id: int, text: str, image: Path | None) -> bool:
        got.append((community_id, text, image))
        return True

    counts = [await deliver_due(engine, send), await deliver_due(engine, send)]
    assert (recorded, counts, got) == ([True, False], [1, 0], [(cid, "hello 0", None)])
    assert [(r.status, r.attempts) for r in _rows(engine)] == [("sent", 1)]


async def test_failures_back_off_then_give_up(sqlite_engine: Engine) -> None:
    """A send that keeps failing is retried later and later, then marked failed with why."""
    cid = make_community(sqlite_engine, pairs=0)
    record_now(sqlite_engine, cid, "note", key="k")

    def down(community_id: int, text: str, image: Path | None) -> bool:
        raise ConnectionError("telegram unreachable")

    now = utcnow()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        assert await deliver_due(sqlite_engine, down, now=now) == 0
        row = _rows(sqlite_engine)[0]
        waits.append(round((row.next_attempt_at - now).total_seconds()))
        assert await deliver_due(sqlite_engine, down, now=now) == 0  # not due again yet
        now = row.next_attempt_at + timedelta(seconds=1)
    row = _rows(sqlite_engine)[0]
    assert waits[:4] == [30, 60, 120, 240]
    assert (row.status, row.attempts, row.error) == (
        "failed",
        MAX_ATTEMPTS,
        "ConnectionError: telegram unreachable",
    )


async def test_a_row_claimed_by_another_sender_is_left_alone(sqlite_engine: Engine) -> None:
    """While another bot process holds the lease, this one does not send the row."""
    cid = make_community(sqlite_engine, pairs=0)
    record_now(sqlite_engine, cid, "note", key="k")
    with session_scope(sqlite_engine) as session:
        row = session.exec(select(Notification)).one()
        row.claimed_by, row.claimed_until = "other", utcnow() + timedelta(minutes=1)
        session.add(row)
    sent: list[str] = []
    held = await deliver_due(sqlite_engine, lambda c, t, i: sent.append(t) or True)
    later = await deliver_due(
        sqlite_engine, lambda c, t, i: sent.append(t) or True, now=utcnow() + timedelta(minutes=2)
    )
    assert (held, later, sent) == (0, 1, ["note"])
