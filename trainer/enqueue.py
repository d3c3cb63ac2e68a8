"""Queue a training round: the one way the CLI, ``/train`` and the schedule queue runs.

``queue_round`` picks the candidate base models (given, else the community's ``base_models``,
else the backend's default), has the backend validate each one and suggest hyperparameters,
checks the data folder is writable, and queues the run — or raises InputError and queues
nothing. ``queue_training`` adds the "run queued" notice in the same transaction.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from harvest.errors import InputError
from storage.models import TrainingRun
from storage.repo import get_community_by_id
from trainer import notices, outbox
from trainer.backend import BackendOptions, TrainingBackend, make_backend
from trainer.defaults import PROFILES, suggest_hyperparameters
from trainer.policy import DEFAULT_FAILURE_COOLDOWN, Decision, policy_for, should_train
from trainer.policy import training_stats as gather_stats
from trainer.runs import queue_run
from trainer.snapshot import approved_pairs, holdout_target

__all__ = [
    "TINY_MARKER",
    "TrainingDefaults",
    "check_writable",
    "maybe_queue",
    "profile_for",
    "queue_round",
    "queue_training",
    "suggested_hyperparameters",
]

TINY_MARKER = "fanqa_tiny.json"  # written by `fanqa model init-tiny`: train with "scratch"


@dataclass(frozen=True, slots=True)
class TrainingDefaults:
    """What a run queued without a CLI gets: backend and base model from the settings."""

    base_model: str = "Qwen/Qwen2.5-0.5B-Instruct"
    backend: str = "local"  # local | openai
    hosted_base_model: str = "gpt-4.1-mini-2025-04-14"
    failure_cooldown: timedelta = DEFAULT_FAILURE_COOLDOWN
    runs_dir: Path | None = None  # checked writable before a run is queued

    @classmethod
    def from_settings(cls, settings: Any) -> TrainingDefaults:
        """From ``bot.settings.Settings`` (duck-typed: trainer never imports bot)."""
        return cls(
            base_model=settings.base_model,
            backend=settings.training_backend,
            hosted_base_model=settings.hosted_base_model,
            runs_dir=settings.runs_dir,
        )

    def make_backend(self) -> TrainingBackend:
        """The backend runs are queued for (validation and hyperparameters only)."""
        options = BackendOptions(
            default_base_model=self.base_model, hosted_base_model=self.hosted_base_model
        )
        return make_backend(self.backend, options)


def profile_for(base_model: str, profile: str = "auto") -> str:
    """The training profile: "auto" picks "scratch" for a `fanqa model init-tiny` model."""
    if profile == "auto":
        return "scratch" if (Path(base_model) / TINY_MARKER).exists() else "pretrained"
    if profile not in PROFILES:
        raise InputError(f"one of auto, {', '.join(PROFILES)}", field="--profile")
    return profile


def suggested_hyperparameters(
    session: Session, community_id: int, base_model: str, profile: str = "auto"
) -> dict[str, Any]:
    """Hyperparameters scaled to the community's approved pairs (what a queued run gets)."""
    chosen = profile_for(base_model, profile)
    pairs = approved_pairs(session, community_id)
    n_train = max(1, len(pairs) - holdout_target(len(pairs)))
    chars = sum(len(p.question_text) + len(p.answer_text) for p in pairs)
    hp = suggest_hyperparameters(n_train, chars // 3 + 1, profile=chosen)
    if chosen == "scratch":
        hp["cpu_threads"] = 1
    return hp


def check_writable(folder: Path) -> None:
    """InputError unless runs can write in ``folder`` (created when missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"cannot write training runs in {folder}: {reason}", field="data_dir"
        ) from exc


def queue_round(
    session: Session,
    community_id: int,
    backend: TrainingBackend,
    *,
    base_models: Sequence[str] | None = None,
    runs_dir: Path | None = None,
    trigger: str = "manual",
    profile: str = "auto",
    epochs: float | None = None,
) -> TrainingRun:
    """Validate, then queue a round (see the module docstring); nothing queued on InputError.

    ConflictError when the community already has a run queued or running.
    """
    community = get_community_by_id(session, community_id)
    chosen = list(base_models or community.base_models or [backend.default_base_model()])
    bases = [backend.validate_base_model(b) for b in chosen]
    if runs_dir is not None:
        check_writable(runs_dir)
    hp = backend.hyperparameters(session, community_id, bases[0], profile)
    if epochs is not None:
        hp["epochs"] = epochs
    return queue_run(
        session,
        community_id,
        base_model=bases,
        hyperparameters=hp,
        trigger=trigger,
        backend=backend.name,
    )


def queue_training(
    session: Session,
    community_id: int,
    defaults: TrainingDefaults,
    *,
    trigger: str,
    reason: str = "",
    announce: bool = True,
) -> TrainingRun:
    """Queue a round with the default backend (``queue_round``); announce it."""
    run = queue_round(
        session,
        community_id,
        defaults.make_backend(),
        runs_dir=defaults.runs_dir,
        trigger=trigger,
    )
    if announce:
        notice = notices.queued(run, reason)
        outbox.record(session, notice.community_id, notice.text, key=notice.key)
    return run


def maybe_queue(
    session: Session,
    community_id: int,
    defaults: TrainingDefaults,
    now: datetime,
    *,
    trigger: str = "schedule",
) -> tuple[Decision, TrainingRun | None]:
    """Ask the policy; queue a run when it says so. Returns the decision and the run."""
    policy = policy_for(session, community_id, defaults.failure_cooldown)
    decision = should_train(now, gather_stats(session, community_id), policy)
    if not decision.train:
        return decision, None
    return decision, queue_training(
        session, community_id, defaults, trigger=trigger, reason=decision.reason
    )
