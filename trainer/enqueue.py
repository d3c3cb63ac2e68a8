"""Queue a training run the way the scheduler and ``/train`` do: defaults, policy, notice.

The queued run, its hyperparameters (suggested from the data, like ``fanqa train``) and the
"run queued" notification are written in one transaction (a transactional outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from harvest.errors import InputError
from storage.models import TrainingRun
from trainer import notices, outbox
from trainer.defaults import PROFILES, suggest_hyperparameters
from trainer.policy import DEFAULT_FAILURE_COOLDOWN, Decision, policy_for, should_train
from trainer.policy import training_stats as gather_stats
from trainer.runs import queue_run
from trainer.snapshot import approved_pairs, holdout_target

__all__ = [
    "TINY_MARKER",
    "TrainingDefaults",
    "maybe_queue",
    "profile_for",
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

    @classmethod
    def from_settings(cls, settings: Any) -> TrainingDefaults:
        """From ``bot.settings.Settings`` (duck-typed: trainer never imports bot)."""
        return cls(
            base_model=settings.base_model,
            backend=settings.training_backend,
            hosted_base_model=settings.hosted_base_model,
        )


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


def queue_training(
    session: Session,
    community_id: int,
    defaults: TrainingDefaults,
    *,
    trigger: str,
    reason: str = "",
    announce: bool = True,
) -> TrainingRun:
    """Queue a run with the default backend and suggested hyperparameters; announce it.

    ConflictError when the community already has a run queued or running.
    """
    if defaults.backend == "local":
        base = defaults.base_model
        hp = suggested_hyperparameters(session, community_id, base)
    else:  # the hosted provider picks its own hyperparameters unless told otherwise
        base, hp = defaults.hosted_base_model, {}
    run = queue_run(
        session,
        community_id,
        base_model=base,
        hyperparameters=hp,
        trigger=trigger,
        backend=defaults.backend,
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
