"""Training runs: queue, execute in a child process (``trainer.job``), gate, register.

The parent never imports torch: the child trains, evaluates candidate and reference
(the live model, or the bare base model when none is live) and writes metrics into the run's
``summary``. The parent waits, then decides with the gate, writes the report and creates the
ModelVersion (promoted to live, or rejected). A child that dies (non-zero exit, a signal)
marks the run failed (or cancelled when that was asked) and touches no model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from harvest.errors import ConflictError, InputError, NotFound, TrainingError
from storage.db import session_scope
from storage.models import (
    ModelStatus,
    ModelVersion,
    RunMetric,
    RunStatus,
    TrainingRun,
    utcnow,
)
from storage.repo import get_community_by_id
from trainer.gate import GatePolicy, decide
from trainer.job import DB_URL_ENV
from trainer.metric_store import step_history
from trainer.registry import promote
from trainer.snapshot import build_snapshot

__all__ = [
    "DEFAULT_POLICY",
    "cancel_run",
    "claim_run",
    "execute_run",
    "fail_stale_runs",
    "get_run",
    "list_runs",
    "next_queued_run",
    "queue_run",
    "release_run",
    "run_metrics",
]

# A shuffled-answers model passes on loss alone; question_gain catches it. Calibration of the
# floor: on the demo data (128 train / 14 holdout pairs, tiny model) a model trained on
# shuffled answers scores 0.02 and the real one 0.27 (its holdout loss 0.25 vs 0.28: loss alone
# cannot tell them apart); on the synthetic test set shuffled ≈ 0 and real > 0.5. Long answers
# dilute the gain (the question decides the first tokens, the rest follows from the answer's
# own prefix), so the floor sits well under what real models reach.
DEFAULT_POLICY = GatePolicy(primary_metric="loss", margin=0.02, floors={"question_gain": 0.15})
_ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
_REPO_ROOT = Path(__file__).resolve().parents[1]


def get_run(session: Session, run_id: int) -> TrainingRun:
    """The run ``run_id``; NotFound when there is none."""
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise NotFound(f"no training run with id {run_id}", kind="run", key=run_id)
    return run


def list_runs(
    session: Session, community_id: int | None = None, limit: int = 20
) -> list[TrainingRun]:
    """Runs, newest first."""
    stmt = select(TrainingRun).order_by(col(TrainingRun.id).desc()).limit(limit)
    if community_id is not None:
        stmt = stmt.where(TrainingRun.community_id == community_id)
    return list(session.exec(stmt).all())


def run_metrics(session: Session, run_id: int) -> list[RunMetric]:
    """The per-step metric rows of a run, by step."""
    stmt = select(RunMetric).where(RunMetric.run_id == run_id).order_by(col(RunMetric.step))
    return list(session.exec(stmt).all())


def _model_ref(base_model: str) -> str:
    """A local model folder as an absolute path (the run trains in another process and
    folder); a hub id or hosted model name as it is."""
    path = Path(base_model).expanduser()
    return str(path.resolve()) if base_model and path.exists() else base_model


def queue_run(
    session: Session,
    community_id: int,
    *,
    base_model: str,
    hyperparameters: Mapping[str, Any],
    trigger: str = "manual",
    backend: str = "local",
) -> TrainingRun:
    """Queue a run (local LoRA or a hosted ``backend``); ConflictError when one is active."""
    get_community_by_id(session, community_id)
    busy = session.exec(
        select(TrainingRun)
        .where(TrainingRun.community_id == community_id)
        .where(col(TrainingRun.status).in_(list(_ACTIVE)))
    ).first()
    if busy is not None:
        raise ConflictError(f"run {busy.id} of this community is already {busy.status}")
    run = TrainingRun(
        community_id=community_id,
        base_model=_model_ref(base_model),
        hyperparameters=dict(hyperparameters),
        trigger=trigger,
        backend=backend,
    )
    session.add(run)
    session.flush()
    return run


def cancel_run(session: Session, run_id: int) -> TrainingRun:
    """Ask a run to stop: a queued one is cancelled now, a running one at its next step."""
    run = get_run(session, run_id)
    if run.status == RunStatus.QUEUED:
        run.status = RunStatus.CANCELLED
        run.finished_at = utcnow()
    elif run.status == RunStatus.RUNNING:
        run.cancel_requested = True
    else:
        raise ConflictError(f"run {run_id} is already {run.status}")
    session.add(run)
    return run


def fail_stale_runs(
    session: Session,
    timeout_s: float,
    *,
    now: datetime | None = None,
    max_attempts: int = 0,
) -> list[TrainingRun]:
    """Recover runs whose worker stopped heart-beating for ``timeout_s``; returns them.

    A running run that has had fewer than ``max_attempts`` attempts (0, the default: never)
    goes back to the queue (its next start resumes from the last checkpoint on the same
    snapshot); one that used them up is failed. A hosted run with an ``external_job_id`` is
    always re-queued: the job goes on at the provider, and the next worker re-attaches to it
    instead of starting a new one.
    A queued run claimed by a worker that died before starting it is released.
    """
    now = now or utcnow()
    stale = []
    active = col(TrainingRun.status).in_([RunStatus.RUNNING, RunStatus.QUEUED])
    for run in session.exec(select(TrainingRun).where(active)):
        if run.status == RunStatus.QUEUED and run.worker is None:
            continue
        beat = run.heartbeat_at or run.started_at or run.created_at
        if beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        if (now - beat).total_seconds() <= timeout_s:
            continue
        why = f"no heartbeat for {timeout_s:g}s: the worker or training process died"
        if run.status == RunStatus.QUEUED:  # claimed, never started
            run.worker = None
        elif run.external_job_id or run.attempts < max_attempts:
            run.status, run.worker, run.pid = RunStatus.QUEUED, None, None
            run.error = f"{why}; re-queued"
        else:
            run.status, run.finished_at, run.pid = RunStatus.FAILED, now, None
            run.error = why
        session.add(run)
        stale.append(run)
    return stale


def claim_run(engine: Engine, worker: str, *, now: datetime | None = None) -> TrainingRun | None:
    """Atomically claim the oldest unclaimed queued run for ``worker``; None when there is none.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent workers never wait on each
    other. SQLite: a conditional ``UPDATE … WHERE status='queued' AND worker IS NULL`` whose
    row count says who won. The run stays ``queued`` with ``worker`` set (and a heartbeat) until
    ``execute_run`` starts it; ``fail_stale_runs`` releases a claim whose worker died.
    """
    now = now or utcnow()
    unclaimed = (
        select(TrainingRun.id)
        .where(TrainingRun.status == RunStatus.QUEUED)
        .where(col(TrainingRun.worker).is_(None))
        .order_by(col(TrainingRun.created_at), col(TrainingRun.id))
    )
    with session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            candidates = list(session.exec(unclaimed.limit(1).with_for_update(skip_locked=True)))
        else:
            candidates = list(session.exec(unclaimed.limit(8)))
        for run_id in candidates:
            if run_id is None:
                continue
            result = session.exec(
                update(TrainingRun)
                .where(col(TrainingRun.id) == run_id)
                .where(col(TrainingRun.status) == RunStatus.QUEUED)
                .where(col(TrainingRun.worker).is_(None))
                .values(worker=worker[:255], heartbeat_at=now)
            )
            if result.rowcount == 1:
                session.commit()
                return get_run(session, run_id)
    return None


def release_run(session: Session, run_id: int, note: str) -> TrainingRun:
    """Put a run this worker stopped on purpose (shutdown) back in the queue, attempt refunded."""
    run = get_run(session, run_id)
    run.status, run.worker, run.pid, run.finished_at = RunStatus.QUEUED, None, None, None
    run.attempts = max(0, run.attempts - 1)
    run.error = note
    session.add(run)
    return run


def next_queued_run(session: Session) -> TrainingRun | None:
    """The oldest queued run (what a worker executes next), or None."""
    stmt = (
        select(TrainingRun)
        .where(TrainingRun.status == RunStatus.QUEUED)
        .order_by(col(TrainingRun.created_at), col(TrainingRun.id))
    )
    return session.exec(stmt).first()


def _start(engine: Engine, run_id: int, runs_dir: Path, resume: bool) -> None:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        allowed = (
            (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.QUEUED)
            if resume
            else (RunStatus.QUEUED,)
        )
        if run.status not in allowed:
            what = "resume" if resume else "start"
            raise ConflictError(f"cannot {what} run {run_id}: it is {run.status}")
        out = runs_dir / str(run_id)
        run.out_dir = str(out)
        if run.snapshot_id is None or not resume:
            run.snapshot_id = build_snapshot(session, run.community_id, out / "data").id
        run.status = RunStatus.RUNNING
        run.cancel_requested = False
        run.error = None
        run.attempts += 1
        run.started_at = run.started_at or utcnow()
        run.finished_at = None
        run.heartbeat_at = utcnow()
        session.add(run)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"training process was killed by {name}"
    return f"training process exited with status {code}"


def _child(engine: Engine, run_id: int, device: str | None, resume: bool) -> int:
    url = engine.url.render_as_string(hide_password=False)
    # The URL (maybe with a password) travels in the environment, never on the command line.
    command = [sys.executable, "-m", "trainer.job", str(run_id)]
    if device:
        command += ["--device", device]
    if resume:
        command.append("--resume")
    env = dict(os.environ)
    env[DB_URL_ENV] = url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(command, env=env, cwd=str(_REPO_ROOT))
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        run.pid = process.pid
        session.add(run)
    return process.wait()


def _register(session: Session, run: TrainingRun, policy: GatePolicy) -> ModelVersion:
    from trainer.report import write_report

    summary = dict(run.summary or {})
    candidate, reference = summary["candidate"], summary["reference"]
    decision = decide(candidate, reference, policy)
    report_md, _ = write_report(
        Path(run.out_dir),
        decision,
        candidate,
        reference,
        step_history(session, run.id or 0),
        reference="live" if summary.get("reference_model_id") else "base",
    )
    snapshot_hash = summary.get("dataset_hash", "")
    model = ModelVersion(
        community_id=run.community_id,
        run_id=run.id,
        backend=run.backend,
        base_model=run.base_model,
        adapter_path=summary["adapter_dir"],
        dataset_hash=snapshot_hash,
        status=ModelStatus.CANDIDATE,
        metrics={"candidate": candidate, "reference": reference},
        gate=decision.as_dict() | {"reference_model_id": summary.get("reference_model_id")},
        report_path=str(report_md),
    )
    session.add(model)
    session.flush()
    if decision.promote:
        promote(session, model.id or 0)
    else:
        model.status = ModelStatus.REJECTED
        session.add(model)
    run.summary = summary | {"model_version_id": model.id, "promoted": decision.promote}
    return model


def execute_run(
    engine: Engine,
    run_id: int,
    *,
    runs_dir: str | Path,
    device: str | None = None,
    policy: GatePolicy | None = None,
    resume: bool = False,
) -> TrainingRun:
    """Run ``run_id`` to its end in a child process and register the result; returns the run.

    ``resume=True`` continues a failed or cancelled run from the last checkpoint in its
    ``runs_dir/<id>`` folder, on the same snapshot. A dead child leaves the run failed (with
    the reason in ``error``) and the live model as it was.
    """
    try:
        _start(engine, run_id, Path(runs_dir), resume)
    except (TrainingError, InputError) as exc:  # no data to snapshot: the run fails, cleanly
        with session_scope(engine) as session:
            run = get_run(session, run_id)
            run.status, run.error, run.finished_at = RunStatus.FAILED, str(exc), utcnow()
            session.add(run)
        with session_scope(engine) as session:
            return get_run(session, run_id)
    try:
        code = _child(engine, run_id, device, resume)
    except BaseException as exc:  # KeyboardInterrupt included: never leave a "running" orphan
        with session_scope(engine) as session:
            run = get_run(session, run_id)
            run.status, run.error, run.finished_at = RunStatus.FAILED, repr(exc), utcnow()
            session.add(run)
        raise
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        if code != 0:
            run.status = RunStatus.CANCELLED if run.cancel_requested else RunStatus.FAILED
            run.error = run.error or _describe_exit(code)
        else:
            try:
                _register(session, run, policy or DEFAULT_POLICY)
                run.status = RunStatus.SUCCEEDED
            except Exception as exc:  # a broken summary or report: the run failed, no model
                session.rollback()
                run = get_run(session, run_id)
                run.status, run.error = RunStatus.FAILED, f"registering the model failed: {exc}"
        run.finished_at = utcnow()
        run.pid = None
        session.add(run)
    with session_scope(engine) as session:
        return get_run(session, run_id)
