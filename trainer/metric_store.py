"""A run's per-step metrics in the database: ``StepMetrics`` in, ``StepMetrics`` out."""

from __future__ import annotations

from sqlmodel import Session, col, delete, select

from storage.models import RunMetric
from trainer.metrics import StepMetrics

__all__ = ["step_history", "store_step"]


def store_step(session: Session, run_id: int, row: StepMetrics, candidate: int = 0) -> None:
    """Keep ``row`` for ``run_id``'s ``candidate``; a step seen again (a resume) replaces it."""
    session.exec(
        delete(RunMetric)
        .where(col(RunMetric.run_id) == run_id)
        .where(col(RunMetric.candidate) == candidate)
        .where(col(RunMetric.step) == row.step)
    )
    session.add(
        RunMetric(
            run_id=run_id,
            candidate=candidate,
            step=row.step,
            train_loss=row.train_loss,
            train_mean_token_accuracy=row.train_mean_token_accuracy,
            valid_loss=row.valid_loss,
            valid_mean_token_accuracy=row.valid_mean_token_accuracy,
            valid_sequence_accuracy=row.valid_sequence_accuracy,
        )
    )


def step_history(session: Session, run_id: int, candidate: int = 0) -> list[StepMetrics]:
    """Every stored step of a run's candidate, in order (the report's curves)."""
    rows = session.exec(
        select(RunMetric)
        .where(RunMetric.run_id == run_id)
        .where(RunMetric.candidate == candidate)
        .order_by(col(RunMetric.step))
    )
    return [
        StepMetrics(
            step=m.step,
            train_loss=m.train_loss,
            train_mean_token_accuracy=m.train_mean_token_accuracy,
            valid_loss=m.valid_loss,
            valid_mean_token_accuracy=m.valid_mean_token_accuracy,
            valid_sequence_accuracy=m.valid_sequence_accuracy,
        )
        for m in rows.all()
    ]
