"""One round for every backend: several candidates, the live model's own backend, heartbeats."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.db import session_scope
from storage.models import ModelVersion, RunStatus, TrainingRun
from tests.trainer import scripted_backend
from tests.trainer.test_loop_builders import make_community
from trainer.backend import BackendOptions, make_backend
from trainer.enqueue import queue_round
from trainer.registry import live_model
from trainer.round import execute_run
from trainer.runs import get_run
from trainer.summary import load_summary


def _round(engine: Engine, cid: int, runs: Path, *bases: str) -> TrainingRun:
    options = BackendOptions()
    with session_scope(engine) as session:
        backend = make_backend(scripted_backend.NAME, options)
        run_id = queue_round(session, cid, backend, base_models=list(bases) or None).id or 0
    return execute_run(engine, run_id, options, runs_dir=runs)


def test_two_candidates_are_compared_and_the_best_that_passes_goes_live(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Each candidate trained once, all evaluated on one holdout; the good one is promoted,
    the weak one registered as rejected; the report shows both side by side."""
    made = scripted_backend.install()
    cid = make_community(sqlite_engine)
    run = _round(sqlite_engine, cid, tmp_path, "weak-base", "good-base")
    assert run.status == RunStatus.SUCCEEDED, run.error
    summary = load_summary(run)
    assert made[0].trained_runs == [(run.id, 0), (run.id, 1)]
    assert [c.base_model for c in summary.candidates] == ["weak-base", "good-base"]
    assert (summary.best, summary.promoted, summary.reference_model) == (1, True, "weak-base")
    weak, good = summary.candidates
    assert weak.metrics is not None and good.metrics is not None
    assert good.metrics["chrf"] > 90 > 30 > weak.metrics["chrf"]  # type: ignore[operator]
    assert (weak.passed, good.passed) == (False, True)
    with session_scope(sqlite_engine) as session:
        models = session.exec(select(ModelVersion).order_by(col(ModelVersion.id))).all()
        live = live_model(session, cid)
    assert [(m.base_model, m.status) for m in models] == [
        ("weak-base", "rejected"),
        ("good-base", "live"),
    ]
    assert live is not None and live.id == summary.model_version_id == good.model_version_id
    report = Path(run.out_dir, "report.md").read_text("utf-8")
    assert "| metric | base | candidate 1 | candidate 2 |" in report
    assert "| gate | | FAIL | pass |" in report
    assert Path(run.out_dir, "report.png").read_bytes()[:4] == b"\x89PNG"


def test_the_live_model_is_evaluated_through_its_own_backend(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """The second round compares with the live model (its id, its backend), not a base."""
    scripted_backend.install()
    cid = make_community(sqlite_engine)
    first = _round(sqlite_engine, cid, tmp_path, "good-base")
    second = _round(sqlite_engine, cid, tmp_path, "good-base")
    first_model = load_summary(first).candidates[0].fine_tuned_model
    summary = load_summary(second)
    assert (summary.reference_model, summary.promoted) == (first_model, False)  # no 2 % gain
    assert summary.reference_model_id == load_summary(first).model_version_id


def test_the_heartbeat_beats_through_evaluation(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Each evaluated answer refreshes the run's heartbeat, without any worker around."""
    beats: list[object] = []
    cid = make_community(sqlite_engine)

    def probe() -> None:
        with session_scope(sqlite_engine) as session:
            run = session.exec(select(TrainingRun)).one()
            beats.append(run.heartbeat_at)

    scripted_backend.install(on_generate=probe)
    run = _round(sqlite_engine, cid, tmp_path)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert len(beats) == 2 * 12  # candidate + reference, 12 holdout pairs each
    assert len(set(beats)) >= 20 and beats == sorted(beats)  # type: ignore[type-var]
    with session_scope(sqlite_engine) as session:
        assert get_run(session, run.id or 0).heartbeat_at >= beats[-1]  # type: ignore[operator]
