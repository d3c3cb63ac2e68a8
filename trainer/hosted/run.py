"""execute_hosted_run: one training run through an OpenAI-compatible fine-tuning API.

1. Begin: the dataset snapshot (as for local runs), the PII scrubber on every example
   (counts in ``summary["scrubbed"]``), the run marked running.
2. Submit: upload the training and validation JSONL, create the job, store its id at once.
   A run that already has a job id is only followed (a restarted worker re-attaches); one
   whose earlier attempt died between creating the job and storing the id finds the job by
   the ``fanqa_run_id`` tag in its metadata, so no second job is ever paid for.
3. Follow: ``retrieve`` + ``list_events`` every ``poll_interval``; step, total steps, last
   loss, per-step metrics and the heartbeat go to the database, new events to ``on_event``;
   ``cancel_requested`` becomes ``jobs.cancel``. Unknown statuses are waited on (and logged)
   up to ``max_wait_s``.
4. Finish: the result file becomes RunMetric rows and ``results.csv``; the fine-tuned model
   and the reference (the live model, or the hosted base model before any) answer the eval
   set through ``chat.completions``; the gate (``HOSTED_POLICY``: chrF) decides; the report
   is written; a ``ModelVersion(backend="openai")`` is created and promoted when it passes.

A failed or cancelled job, or an API that keeps failing, ends the run failed or cancelled
with the reason and leaves the live model alone. KeyboardInterrupt and SystemExit leave the
run running with its job id, for the next worker to re-attach.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from sqlalchemy.engine import Engine
from sqlmodel import col, delete

from harvest.errors import ConflictError, FanqaError, InputError, TrainingError
from storage.db import session_scope
from storage.models import (
    DatasetSnapshot,
    ModelStatus,
    ModelVersion,
    RunMetric,
    RunStatus,
    TrainingRun,
    utcnow,
)
from storage.repo import get_community_by_id
from trainer.gate import GatePolicy, decide
from trainer.hosted.backend import RUN_ID_METADATA, HostedBackend, HostedError
from trainer.hosted.evaluate import HOSTED_POLICY, ChatEval, evaluate_chat
from trainer.hosted.results import event_metrics, model_suffix
from trainer.hosted.scrubbing import scrub_examples
from trainer.metric_store import step_history, store_step
from trainer.metrics import StepMetrics, write_results_csv
from trainer.registry import live_model, promote
from trainer.runs import get_run
from trainer.snapshot import EVAL_FILE, TRAIN_FILE, build_snapshot, read_examples

__all__ = ["BACKEND_NAME", "execute_hosted_run", "job_hyperparameters"]

log = logging.getLogger(__name__)

BACKEND_NAME = "openai"
DEFAULT_SEED = 42
_DONE = ("succeeded", "failed", "cancelled")
_KNOWN = ("validating_files", "queued", "running", *_DONE)


class _GaveUp(TrainingError):
    """The job did not finish within ``max_wait_s``."""


@dataclass
class _Plan:
    """What the later steps need, read once from the database and the snapshot."""

    job_id: str | None
    attempts: int
    community_id: int
    community: str
    base_model: str
    out: Path
    train: list[dict[str, Any]]
    valid: list[dict[str, Any]]
    hyperparameters: dict[str, Any]
    seed: int
    last_event: str | None


def job_hyperparameters(hp: dict[str, Any]) -> dict[str, Any]:
    """The run's hyperparameters the fine-tuning API knows (``epochs`` → ``n_epochs``)."""
    out: dict[str, Any] = {}
    epochs = hp.get("n_epochs", hp.get("epochs"))
    if epochs is not None:
        out["n_epochs"] = epochs if epochs == "auto" else max(1, round(float(epochs)))
    if hp.get("batch_size") is not None:
        out["batch_size"] = (
            hp["batch_size"] if hp["batch_size"] == "auto" else int(hp["batch_size"])
        )
    lrm = hp.get("learning_rate_multiplier")
    if lrm is not None:
        out["learning_rate_multiplier"] = lrm if lrm == "auto" else float(lrm)
    return out


