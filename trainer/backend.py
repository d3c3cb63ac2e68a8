"""The fine-tuning backend protocol and its registry (like peft's ``register_peft_method``).

A backend turns one candidate base model plus a dataset snapshot into a model that can
answer. ``trainer.round.execute_run`` drives every backend the same way:

    validate_base_model → prepare (data) → train (start, follow, cancel on request)
      → Artifact → generator (evaluation) ;  stop (the worker shuts down)

Backends are registered by name; ``make_backend(name, options)`` is the one place that
chooses one. "local" (transformers + peft in a child process) and "openai" (any
OpenAI-compatible fine-tuning API) are built in and imported only when first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlmodel import Session

from harvest.errors import InputError, TrainingError
from storage.models import ModelVersion, TrainingRun
from trainer.generation import Generator
from trainer.metrics import StepMetrics

__all__ = [
    "Artifact",
    "BackendOptions",
    "Cancelled",
    "CandidateJob",
    "PreparedData",
    "Progress",
    "TrainingBackend",
    "backend_names",
    "make_backend",
    "register_backend",
]

Example = dict[str, Any]


class Cancelled(TrainingError):
    """The training stopped because a cancel was asked (the message says where)."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A trained (or live) model: a base plus a LoRA folder, or a remote model id."""

    base_model: str
    adapter_path: str | None = None
    remote_model_id: str | None = None

    @classmethod
    def of(cls, model: ModelVersion) -> Artifact:
        """The artifact a registered model version points to."""
        return cls(model.base_model, model.adapter_path, model.remote_model_id)

    @property
    def name(self) -> str:
        """How reports name it."""
        if self.remote_model_id:
            return self.remote_model_id
        return f"{self.base_model} + LoRA" if self.adapter_path else self.base_model


@dataclass(frozen=True, slots=True)
class PreparedData:
    """The examples a backend trains and is judged on, after its own preparation."""

    train: list[Example]
    valid: list[Example]
    scrubbed: dict[str, int] | None = None
    scrubbed_examples: int = 0


@dataclass(frozen=True, slots=True)
class CandidateJob:
    """One candidate of a run, as a backend sees it."""

    run_id: int
    index: int
    community_id: int
    community: str
    base_model: str
    hyperparameters: Mapping[str, Any]
    data_dir: Path  # the snapshot folder (train.jsonl / eval.jsonl)
    out_dir: Path  # this candidate's folder
    data: PreparedData
    attempt: int
    resume: bool
    job_id: str | None = None  # a hosted job an earlier attempt created
    last_event_id: str | None = None


class Progress(Protocol):
    """How a backend reports back while it trains (database writes, done by the caller)."""

    def step(self, row: StepMetrics, total_steps: int | None = None) -> None: ...
    def save(self, **fields: Any) -> None: ...  # CandidateSummary fields (job_id, …)
    def beat(self) -> None: ...
    def cancel_requested(self) -> bool: ...
    def set_pid(self, pid: int | None) -> None: ...
    def event(self, text: str) -> None: ...


class TrainingBackend(Protocol):
    """What every fine-tuning backend does (see the module docstring)."""

    name: str

    def default_base_model(self) -> str: ...

    def validate_base_model(self, base_model: str) -> str:
        """The reference to store (e.g. an absolute path); InputError when unusable."""
        ...

    def hyperparameters(
        self, session: Session, community_id: int, base_model: str, profile: str = "auto"
    ) -> dict[str, Any]: ...

    def prepare(self, train: Sequence[Example], valid: Sequence[Example]) -> PreparedData: ...

    def train(self, job: CandidateJob, progress: Progress) -> Artifact:
        """Start (or re-attach to) the training and follow it to its end.

        Returns the artifact; ``Cancelled`` when it stopped on request; TrainingError (or a
        PlatformError) when it failed.
        """
        ...

    def stop(self, run: TrainingRun) -> None:
        """The worker is shutting down: interrupt what runs here (a hosted job goes on)."""
        ...

    def generator(self, artifact: Artifact) -> Generator:
        """A generator of ``artifact`` for evaluation (the live model's too)."""
        ...


@dataclass
class BackendOptions:
    """What backends are built with: the process's settings, duck-typed.

    ``hosted`` makes the OpenAI-compatible API client (``trainer.hosted.HostedBackend``),
    called only when a hosted backend is first needed; without it the hosted backend makes
    its client from ``settings`` (``bot.settings.Settings``: key, base URL, poll interval).
    """

    device: str | None = None
    scrub: bool = True
    default_base_model: str = "Qwen/Qwen2.5-0.5B-Instruct"
    hosted_base_model: str = "gpt-4.1-mini-2025-04-14"
    hosted: Callable[[], Any] | None = None
    settings: Any = None
    max_new_tokens: int = 128
    cache: dict[str, TrainingBackend] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> BackendOptions:
        """From ``bot.settings.Settings`` (trainer never imports bot)."""
        device = None if settings.device == "auto" else settings.device
        values: dict[str, Any] = {
            "device": device,
            "scrub": settings.scrub_pii,
            "default_base_model": settings.base_model,
            "hosted_base_model": settings.hosted_base_model,
            "settings": settings,
        }
        return cls(**(values | kwargs))


BackendFactory = Callable[[BackendOptions], TrainingBackend]
_REGISTRY: dict[str, BackendFactory | str] = {
    "local": "trainer.local.backend:LocalTraining",
    "openai": "trainer.hosted.training:HostedTraining",
}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``factory(options)`` the backend called ``name`` (replacing one of that name)."""
    _REGISTRY[name] = factory


def backend_names() -> list[str]:
    """The registered backend names."""
    return sorted(_REGISTRY)


def make_backend(name: str, options: BackendOptions) -> TrainingBackend:
    """The backend ``name`` (one instance per options); InputError for an unknown name."""
    if name in options.cache:
        return options.cache[name]
    factory = _REGISTRY.get(name)
    if factory is None:
        raise InputError(f"unknown backend {name!r}; one of {', '.join(backend_names())}")
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
    assert callable(factory)
    backend = factory(options)
    options.cache[name] = backend
    return backend
