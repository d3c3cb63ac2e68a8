"""The "openai" backend: fine-tuning through any OpenAI-compatible API.

1. Prepare: the PII scrubber on every example (counts go to the run's summary).
2. Submit: upload the training and validation JSONL, create the job, store its id at once.
   A candidate that already has a job id is only followed (a restarted worker re-attaches);
   one whose earlier attempt died between creating the job and storing the id finds the job
   by the ``fanqa_run_id`` tag in its metadata, so no second job is ever paid for.
3. Follow: ``retrieve`` + ``list_events`` every ``poll_interval``; steps and the heartbeat go
   through ``Progress``; a cancel asked for becomes ``jobs.cancel``. Unknown statuses are
   waited on (and logged) up to ``max_wait_s``, then the job is cancelled and the run fails.
4. Done: the result file's per-step rows, and the fine-tuned model id as the artifact.
   Evaluation, the gate and promotion are ``trainer.round``'s, as for every backend.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from openai.types.fine_tuning import FineTuningJob
from sqlmodel import Session

from harvest.errors import InputError, TrainingError
from storage.models import TrainingRun
from trainer.backend import (
    Artifact,
    BackendOptions,
    Cancelled,
    CandidateJob,
    PreparedData,
    Progress,
)
from trainer.generation import Generator
from trainer.hosted.backend import RUN_ID_METADATA, HostedBackend, HostedError
from trainer.hosted.results import event_metrics, model_suffix
from trainer.hosted.scrubbing import scrub_examples
from trainer.metrics import write_results_csv

__all__ = ["BACKEND_NAME", "HostedTraining", "job_hyperparameters", "job_tag"]

log = logging.getLogger(__name__)

BACKEND_NAME = "openai"
DEFAULT_SEED = 42
_DONE = ("succeeded", "failed", "cancelled")
_KNOWN = ("validating_files", "queued", "running", *_DONE)


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


def job_tag(run_id: int, index: int) -> str:
    """The metadata tag of a candidate's job: the run id (``7``), then ``7.1``, ``7.2``…"""
    return str(run_id) if index == 0 else f"{run_id}.{index}"


def _job_error(job: FineTuningJob) -> str:
    error = job.error
    if error is None:
        return f"fine-tuning job {job.id} failed (the service gave no reason)"
    where = f", parameter {error.param}" if error.param else ""
    return f"fine-tuning job {job.id} failed: {error.message} ({error.code}{where})"


