"""Snapshots and the model registry: the torch-free parts of the learning loop."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from harvest.errors import ConflictError, TrainingError
from storage.db import session_scope
from storage.models import ModelStatus, ModelVersion, PairStatus, TrainingRun, utcnow
from storage.repo import get_or_create_community
from tests.trainer.test_loop_builders import add_pair, make_community
from trainer.backend import BackendOptions
from trainer.registry import live_model, promote, rollback
from trainer.round import execute_run
from trainer.runs import cancel_run, fail_stale_runs, next_queued_run, queue_run
from trainer.snapshot import read_examples


def _snapshot(engine: Engine, cid: int, out: Path) -> tuple[str, list[int], list[int]]:
    from trainer.snapshot import build_snapshot

    with session_scope(engine) as session:
        snap = build_snapshot(session, cid, out)
        return snap.content_hash, snap.train_pair_ids, snap.eval_pair_ids


def test_snapshot_is_deterministic_and_excludes_deleted_and_unapproved(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Same data → same hash and files; deleted, pending and rejected pairs never appear."""
    cid = make_community(sqlite_engine)
    gone = add_pair(sqlite_engine, cid, "What is the secret plan?", "Forget me.", deleted=True)
    add_pair(sqlite_engine, cid, "Pending question?", "Pending answer.", status=PairStatus.PENDING)
    add_pair(sqlite_engine, cid, "Bad question?", "Bad answer.", status=PairStatus.REJECTED)
    first = _snapshot(sqlite_engine, cid, tmp_path / "a")
    second = _snapshot(sqlite_engine, cid, tmp_path / "b")
    assert first == second
    assert (tmp_path / "a" / "train.jsonl").read_bytes() == (
        tmp_path / "b" / "train.jsonl"
    ).read_bytes()
    _, train_ids, eval_ids = first
    assert (len(train_ids), len(eval_ids)) == (48, 12)
    assert gone not in train_ids + eval_ids
    text = (tmp_path / "a" / "train.jsonl").read_text() + (
        tmp_path / "a" / "eval.jsonl"
    ).read_text()
    assert "Forget me" not in text and "Pending" not in text and "Bad answer" not in text
    example = read_examples(tmp_path / "a" / "eval.jsonl")[0]
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    add_pair(sqlite_engine, cid, "A new question?", "A new answer.")
    assert _snapshot(sqlite_engine, cid, tmp_path / "c")[0] != first[0]


