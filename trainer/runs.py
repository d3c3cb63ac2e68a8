"""The run queue: queue, claim (exactly one executor per run), cancel, recover, look up.

Executing a claimed run is ``trainer.round.execute_run``; ``trainer.worker.Worker`` is what
claims and executes (``fanqa worker``, ``fanqa run`` and ``fanqa train --wait`` alike).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from harvest.errors import ConflictError, NotFound
from storage.db import session_scope
from storage.models import RunMetric, RunStatus, TrainingRun, utcnow
from storage.repo import get_community_by_id

__all__ = [
    "cancel_run",
    "claim_run",
    "fail_stale_runs",
    "get_run",
    "list_runs",
    "next_queued_run",
    "queue_run",
    "release_run",
    "requeue_run",
    "run_metrics",
]

_ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


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
    """The per-step metric rows of a run, by candidate and step."""
    stmt = (
        select(RunMetric)
        .where(RunMetric.run_id == run_id)
        .order_by(col(RunMetric.candidate), col(RunMetric.step))
    )
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
    base_model: str | Sequence[str],
    hyperparameters: Mapping[str, Any],
    trigger: str = "manual",
    backend: str = "local",
) -> TrainingRun:
    """Queue a run of one or several candidate base models; ConflictError when one is active.

    The caller validates the base models with the backend (``trainer.enqueue.plan_round``).
    """
    get_community_by_id(session, community_id)
    busy = session.exec(
        select(TrainingRun)
        .where(TrainingRun.community_id == community_id)
        .where(col(TrainingRun.status).in_(list(_ACTIVE)))
    ).first()
    if busy is not None:
        raise ConflictError(f"run {busy.id} of this community is already {busy.status}")
    bases = [base_model] if isinstance(base_model, str) else list(base_model)
    bases = [_model_ref(b) for b in bases]
    run = TrainingRun(
        community_id=community_id,
        base_model=bases[0] if bases else "",
        base_models=bases if len(bases) > 1 else None,
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


def claim_run(
    engine: Engine, worker: str, *, now: datetime | None = None, run_id: int | None = None
) -> TrainingRun | None:
    """Atomically claim the oldest unclaimed queued run (or ``run_id``) for ``worker``; None
    when there is none (or another worker has it).

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
    if run_id is not None:
        unclaimed = unclaimed.where(col(TrainingRun.id) == run_id)
    with session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            candidates = list(session.exec(unclaimed.limit(1).with_for_update(skip_locked=True)))
        else:
            candidates = list(session.exec(unclaimed.limit(8)))
        for found in candidates:
            if found is None:
                continue
            result = session.exec(
                update(TrainingRun)
                .where(col(TrainingRun.id) == found)
                .where(col(TrainingRun.status) == RunStatus.QUEUED)
                .where(col(TrainingRun.worker).is_(None))
                .values(worker=worker[:255], heartbeat_at=now)
            )
            if result.rowcount == 1:
                session.commit()
                return get_run(session, found)
    return None


def requeue_run(session: Session, run_id: int) -> TrainingRun:
    """Put a failed or cancelled run back in the queue: its next attempt resumes it (same
    snapshot, the last checkpoint, a hosted job re-attached)."""
    run = get_run(session, run_id)
    if run.status not in (RunStatus.FAILED, RunStatus.CANCELLED):
        raise ConflictError(f"cannot resume run {run_id}: it is {run.status}")
    busy = session.exec(
        select(TrainingRun)
        .where(TrainingRun.community_id == run.community_id)
        .where(col(TrainingRun.status).in_(list(_ACTIVE)))
    ).first()
    if busy is not None:
        raise ConflictError(f"run {busy.id} of this community is already {busy.status}")
    run.status, run.worker, run.pid, run.finished_at = RunStatus.QUEUED, None, None, None
    run.cancel_requested = False
    session.add(run)
    return run


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
