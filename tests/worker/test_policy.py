"""Whether to train now: pure in now, the stats and the policy; the stats come from the DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import DatasetSnapshot, RunStatus, TrainingRun
from tests.trainer.test_loop_builders import add_pair
from tests.worker.conftest import make_community
from trainer.policy import Decision, TrainPolicy, TrainStats, should_train, training_stats

NOW = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
POLICY = TrainPolicy(min_new_pairs=20, failure_cooldown=timedelta(hours=6))


def test_enough_new_pairs_trains() -> None:
    """20 new approved pairs and nothing else going on: train."""
    assert should_train(NOW, TrainStats(new_pairs=20), POLICY) == Decision(
        True, "20 new approved pair(s) since the last dataset"
    )


def test_too_few_new_pairs_waits() -> None:
    """19 new pairs are not enough; the reason says how many are needed."""
    decision = should_train(NOW, TrainStats(new_pairs=19), POLICY)
    assert (decision.train, "20 needed" in decision.reason) == (False, True)


def test_a_run_in_progress_blocks_training() -> None:
    """A queued or running run means no second one, whatever the data."""
    stats = TrainStats(new_pairs=500, active_run_id=7, active_status="running")
    assert should_train(NOW, stats, POLICY) == Decision(False, "run 7 is already running")


def test_failure_cooldown_ends_after_six_hours() -> None:
    """A failure 5 h 59 min ago blocks; 6 h ago it no longer does."""
    almost = TrainStats(new_pairs=30, last_failure_at=NOW - timedelta(hours=5, minutes=59))
    over = TrainStats(new_pairs=30, last_failure_at=NOW - timedelta(hours=6))
    blocked = should_train(NOW, almost, POLICY)
    assert (blocked.train, "cooling down until 2026-03-01 03:01" in blocked.reason) == (
        False,
        True,
    )
    assert should_train(NOW, over, POLICY).train is True


def test_stats_count_pairs_new_since_the_last_trained_snapshot(sqlite_engine: Engine) -> None:
    """Pairs in the last succeeded run's snapshot are old; failures start the cooldown."""
    cid = make_community(sqlite_engine, pairs=25)
    with session_scope(sqlite_engine) as session:
        first = training_stats(session, cid)
        snap = DatasetSnapshot(
            community_id=cid,
            content_hash="h",
            train_pair_ids=list(range(1, 21)),
            eval_pair_ids=[21, 22],
        )
        session.add(snap)
        session.flush()
        session.add(TrainingRun(community_id=cid, snapshot_id=snap.id, status=RunStatus.SUCCEEDED))
        session.add(TrainingRun(community_id=cid, status=RunStatus.FAILED, finished_at=NOW))
    add_pair(sqlite_engine, cid, "one more?", "yes")
    with session_scope(sqlite_engine) as session:
        later = training_stats(session, cid)
    assert (first.new_pairs, first.approved_pairs, first.last_failure_at) == (25, 25, None)
    assert (later.new_pairs, later.approved_pairs, later.last_failure_at) == (4, 26, NOW)
    assert later.active_run_id is None