def test_snapshot_holdout_golden_and_top_up(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Golden pairs are held out; a holdout-less set is topped up to min(5, n // 5), stably."""
    with session_scope(sqlite_engine) as session:
        cid = get_or_create_community(session, "small").id or 0
    ids = [add_pair(sqlite_engine, cid, f"question {i}?", f"answer {i}.") for i in range(24)]
    golden = add_pair(sqlite_engine, cid, "golden question?", "golden answer.", golden=True)
    _, train_ids, eval_ids = _snapshot(sqlite_engine, cid, tmp_path / "a")
    assert golden in eval_ids and len(eval_ids) == 5 and len(train_ids) == 20
    assert set(train_ids) | set(eval_ids) == set(ids) | {golden}
    assert _snapshot(sqlite_engine, cid, tmp_path / "b")[2] == eval_ids


def test_snapshot_without_pairs_is_a_training_error(sqlite_engine: Engine, tmp_path: Path) -> None:
    """A community with nothing approved cannot be snapshotted."""
    with session_scope(sqlite_engine) as session:
        cid = get_or_create_community(session, "empty").id or 0
    with pytest.raises(TrainingError, match="approve more pairs"):
        _snapshot(sqlite_engine, cid, tmp_path)


def _models(engine: Engine, cid: int, n: int) -> list[int]:
    with session_scope(engine) as session:
        rows = [ModelVersion(community_id=cid, adapter_path=f"/m/{i}") for i in range(n)]
        session.add_all(rows)
        session.flush()
        return [r.id or 0 for r in rows]


def _statuses(engine: Engine, ids: list[int]) -> list[str]:
    with session_scope(engine) as session:
        return [session.get(ModelVersion, i).status for i in ids]  # type: ignore[union-attr]


def test_promote_retires_the_old_live_model_atomically(sqlite_engine: Engine) -> None:
    """One live model per community; an error after promote() rolls the whole switch back."""
    with session_scope(sqlite_engine) as session:
        cid = get_or_create_community(session, "reg").id or 0
    a, b, c = _models(sqlite_engine, cid, 3)
    with session_scope(sqlite_engine) as session:
        promote(session, a)
    with session_scope(sqlite_engine) as session:
        promote(session, b)
    assert _statuses(sqlite_engine, [a, b, c]) == ["retired", "live", "candidate"]
    with pytest.raises(RuntimeError), session_scope(sqlite_engine) as session:
        promote(session, c)
        raise RuntimeError("crash between the two updates' commit")
    assert _statuses(sqlite_engine, [a, b, c]) == ["retired", "live", "candidate"]
    with session_scope(sqlite_engine) as session:
        assert live_model(session, cid).id == b  # type: ignore[union-attr]


def test_rollback_walks_back_through_history(sqlite_engine: Engine) -> None:
    """rollback: live → retired, the previously live → live; the first model cannot roll back."""
    with session_scope(sqlite_engine) as session:
        cid = get_or_create_community(session, "hist").id or 0
    a, b, c = _models(sqlite_engine, cid, 3)
    for model_id in (a, b, c):
        with session_scope(sqlite_engine) as session:
            promote(session, model_id)
    with session_scope(sqlite_engine) as session:
        assert rollback(session, cid).id == b
    assert _statuses(sqlite_engine, [a, b, c]) == ["retired", "live", "retired"]
    with session_scope(sqlite_engine) as session:
        assert rollback(session, cid).id == a
    with (
        pytest.raises(ConflictError, match="nothing to roll back"),
        session_scope(sqlite_engine) as session,
    ):
        rollback(session, cid)
    assert _statuses(sqlite_engine, [a, b, c]) == [ModelStatus.LIVE, "retired", "retired"]


def test_queue_refuses_a_second_active_run_and_cancels_queued(sqlite_engine: Engine) -> None:
    """One active run per community; cancelling a queued run ends it at once."""
    cid = make_community(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        run = queue_run(session, cid, base_model="x", hyperparameters={})
        with pytest.raises(ConflictError, match="already queued"):
            queue_run(session, cid, base_model="x", hyperparameters={})
        assert cancel_run(session, run.id or 0).status == "cancelled"
        with pytest.raises(ConflictError):
            cancel_run(session, run.id or 0)
        queue_run(session, cid, base_model="x", hyperparameters={})


def test_a_relative_model_folder_is_stored_absolute(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--base-model ./tiny` still names that folder when the run trains elsewhere; a hub id
    stays as it is."""
    (tmp_path / "tiny").mkdir()
    monkeypatch.chdir(tmp_path)
    cid = make_community(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        local = queue_run(session, cid, base_model="tiny", hyperparameters={})
        assert local.base_model == str(tmp_path / "tiny")
        cancel_run(session, local.id or 0)
        hub = queue_run(session, cid, base_model="Qwen/Qwen2.5-0.5B-Instruct", hyperparameters={})
        assert hub.base_model == "Qwen/Qwen2.5-0.5B-Instruct"


def test_runs_without_heartbeat_are_failed(sqlite_engine: Engine) -> None:
    """A running run whose heartbeat is older than the timeout is failed; a fresh one is not."""
    cid = make_community(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        run = queue_run(session, cid, base_model="x", hyperparameters={})
        run.status, run.heartbeat_at = "running", utcnow()
        session.add(run)
    with session_scope(sqlite_engine) as session:
        assert fail_stale_runs(session, 300) == []
        later = utcnow() + timedelta(seconds=301)
        assert [r.id for r in fail_stale_runs(session, 300, now=later)] == [run.id]
    with session_scope(sqlite_engine) as session:
        stored = session.get(TrainingRun, run.id)
        assert (
            stored is not None and stored.status == "failed" and "heartbeat" in (stored.error or "")
        )


def test_a_run_without_data_fails_cleanly_and_workers_find_queued_runs(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Nothing approved: execute_run marks the run failed with the reason; no child starts."""
    with session_scope(sqlite_engine) as session:
        cid = get_or_create_community(session, "bare").id or 0
        run_id = queue_run(session, cid, base_model="x", hyperparameters={}).id or 0
        assert next_queued_run(session).id == run_id  # type: ignore[union-attr]
    run = execute_run(sqlite_engine, run_id, BackendOptions(), runs_dir=tmp_path)
    assert (run.status, run.pid, run.snapshot_id) == ("failed", None, None)
    assert "approve more pairs" in (run.error or "")
    with session_scope(sqlite_engine) as session:
        assert next_queued_run(session) is None
