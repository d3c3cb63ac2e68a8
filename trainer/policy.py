"""Whether to train now: a pure function of ``now``, the community's training stats and its policy.

``should_train`` has no clock and no database; ``training_stats`` gathers its input from the
database. New pairs are counted against the dataset of the last run that finished training
(succeeded, whether or not the gate promoted it): a rejected candidate needs new data before
the next try, while a failed run is retried on the same data once its cooldown is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import DatasetSnapshot, PairStatus, QAPair, RunStatus, TrainingRun
from storage.repo import get_community_by_id

__all__ = [
    "DEFAULT_FAILURE_COOLDOWN",
    "Decision",
    "TrainPolicy",
    "TrainStats",
    "policy_for",
    "should_train",
    "training_stats",
]

DEFAULT_FAILURE_COOLDOWN = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class TrainPolicy:
    """When a community retrains: enough new approved pairs, and a pause after a failure."""

    min_new_pairs: int = 20
    failure_cooldown: timedelta = DEFAULT_FAILURE_COOLDOWN


@dataclass(frozen=True, slots=True)
class TrainStats:
    """What the decision looks at, gathered by ``training_stats``."""

    new_pairs: int
    approved_pairs: int = 0
    active_run_id: int | None = None
    active_status: str | None = None
    last_failure_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict and one line saying why (shown in logs and /status)."""

    train: bool
    reason: str


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def should_train(now: datetime, stats: TrainStats, policy: TrainPolicy) -> Decision:
    """Train when no run is queued or running, no failure is cooling down, and enough is new."""
    if stats.active_run_id is not None:
        return Decision(False, f"run {stats.active_run_id} is already {stats.active_status}")
    if stats.last_failure_at is not None:
        until = _aware(stats.last_failure_at) + policy.failure_cooldown
        if _aware(now) < until:
            return Decision(
                False, f"the last run failed; cooling down until {until:%Y-%m-%d %H:%M} UTC"
            )
    if stats.new_pairs < policy.min_new_pairs:
        return Decision(
            False,
            f"{stats.new_pairs} new approved pair(s) since the last dataset, "
            f"{policy.min_new_pairs} needed",
        )
    return Decision(True, f"{stats.new_pairs} new approved pair(s) since the last dataset")


def policy_for(
    session: Session, community_id: int, failure_cooldown: timedelta = DEFAULT_FAILURE_COOLDOWN
) -> TrainPolicy:
    """The community's policy (its ``min_new_pairs``)."""
    community = get_community_by_id(session, community_id)
    return TrainPolicy(min_new_pairs=community.min_new_pairs, failure_cooldown=failure_cooldown)


def training_stats(session: Session, community_id: int) -> TrainStats:
    """Gather ``TrainStats`` for a community from the database."""
    runs = col(TrainingRun.id).desc()
    of_community = select(TrainingRun).where(TrainingRun.community_id == community_id)
    active = session.exec(
        of_community.where(
            col(TrainingRun.status).in_([RunStatus.QUEUED, RunStatus.RUNNING])
        ).order_by(runs)
    ).first()
    last_done = session.exec(
        of_community.where(
            col(TrainingRun.status).in_([RunStatus.SUCCEEDED, RunStatus.FAILED])
        ).order_by(runs)
    ).first()
    last_failure = None
    if last_done is not None and last_done.status == RunStatus.FAILED:
        last_failure = last_done.finished_at or last_done.created_at
    trained = session.exec(
        select(DatasetSnapshot)
        .join(TrainingRun, col(TrainingRun.snapshot_id) == col(DatasetSnapshot.id))
        .where(TrainingRun.community_id == community_id)
        .where(TrainingRun.status == RunStatus.SUCCEEDED)
        .order_by(runs)
    ).first()
    seen = set(trained.train_pair_ids) | set(trained.eval_pair_ids) if trained else set()
    approved = session.exec(
        select(QAPair.id)
        .where(QAPair.community_id == community_id)
        .where(QAPair.status == PairStatus.APPROVED)
        .where(col(QAPair.deleted_at).is_(None))
    ).all()
    return TrainStats(
        new_pairs=sum(1 for pid in approved if pid not in seen),
        approved_pairs=len(approved),
        active_run_id=active.id if active else None,
        active_status=active.status if active else None,
        last_failure_at=last_failure,
    )