def _begin(
    engine: Engine, run_id: int, runs_dir: Path, backend: HostedBackend, scrub: bool
) -> _Plan:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            raise ConflictError(f"cannot run {run_id}: it is {run.status}")
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
        summary = dict(run.summary or {})
        summary |= {"dataset_hash": snapshot.content_hash, "n_train": len(train)}
        summary |= {"n_eval": len(valid), "scrub": scrub}
        if scrub:
            train, train_counts, train_changed = scrub_examples(train)
            valid, valid_counts, valid_changed = scrub_examples(valid)
            counts = {k: train_counts[k] + valid_counts[k] for k in train_counts}
            snapshot.scrubbed = counts
            session.add(snapshot)
            summary |= {"scrubbed": counts, "scrubbed_examples": train_changed + valid_changed}
        else:
            summary |= {"scrubbed": None, "scrubbed_examples": 0}
        run.snapshot_id = snapshot.id
        run.backend, run.base_model = BACKEND_NAME, run.base_model or backend.base_model
        run.out_dir, run.status, run.error = str(out), RunStatus.RUNNING, None
        run.attempts += 1
        run.started_at = run.started_at or utcnow()
        run.finished_at, run.heartbeat_at = None, utcnow()
        run.summary = summary
        session.add(run)
        hp = dict(run.hyperparameters or {})
        return _Plan(
            job_id=run.external_job_id,
            attempts=run.attempts,
            community_id=run.community_id,
            community=community.name,
            base_model=run.base_model,
            out=out,
            train=train,
            valid=valid,
            hyperparameters=job_hyperparameters(hp),
            seed=int(hp.get("seed", DEFAULT_SEED)),
            last_event=summary.get("last_event_id"),
        )


def _update(engine: Engine, run_id: int, **summary: Any) -> TrainingRun:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        run.summary = dict(run.summary or {}) | summary
        run.heartbeat_at = utcnow()
        session.add(run)
        return run


def _cancel_requested(engine: Engine, run_id: int) -> bool:
    with session_scope(engine) as session:
        return get_run(session, run_id).cancel_requested


def _end(engine: Engine, run_id: int, status: RunStatus, error: str | None) -> None:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        run.status, run.error, run.finished_at = status, error, utcnow()
        session.add(run)
    log.info("hosted run %s %s%s", run_id, status, f": {error}" if error else "")


def _submit(engine: Engine, run_id: int, backend: HostedBackend, plan: _Plan) -> str | None:
    """Create the job (or find the one an earlier attempt created); None when cancelled."""
    if plan.attempts > 1:
        try:
            found = backend.find_job(run_id)
        except HostedError as exc:  # a server without job listing: create a new one
            if exc.transient:
                raise
            log.warning("run %s: cannot look for an earlier job: %s", run_id, exc)
            found = None
        if found is not None:
            log.info("run %s: adopting job %s created by an earlier attempt", run_id, found.id)
            _store_job(engine, run_id, found.id, adopted=True)
            return found.id
    train_file = backend.upload(f"fanqa-run-{run_id}-train.jsonl", plan.train)
    valid_file = backend.upload(f"fanqa-run-{run_id}-valid.jsonl", plan.valid)
    if _cancel_requested(engine, run_id):
        return None
    job = backend.create_job(
        model=plan.base_model,
        training_file=train_file,
        validation_file=valid_file,
        suffix=model_suffix(plan.community, f"community-{plan.community_id}"),
        seed=plan.seed,
        hyperparameters=plan.hyperparameters,
        metadata={RUN_ID_METADATA: str(run_id)},
    )
    _store_job(engine, run_id, job.id, training_file=train_file, validation_file=valid_file)
    return job.id


def _store_job(engine: Engine, run_id: int, job_id: str, **summary: Any) -> None:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        run.external_job_id = job_id
        run.summary = dict(run.summary or {}) | {"job_id": job_id, **summary}
        run.heartbeat_at = utcnow()
        session.add(run)


def _record(
    engine: Engine, run_id: int, job: FineTuningJob, events: Sequence[FineTuningJobEvent]
) -> bool:
    """Store progress and a heartbeat; returns whether a cancel was requested."""
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        for event in events:
            data = event.data if isinstance(event.data, dict) else None
            parsed = event_metrics(event.message, data)
            if parsed is None:
                continue
            row, total = parsed
            store_step(session, run_id, row)
            run.step = max(run.step, row.step)
            run.total_steps = total or run.total_steps
            run.last_loss = row.train_loss if row.train_loss is not None else run.last_loss
        summary = dict(run.summary or {}) | {"job_status": str(job.status)}
        if events:
            summary["last_event_id"] = events[-1].id
        run.summary = summary
        run.heartbeat_at = utcnow()
        session.add(run)
        return run.cancel_requested


