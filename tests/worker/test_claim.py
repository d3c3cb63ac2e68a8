"""Claiming is atomic on SQLite and PostgreSQL; runs whose worker died are re-queued once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import RunStatus, TrainingRun, utcnow
from tests.worker.conftest import make_community
from trainer.runs import claim_run, fail_stale_runs, get_run, queue_run


def _queue(engine: Engine, name: str = "fund") -> int:
    cid = make_community(engine, name, pairs=0)
    with session_scope(engine) as session:
        return queue_run(session, cid, base_model="x", hyperparameters={}).id or 0


def test_two_claims_one_winner(engine: Engine) -> None:
    """The first claim gets the run (still queued, owned); the second gets nothing."""
    run_id = _queue(engine)
    first, second = claim_run(engine, "w1"), claim_run(engine, "w2")
    assert first is not None and second is None
    assert (first.id, first.status, first.worker) == (run_id, "queued", "w1")


def test_concurrent_workers_never_share_a_run(engine: Engine) -> None:
    """Eight threads race for three runs: each run is claimed exactly once."""
    ids = {_queue(engine, f"c{i}") for i in range(3)}
    barrier = threading.Barrier(8)
    won: list[int] = []
    lock = threading.Lock()

    def race(n: int) -> None:
        barrier.wait(timeout=10)
        while (run := claim_run(engine, f"w{n}")) is not None:
            with lock:
                won.append(run.id or 0)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(won) == sorted(ids)


def _stale(engine: Engine, run_id: int, **values: object) -> None:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        run.status, run.worker = RunStatus.RUNNING, "dead-worker"
        run.heartbeat_at = utcnow() - timedelta(hours=1)
        for key, value in values.items():
            setattr(run, key, value)
        session.add(run)


def test_a_dead_workers_run_is_requeued_once_then_failed(engine: Engine) -> None:
    """First silence (attempt 1): back in the queue, claimable; second (attempt 2): failed."""
    run_id = _queue(engine)
    _stale(engine, run_id, attempts=1)
    with session_scope(engine) as session:
        first = [(r.id, r.status) for r in fail_stale_runs(session, 300, max_attempts=2)]
    again = claim_run(engine, "w2")
    _stale(engine, run_id, attempts=2)
    with session_scope(engine) as session:
        second = [(r.id, r.status) for r in fail_stale_runs(session, 300, max_attempts=2)]
        final = get_run(session, run_id)
    assert first == [(run_id, "queued")] and again is not None and again.id == run_id
    assert second == [(run_id, "failed")]
    assert "no heartbeat" in (final.error or "") and final.worker == "dead-worker"


def test_hosted_runs_are_requeued_for_reattachment_and_dead_claims_released(
    engine: Engine,
) -> None:
    """A hosted job keeps its id and goes back to the queue however many attempts it had."""
    hosted = _queue(engine, "hosted")
    _stale(engine, hosted, attempts=5, backend="openai", external_job_id="ftjob-1")
    claimed = _queue(engine, "claimed")
    with session_scope(engine) as session:
        run = get_run(session, claimed)
        run.worker, run.heartbeat_at = "dead", utcnow() - timedelta(hours=1)
        session.add(run)
    fresh = _queue(engine, "fresh")
    with session_scope(engine) as session:
        recovered = {r.id for r in fail_stale_runs(session, 300, max_attempts=2)}
        rows = {r.id: r for r in session.exec(select(TrainingRun)).all()}
    assert recovered == {hosted, claimed}
    assert (rows[hosted].status, rows[hosted].external_job_id, rows[hosted].worker) == (
        "queued",
        "ftjob-1",
        None,
    )
    assert (rows[claimed].status, rows[claimed].worker) == ("queued", None)
    assert rows[fresh].worker is None
