"""HostedBackend: the few OpenAI fine-tuning API calls fanqa makes, with errors wrapped.

Any OpenAI-compatible provider works: ``OPENAI_BASE_URL`` (or ``FANQA_OPENAI_BASE_URL``)
points the official SDK at it. The SDK retries 429 and 5xx replies itself (``max_retries``,
honouring ``retry-after``); what still fails becomes a ``HostedError`` (a PlatformError)
that says whether trying again later may help (``transient``).
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, cast

import openai
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.job_create_params import Method

from harvest.errors import InputError, PlatformError
from trainer.hosted.generate import ChatGenerator, openai_generator_factory, wrap_api_error
from trainer.hosted.results import parse_result_file
from trainer.metrics import StepMetrics

__all__ = ["DEFAULT_HOSTED_MODEL", "HostedBackend", "HostedError", "HostedSettings"]

log = logging.getLogger(__name__)

DEFAULT_HOSTED_MODEL = "gpt-4.1-mini-2025-04-14"
RUN_ID_METADATA = "fanqa_run_id"
_TRANSIENT = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


class HostedError(PlatformError):
    """A hosted API call failed after the SDK's retries; ``transient``: worth trying later."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message, platform="openai")
        self.transient = transient


def _wrap(what: str, exc: openai.OpenAIError) -> HostedError:
    return HostedError(str(wrap_api_error(what, exc)), transient=isinstance(exc, _TRANSIENT))


class HostedSettings(Protocol):
    """What ``from_settings`` reads (``bot.settings.Settings`` has it)."""

    @property
    def openai_api_key(self) -> Any: ...
    @property
    def openai_base_url(self) -> str | None: ...
    @property
    def hosted_base_model(self) -> str: ...


class HostedBackend:
    """Files, fine-tuning jobs and chat completions of one OpenAI-compatible API.

    ``poll_interval`` seconds between two looks at a job, waiting with ``sleep``; a job still
    not finished after ``max_wait_s`` (measured with ``clock``) is given up; ``max_poll_errors``
    failures in a row while following a job fail the run.
    """

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        base_model: str = DEFAULT_HOSTED_MODEL,
        max_wait_s: float = 48 * 3600.0,
        max_poll_errors: int = 10,
        max_new_tokens: int = 128,
    ) -> None:
        self.client = client
        self.poll_interval, self.sleep, self.clock = poll_interval, sleep, clock
        self.base_model = base_model
        self.max_wait_s, self.max_poll_errors = max_wait_s, max_poll_errors
        self.max_new_tokens = max_new_tokens
        self._generators = openai_generator_factory(client)

    @classmethod
    def from_settings(cls, settings: HostedSettings, **kwargs: Any) -> HostedBackend:
        """A backend from fanqa's settings: API key, base URL, hosted base model.

        A server without authentication (vLLM) still needs some key; any value does.
        """
        key = settings.openai_api_key
        secret = key.get_secret_value() if hasattr(key, "get_secret_value") else key
        if not secret:
            raise InputError(
                "the hosted backend needs an API key: set FANQA_OPENAI_API_KEY or "
                "OPENAI_API_KEY (any value for a server without authentication)",
                field="openai_api_key",
            )
        client = openai.OpenAI(
            api_key=str(secret), base_url=settings.openai_base_url or None, max_retries=5
        )
        return cls(client, base_model=settings.hosted_base_model, **kwargs)

    # --- files and jobs -------------------------------------------------------------
    def upload(self, filename: str, examples: Iterable[Mapping[str, Any]]) -> str:
        """Upload chat examples as a JSONL file for fine-tuning; returns the file id."""
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)
        try:
            uploaded = self.client.files.create(
                file=(filename, io.BytesIO(text.encode("utf-8"))), purpose="fine-tune"
            )
        except openai.OpenAIError as exc:
            raise _wrap(f"uploading {filename}", exc) from exc
        return uploaded.id

    def create_job(
        self,
        *,
        model: str,
        training_file: str,
        validation_file: str | None,
        suffix: str,
        seed: int,
        hyperparameters: Mapping[str, Any],
        metadata: Mapping[str, str],
    ) -> FineTuningJob:
        """Create a supervised fine-tuning job."""
        try:
            return self.client.fine_tuning.jobs.create(
                model=model,
                training_file=training_file,
                validation_file=validation_file or openai.omit,
                suffix=suffix,
                seed=seed,
                metadata=dict(metadata),
                method=cast(
                    Method,
                    {
                        "type": "supervised",
                        "supervised": {"hyperparameters": dict(hyperparameters)},
                    },
                ),
            )
        except openai.OpenAIError as exc:
            raise _wrap("creating the fine-tuning job", exc) from exc

    def find_job(self, run_id: int | str) -> FineTuningJob | None:
        """The job an earlier attempt created for ``run_id`` (its metadata tag), if any."""
        wanted = {RUN_ID_METADATA: str(run_id)}
        try:
            page = self.client.fine_tuning.jobs.list(metadata=wanted, limit=100)
        except openai.OpenAIError as exc:
            raise _wrap("listing fine-tuning jobs", exc) from exc
        for job in page.data:  # a server that ignores the filter lists every job
            if (job.metadata or {}).get(RUN_ID_METADATA) == str(run_id):
                return job
        return None

    def retrieve(self, job_id: str) -> FineTuningJob:
        """The job's current state."""
        try:
            return self.client.fine_tuning.jobs.retrieve(job_id)
        except openai.OpenAIError as exc:
            raise _wrap(f"reading fine-tuning job {job_id}", exc) from exc

    def cancel(self, job_id: str) -> FineTuningJob:
        """Ask the service to cancel the job."""
        try:
            return self.client.fine_tuning.jobs.cancel(job_id)
        except openai.OpenAIError as exc:
            raise _wrap(f"cancelling fine-tuning job {job_id}", exc) from exc

    def events_after(
        self, job_id: str, last_seen: str | None, *, page_size: int = 50, max_pages: int = 20
    ) -> list[FineTuningJobEvent]:
        """The job's events newer than ``last_seen`` (all when None), oldest first."""
        fresh: list[FineTuningJobEvent] = []
        after: str | None = None
        try:
            for _ in range(max_pages):
                if after is None:
                    page = self.client.fine_tuning.jobs.list_events(job_id, limit=page_size)
                else:
                    page = self.client.fine_tuning.jobs.list_events(
                        job_id, limit=page_size, after=after
                    )
                for event in page.data:  # newest first
                    if event.id == last_seen:
                        return fresh[::-1]
                    fresh.append(event)
                if not page.data or not page.has_more:
                    break
                after = page.data[-1].id
        except openai.OpenAIError as exc:
            raise _wrap(f"reading the events of fine-tuning job {job_id}", exc) from exc
        return fresh[::-1]

    def result_metrics(self, job: FineTuningJob) -> list[StepMetrics]:
        """Per-step metrics from the job's first result file ([] when it has none)."""
        if not job.result_files:
            return []
        file_id = job.result_files[0]
        try:
            raw = self.client.files.content(file_id).content
        except openai.OpenAIError as exc:
            raise _wrap(f"downloading result file {file_id}", exc) from exc
        return parse_result_file(raw)

    # --- answering ------------------------------------------------------------------
    def generator(self, model: str) -> ChatGenerator:
        """A chat-completions generator for ``model`` (cached)."""
        return self._generators(model, None)