def _notify(on_event: Callable[[str], None] | None, message: str) -> None:
    if on_event is None:
        return
    try:
        on_event(message)
    except Exception:  # a notification that fails never stops the run
        log.exception("on_event callback failed")


def _follow(
    engine: Engine,
    run_id: int,
    backend: HostedBackend,
    job_id: str,
    last_event: str | None,
    on_event: Callable[[str], None] | None,
) -> FineTuningJob:
    """Poll the job until it ends; returns it in its final state."""
    started = backend.clock()
    errors, cancel_sent, warned = 0, False, set()
    while True:
        try:
            job = backend.retrieve(job_id)
            events = backend.events_after(job_id, last_event)
        except HostedError as exc:
            errors += 1
            if not exc.transient or errors >= backend.max_poll_errors:
                raise
            log.warning("run %s: %s (attempt %d, will retry)", run_id, exc, errors)
            backend.sleep(backend.poll_interval)
            continue
        errors = 0
        cancel = _record(engine, run_id, job, events)
        if events:
            last_event = events[-1].id
        for event in events:
            _notify(on_event, event.message)
        status = str(job.status)
        if status in _DONE:
            return job
        if status not in _KNOWN and status not in warned:
            warned.add(status)
            log.warning(
                "run %s: job %s has unknown status %r; still waiting", run_id, job_id, status
            )
        if cancel and not cancel_sent:
            try:
                job = backend.cancel(job_id)
                cancel_sent = True
            except HostedError as exc:
                cancel_sent = not exc.transient  # a job that just ended cannot be cancelled
                log.warning("run %s: cancelling job %s failed: %s", run_id, job_id, exc)
            if str(job.status) in _DONE:
                return job
        waited = backend.clock() - started
        if waited > backend.max_wait_s:
            raise _GaveUp(
                f"fine-tuning job {job_id} is still {status} after {waited:.0f} s "
                f"(limit {backend.max_wait_s:.0f} s): gave up and cancelled it",
                run_id=run_id,
            )
        backend.sleep(backend.poll_interval)


def _job_error(job: FineTuningJob) -> str:
    error = job.error
    if error is None:
        return f"fine-tuning job {job.id} failed (the service gave no reason)"
    where = f", parameter {error.param}" if error.param else ""
    return f"fine-tuning job {job.id} failed: {error.message} ({error.code}{where})"


@dataclass
class _Reference:
    generator: Any
    name: str
    model_id: int | None


def _reference(
    engine: Engine, plan: _Plan, backend: HostedBackend, base: str, factory: Any
) -> _Reference:
    """The live model's generator, or the hosted base model's when nothing is live."""
    with session_scope(engine) as session:
        live = live_model(session, plan.community_id)
        if live is not None and live.remote_model_id:
            return _Reference(
                backend.generator(live.remote_model_id), live.remote_model_id, live.id
            )
        if live is not None and live.adapter_path:
            if factory is None:
                from trainer.generation import local_generator_factory

                factory = local_generator_factory()
            name = f"{live.base_model} + {live.adapter_path}"
            return _Reference(factory(live.base_model, live.adapter_path), name, live.id)
    return _Reference(backend.generator(base), base, None)


def _store_results(engine: Engine, run_id: int, out: Path, steps: list[StepMetrics]) -> None:
    write_results_csv(out / "results.csv", steps)
    with session_scope(engine) as session:
        session.exec(delete(RunMetric).where(col(RunMetric.run_id) == run_id))
        for row in steps:
            store_step(session, run_id, row)
        run = get_run(session, run_id)
        run.step = steps[-1].step
        run.total_steps = max(run.total_steps, run.step)
        losses = [s.train_loss for s in steps if s.train_loss is not None]
        run.last_loss = losses[-1] if losses else run.last_loss
        session.add(run)