class HostedTraining:
    """``TrainingBackend`` "openai" (see the module docstring)."""

    name = BACKEND_NAME

    def __init__(self, options: BackendOptions, api: HostedBackend | None = None) -> None:
        self.options = options
        self._api = api

    @property
    def api(self) -> HostedBackend:
        """The API client, made on first use."""
        if self._api is None:
            options = self.options
            if options.hosted is not None:
                self._api = options.hosted()
            elif options.settings is not None:
                self._api = HostedBackend.from_settings(
                    options.settings, poll_interval=options.settings.hosted_poll_s
                )
            else:
                raise InputError(
                    "the hosted backend is not configured: set FANQA_OPENAI_API_KEY",
                    field="backend",
                )
        return self._api

    def default_base_model(self) -> str:
        return self.options.hosted_base_model

    def validate_base_model(self, base_model: str) -> str:
        if not base_model.strip():
            raise InputError("a hosted base model name is empty", field="base_model")
        return base_model.strip()

    def hyperparameters(
        self, session: Session, community_id: int, base_model: str, profile: str = "auto"
    ) -> dict[str, Any]:
        return {}  # the provider picks its own unless told otherwise

    def prepare(
        self, train: Sequence[dict[str, Any]], valid: Sequence[dict[str, Any]]
    ) -> PreparedData:
        if not self.options.scrub:
            return PreparedData(list(train), list(valid))
        train_out, train_counts, train_changed = scrub_examples(list(train))
        valid_out, valid_counts, valid_changed = scrub_examples(list(valid))
        counts = {k: train_counts[k] + valid_counts[k] for k in train_counts}
        return PreparedData(train_out, valid_out, counts, train_changed + valid_changed)

    def train(self, job: CandidateJob, progress: Progress) -> Artifact:
        job_id = job.job_id or self._submit(job, progress)
        final = self._follow(job, job_id, progress)
        status = str(final.status)
        if status == "cancelled":
            asked = progress.cancel_requested()
            raise Cancelled(
                "cancelled on request" if asked else f"the service cancelled job {final.id}",
                run_id=job.run_id,
            )
        if status != "succeeded":
            raise TrainingError(_job_error(final), run_id=job.run_id)
        if not final.fine_tuned_model:
            raise TrainingError(f"fine-tuning job {final.id} succeeded without a model id")
        steps = self.api.result_metrics(final)
        if steps:
            write_results_csv(job.out_dir / "results.csv", steps)
            for row in steps:
                progress.step(row, None)
        progress.save(
            fine_tuned_model=final.fine_tuned_model,
            details={"trained_tokens": final.trained_tokens, "job_status": "succeeded"},
        )
        return Artifact(final.model or job.base_model, remote_model_id=final.fine_tuned_model)

    def _submit(self, job: CandidateJob, progress: Progress) -> str:
        api, tag = self.api, job_tag(job.run_id, job.index)
        if job.attempt > 1:
            try:
                found = api.find_job(tag)
            except HostedError as exc:  # a server without job listing: create a new one
                if exc.transient:
                    raise
                log.warning("run %s: cannot look for an earlier job: %s", job.run_id, exc)
                found = None
            if found is not None:
                log.info("run %s: adopting job %s of an earlier attempt", job.run_id, found.id)
                progress.save(job_id=found.id, details={"adopted": True})
                return found.id
        train_file = api.upload(f"fanqa-run-{tag}-train.jsonl", job.data.train)
        valid_file = api.upload(f"fanqa-run-{tag}-valid.jsonl", job.data.valid)
        if progress.cancel_requested():
            raise Cancelled("cancelled before the job was created", run_id=job.run_id)
        hp = dict(job.hyperparameters)
        created = api.create_job(
            model=job.base_model,
            training_file=train_file,
            validation_file=valid_file,
            suffix=model_suffix(job.community, f"community-{job.community_id}"),
            seed=int(hp.get("seed", DEFAULT_SEED)),
            hyperparameters=job_hyperparameters(hp),
            metadata={RUN_ID_METADATA: tag},
        )
        details = {"training_file": train_file, "validation_file": valid_file}
        progress.save(job_id=created.id, details=details)
        return created.id

    def _follow(self, job: CandidateJob, job_id: str, progress: Progress) -> FineTuningJob:
        """Poll the job until it ends; returns it in its final state."""
        api, run_id = self.api, job.run_id
        started, last_event = api.clock(), job.last_event_id
        errors, cancel_sent, warned = 0, False, set()
        while True:
            try:
                current = api.retrieve(job_id)
                events = api.events_after(job_id, last_event)
            except HostedError as exc:
                errors += 1
                if not exc.transient or errors >= api.max_poll_errors:
                    raise
                log.warning("run %s: %s (attempt %d, will retry)", run_id, exc, errors)
                api.sleep(api.poll_interval)
                continue
            errors = 0
            for event in events:
                data = event.data if isinstance(event.data, dict) else None
                parsed = event_metrics(event.message, data)
                if parsed is not None:
                    progress.step(*parsed)
            if events:  # stored before anyone hears of them: a re-attach never repeats them
                last_event = events[-1].id
                progress.save(last_event_id=last_event, details={"job_status": str(current.status)})
            else:
                progress.beat()
            for event in events:
                progress.event(event.message)
            status = str(current.status)
            if status in _DONE:
                return current
            if status not in _KNOWN and status not in warned:
                warned.add(status)
                log.warning("run %s: job %s has unknown status %r; waiting", run_id, job_id, status)
            if progress.cancel_requested() and not cancel_sent:
                try:
                    current = api.cancel(job_id)
                    cancel_sent = True
                except HostedError as exc:
                    cancel_sent = not exc.transient  # a job that just ended cannot be cancelled
                    log.warning("run %s: cancelling job %s failed: %s", run_id, job_id, exc)
                if str(current.status) in _DONE:
                    return current
            waited = api.clock() - started
            if waited > api.max_wait_s:
                try:
                    api.cancel(job_id)
                except HostedError as exc:
                    log.warning("run %s: cancelling the abandoned job failed: %s", run_id, exc)
                raise TrainingError(
                    f"fine-tuning job {job_id} is still {status} after {waited:.0f} s "
                    f"(limit {api.max_wait_s:.0f} s): gave up and cancelled it",
                    run_id=run_id,
                )
            api.sleep(api.poll_interval)

    def stop(self, run: TrainingRun) -> None:
        """Nothing to stop here: the job goes on at the provider and is re-attached later."""

    def generator(self, artifact: Artifact) -> Generator:
        return self.api.generator(artifact.remote_model_id or artifact.base_model)
