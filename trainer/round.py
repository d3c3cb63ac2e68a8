"""One training round, whatever the backend: snapshot → train each candidate → evaluate →
gate → register → promote.

``execute_run`` is the only code path from a claimed run to a live model:

1. Begin: the dataset snapshot (kept across attempts), the backend's data preparation
   (hosted: PII scrubbing), the run marked running.
2. Train every candidate base model (``TrainingRun.base_models``) through the run's backend;
   progress, job ids and the heartbeat reach the database through ``RunProgress``. A candidate
   trained by an earlier attempt is not trained again; a hosted one with a job id is followed.
3. Evaluate every candidate and the reference (the live model through *its own* backend, or
   the first candidate's bare base model when nothing is live) on the same holdout with
   ``trainer.evaluate`` — the same metrics for every backend — beating the heartbeat.
4. Gate each candidate (``trainer.gate``, one policy), keep the best that passed, write one
   report with all of them side by side, register a ModelVersion per candidate and promote
   the kept one, in one transaction.

A failure ends the run failed (a cancel: cancelled) with the reason; the live model is never
touched. KeyboardInterrupt / SystemExit fail the run too, except one following a hosted job:
it stays running with the job id, and recovery re-queues it to re-attach to that job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from harvest.errors import ConflictError, FanqaError, InputError, TrainingError
from storage.db import session_scope
from storage.models import (
    DatasetSnapshot,
    ModelStatus,
    ModelVersion,
    RunStatus,
    TrainingRun,
    utcnow,
)
from storage.repo import get_community_by_id
from trainer.backend import (
    Artifact,
    BackendOptions,
    Cancelled,
    CandidateJob,
    PreparedData,
    TrainingBackend,
    make_backend,
)
from trainer.evaluate import EvalMetrics, evaluate
from trainer.gate import DEFAULT_POLICY, GatePolicy, choose, decide
from trainer.metric_store import step_history
from trainer.progress import RunProgress
from trainer.registry import live_model, promote
from trainer.runs import get_run
from trainer.snapshot import EVAL_FILE, TRAIN_FILE, build_snapshot, read_examples
from trainer.summary import load_summary, save_summary

__all__ = ["execute_run"]

log = logging.getLogger(__name__)


@dataclass
class _Plan:
    run_id: int
    community_id: int
    community: str
    bases: list[str]
    hyperparameters: dict[str, Any]
    out: Path
    data_dir: Path
    data: PreparedData
    attempt: int


def _begin(
    engine: Engine, run_id: int, runs_dir: Path, backend: TrainingBackend, resume: bool
) -> _Plan:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        allowed = [RunStatus.QUEUED] + ([RunStatus.FAILED, RunStatus.CANCELLED] if resume else [])
        if run.status not in allowed:
            what = "resume" if resume else "start"
            raise ConflictError(f"cannot {what} run {run_id}: it is {run.status}")
        community = get_community_by_id(session, run.community_id)
        out = Path(run.out_dir) if run.out_dir else runs_dir / str(run_id)
        snapshot = (
            build_snapshot(session, run.community_id, out / "data")
            if run.snapshot_id is None
            else session.get(DatasetSnapshot, run.snapshot_id)
        )
        if snapshot is None:
            raise TrainingError(f"the snapshot of run {run_id} is gone", run_id=run_id)
        train = read_examples(Path(snapshot.path) / TRAIN_FILE)
        valid = read_examples(Path(snapshot.path) / EVAL_FILE)
        if not valid:
            raise TrainingError(
                "the snapshot has no eval examples: nothing to gate the model on; approve "
                "more pairs (a fifth of them, up to 5, are held out)",
                run_id=run_id,
            )
        data = backend.prepare(train, valid)
        if data.scrubbed is not None:
            snapshot.scrubbed = data.scrubbed
            session.add(snapshot)
        summary = load_summary(run)
        summary.dataset_hash, summary.n_train, summary.n_eval = (
            snapshot.content_hash,
            len(data.train),
            len(data.valid),
        )
        summary.scrubbed, summary.scrubbed_examples = data.scrubbed, data.scrubbed_examples
        save_summary(run, summary)
        run.snapshot_id, run.out_dir = snapshot.id, str(out)
        run.status, run.error, run.cancel_requested = RunStatus.RUNNING, None, False
        run.attempts += 1
        run.started_at = run.started_at or utcnow()
        run.finished_at, run.heartbeat_at = None, utcnow()
        session.add(run)
        return _Plan(
            run_id=run_id,
            community_id=run.community_id,
            community=community.name,
            bases=list(run.base_models or [run.base_model]),
            hyperparameters=dict(run.hyperparameters or {}),
            out=out,
            data_dir=Path(snapshot.path),
            data=data,
            attempt=run.attempts,
        )


def _train_all(
    engine: Engine,
    plan: _Plan,
    backend: TrainingBackend,
    on_event: Callable[[str], None] | None,
) -> list[Artifact]:
    artifacts = []
    for index, base in enumerate(plan.bases):
        with session_scope(engine) as session:
            cand = load_summary(get_run(session, plan.run_id)).candidate(index, base)
        if cand.trained:
            artifacts.append(Artifact(base, cand.adapter_dir, cand.fine_tuned_model))
            continue
        out = plan.out if len(plan.bases) == 1 else plan.out / f"candidate-{index + 1}"
        job = CandidateJob(
            run_id=plan.run_id,
            index=index,
            community_id=plan.community_id,
            community=plan.community,
            base_model=base,
            hyperparameters=plan.hyperparameters,
            data_dir=plan.data_dir,
            out_dir=out,
            data=plan.data,
            attempt=plan.attempt,
            resume=plan.attempt > 1,
            job_id=cand.job_id,
            last_event_id=cand.last_event_id,
        )
        progress = RunProgress(engine, plan.run_id, index, on_event, base)
        if len(plan.bases) > 1:
            progress.event(f"candidate {index + 1}/{len(plan.bases)}: {base}")
        artifact = backend.train(job, progress)
        progress.save(
            base_model=artifact.base_model,
            adapter_dir=artifact.adapter_path,
            fine_tuned_model=artifact.remote_model_id,
            trained=True,
        )
        artifacts.append(artifact)
    return artifacts


def _evaluate_all(
    engine: Engine,
    plan: _Plan,
    backend: TrainingBackend,
    options: BackendOptions,
    artifacts: list[Artifact],
) -> tuple[list[EvalMetrics], EvalMetrics, str, int | None]:
    beat = RunProgress(engine, plan.run_id, 0, None)
    with session_scope(engine) as session:
        live = live_model(session, plan.community_id)
        if live is not None:
            ref_backend = make_backend(live.backend, options)
            ref_artifact, ref_id = Artifact.of(live), live.id
        else:
            ref_backend, ref_artifact, ref_id = backend, Artifact(artifacts[0].base_model), None
    valid = plan.data.valid

    def score(which: TrainingBackend, artifact: Artifact) -> EvalMetrics:
        beat.beat()
        return evaluate(
            which.generator(artifact),
            valid,
            max_new_tokens=options.max_new_tokens,
            on_progress=lambda _: beat.beat(),
        )

    try:
        candidates = [score(backend, a) for a in artifacts]
        reference = score(ref_backend, ref_artifact)
    except FanqaError as exc:
        names = ", ".join(a.name for a in artifacts)
        raise TrainingError(
            f"training succeeded ({names}) but evaluating failed: {exc}", run_id=plan.run_id
        ) from exc
    return candidates, reference, ref_artifact.name, ref_id


def _register(
    engine: Engine,
    plan: _Plan,
    backend: TrainingBackend,
    artifacts: list[Artifact],
    evals: list[EvalMetrics],
    reference: EvalMetrics,
    ref_name: str,
    ref_id: int | None,
    policy: GatePolicy,
) -> None:
    from trainer.report import Column, write_report

    decisions = [decide(e.as_dict(), reference.as_dict(), policy) for e in evals]
    best, promoted = choose([e.as_dict() for e in evals], decisions, policy)
    with session_scope(engine) as session:
        columns = [
            Column(a.name, e.as_dict(), d, step_history(session, plan.run_id, i))
            for i, (a, e, d) in enumerate(zip(artifacts, evals, decisions, strict=True))
        ]
    report_md, _ = write_report(
        plan.out,
        columns,
        reference.as_dict(),
        best=best,
        promoted=promoted,
        reference="live" if ref_id is not None else "base",
    )
    with session_scope(engine) as session:
        run = get_run(session, plan.run_id)
        summary = load_summary(run)
        for i, (artifact, ev, decision) in enumerate(zip(artifacts, evals, decisions, strict=True)):
            gate = decision.as_dict() | {"reference_model_id": ref_id, "reference_model": ref_name}
            if decision.promote and i != best:
                gate["note"] = f"passed, but candidate {(best or 0) + 1} was better"
            model = ModelVersion(
                community_id=run.community_id,
                run_id=run.id,
                backend=backend.name,
                base_model=artifact.base_model,
                adapter_path=artifact.adapter_path,
                remote_model_id=artifact.remote_model_id,
                dataset_hash=summary.dataset_hash,
                status=ModelStatus.CANDIDATE,
                metrics={"candidate": ev.as_dict(), "reference": reference.as_dict()},
                gate=gate,
                report_path=str(report_md),
            )
            session.add(model)
            session.flush()
            if i == best and promoted:
                promote(session, model.id or 0)
            else:
                model.status = ModelStatus.REJECTED
                session.add(model)
            cand = summary.candidate(i, artifact.base_model)
            cand.metrics, cand.gate, cand.model_version_id = ev.as_dict(), gate, model.id
            cand.samples = list(ev.generations[:5])
            if i == best:
                summary.model_version_id = model.id
        summary.reference, summary.reference_model = reference.as_dict(), ref_name
        summary.reference_model_id, summary.best, summary.promoted = ref_id, best, promoted
        save_summary(run, summary)
        run.status, run.error = RunStatus.SUCCEEDED, None
        run.finished_at = run.heartbeat_at = utcnow()
        run.pid = None
        session.add(run)


def _end(engine: Engine, run_id: int, status: RunStatus, error: str | None) -> None:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        run.status, run.error, run.finished_at, run.pid = status, error, utcnow(), None
        session.add(run)
    log.info("run %s %s%s", run_id, status, f": {error}" if error else "")


def execute_run(
    engine: Engine,
    run_id: int,
    options: BackendOptions,
    *,
    runs_dir: str | Path,
    policy: GatePolicy | None = None,
    resume: bool = False,
    on_event: Callable[[str], None] | None = None,
) -> TrainingRun:
    """Run ``run_id`` (queued; failed or cancelled with ``resume``) to its end; returns it.

    ``load_summary(run)`` tells what came out. ConflictError when the run may not start.
    """
    with session_scope(engine) as session:
        backend = make_backend(get_run(session, run_id).backend, options)
    try:
        plan = _begin(engine, run_id, Path(runs_dir), backend, resume)
    except (TrainingError, InputError) as exc:  # nothing to train on: failed, nothing sent
        _end(engine, run_id, RunStatus.FAILED, str(exc))
        return _load(engine, run_id)
    try:
        artifacts = _train_all(engine, plan, backend, on_event)
        evals, reference, ref_name, ref_id = _evaluate_all(
            engine, plan, backend, options, artifacts
        )
        _register(
            engine,
            plan,
            backend,
            artifacts,
            evals,
            reference,
            ref_name,
            ref_id,
            policy or DEFAULT_POLICY,
        )
    except Cancelled as exc:
        _end(engine, run_id, RunStatus.CANCELLED, str(exc))
    except FanqaError as exc:
        _end(engine, run_id, RunStatus.FAILED, str(exc))
    except Exception as exc:  # a bug must not leave the run "running" forever
        log.exception("run %s crashed", run_id)
        _end(engine, run_id, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
    except BaseException as exc:  # KeyboardInterrupt, SystemExit: the process is going away
        with session_scope(engine) as session:
            attached = get_run(session, run_id).external_job_id is not None
        if not attached:  # a hosted job goes on: recovery re-queues the run to re-attach
            _end(engine, run_id, RunStatus.FAILED, f"interrupted: {type(exc).__name__}")
        raise
    return _load(engine, run_id)


def _load(engine: Engine, run_id: int) -> TrainingRun:
    with session_scope(engine) as session:
        return get_run(session, run_id)