def _finish(
    engine: Engine,
    run_id: int,
    backend: HostedBackend,
    job: FineTuningJob,
    plan: _Plan,
    policy: GatePolicy,
    reference_factory: Any,
) -> None:
    """Results, evaluation, gate, report, model version (promoted or rejected)."""
    from trainer.report import write_report

    model_id = job.fine_tuned_model
    if not model_id:
        raise TrainingError(f"fine-tuning job {job.id} succeeded without a model id")
    base = job.model or plan.base_model
    _update(engine, run_id, fine_tuned_model=model_id, trained_tokens=job.trained_tokens)
    steps = backend.result_metrics(job)
    if steps:
        _store_results(engine, run_id, plan.out, steps)

    def beat(done: int) -> None:
        if done % 10 == 0:
            _update(engine, run_id)

    try:
        reference = _reference(engine, plan, backend, base, reference_factory)
        evals: list[ChatEval] = [
            evaluate_chat(g, plan.valid, max_new_tokens=backend.max_new_tokens, on_progress=beat)
            for g in (backend.generator(model_id), reference.generator)
        ]
    except FanqaError as exc:
        raise TrainingError(
            f"the job succeeded (model {model_id}) but evaluating it failed: {exc}", run_id=run_id
        ) from exc
    candidate, ref = evals
    with session_scope(engine) as session:
        history = step_history(session, run_id)
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        decision = decide(candidate.as_dict(), ref.as_dict(), policy)
        report_md, _ = write_report(
            plan.out,
            decision,
            candidate,
            ref,
            history,
            reference="live" if reference.model_id is not None else "base",
        )
        summary = dict(run.summary or {})
        model = ModelVersion(
            community_id=run.community_id,
            run_id=run_id,
            backend=BACKEND_NAME,
            base_model=base,
            remote_model_id=model_id,
            dataset_hash=summary.get("dataset_hash", ""),
            status=ModelStatus.CANDIDATE,
            metrics={"candidate": candidate.as_dict(), "reference": ref.as_dict()},
            gate=decision.as_dict()
            | {"reference_model_id": reference.model_id, "reference_model": reference.name},
            report_path=str(report_md),
        )
        session.add(model)
        session.flush()
        if decision.promote:
            promote(session, model.id or 0)
        else:
            model.status = ModelStatus.REJECTED
            session.add(model)
        run.summary = summary | {
            "candidate": candidate.as_dict(),
            "reference": ref.as_dict(),
            "reference_model_id": reference.model_id,
            "reference_model": reference.name,
            "candidate_samples": list(candidate.generations[:5]),
            "model_version_id": model.id,
            "promoted": decision.promote,
            "job_status": "succeeded",
        }
        run.status, run.error = RunStatus.SUCCEEDED, None
        run.finished_at = run.heartbeat_at = utcnow()
        session.add(run)


def _load(engine: Engine, run_id: int) -> TrainingRun:
    with session_scope(engine) as session:
        return get_run(session, run_id)


def execute_hosted_run(
    engine: Engine,
    run_id: int,
    backend: HostedBackend,
    *,
    runs_dir: str | Path,
    policy: GatePolicy | None = None,
    scrub: bool = True,
    on_event: Callable[[str], None] | None = None,
    reference_factory: Any = None,
) -> TrainingRun:
    """Run ``run_id`` (queued, or running and re-attached) to its end; returns the run.

    ``reference_factory`` makes the generator of a live model that is a local LoRA (default
    ``trainer.generation.local_generator_factory()``). ConflictError when the run is neither
    queued nor running.
    """
    try:
        plan = _begin(engine, run_id, Path(runs_dir), backend, scrub)
    except (TrainingError, InputError) as exc:  # nothing to train on: failed, nothing sent
        _end(engine, run_id, RunStatus.FAILED, str(exc))
        return _load(engine, run_id)
    job_id = plan.job_id
    try:
        if job_id is None:
            job_id = _submit(engine, run_id, backend, plan)
        if job_id is None:
            _end(engine, run_id, RunStatus.CANCELLED, "cancelled before the job was created")
            return _load(engine, run_id)
        job = _follow(engine, run_id, backend, job_id, plan.last_event, on_event)
        if job.status == "succeeded":
            _finish(engine, run_id, backend, job, plan, policy or HOSTED_POLICY, reference_factory)
        elif job.status == "cancelled":
            asked = _cancel_requested(engine, run_id)
            reason = "cancelled on request" if asked else f"the service cancelled job {job.id}"
            _end(engine, run_id, RunStatus.CANCELLED, reason)
        else:
            _end(engine, run_id, RunStatus.FAILED, _job_error(job))
    except _GaveUp as exc:
        try:
            backend.cancel(job_id or "")
        except HostedError as cancel_error:
            log.warning("run %s: cancelling the abandoned job failed: %s", run_id, cancel_error)
        _end(engine, run_id, RunStatus.FAILED, str(exc))
    except FanqaError as exc:
        _end(engine, run_id, RunStatus.FAILED, str(exc))
    except Exception as exc:  # a bug must not leave the run "running" forever
        log.exception("hosted run %s crashed", run_id)
        _end(engine, run_id, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
    return _load(engine, run_id)
