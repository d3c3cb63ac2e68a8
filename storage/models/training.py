"""Tables of the learning loop: dataset snapshots, training runs, their metrics, model versions
and the answers the bot gave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.core import ModelStatus, RunStatus, utcnow
from storage.types import SanitizedText

__all__ = [
    "AnswerLog",
    "DatasetSnapshot",
    "ModelVersion",
    "RunMetric",
    "TrainingRun",
]


class DatasetSnapshot(SQLModel, table=True):
    """The exact approved pairs a training run learned from and was judged on."""

    __tablename__ = "dataset_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    content_hash: str = Field(max_length=64)
    n_train: int = 0
    n_holdout: int = 0
    n_golden: int = 0
    train_pair_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    eval_pair_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    scrubbed: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    path: str = Field(default="", max_length=1024)
    created_at: datetime = Field(default_factory=utcnow)


class TrainingRun(SQLModel, table=True):
    """One fine-tuning run: queued, claimed by a worker, followed to its end."""

    __tablename__ = "training_runs"
    __table_args__ = (Index("ix_runs_status", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    snapshot_id: int | None = Field(default=None, foreign_key="dataset_snapshots.id")
    backend: str = Field(default="local", max_length=32)
    base_model: str = Field(default="", max_length=1024)  # the first candidate
    base_models: list[str] | None = Field(default=None, sa_column=Column(JSON))  # all candidates
    status: str = Field(default=RunStatus.QUEUED, max_length=16)
    trigger: str = Field(default="manual", max_length=32)  # manual | schedule | command
    hyperparameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    step: int = 0
    total_steps: int = 0
    last_loss: float | None = None
    heartbeat_at: datetime | None = None
    worker: str | None = Field(default=None, max_length=255)
    pid: int | None = None
    external_job_id: str | None = Field(default=None, max_length=255)
    out_dir: str = Field(default="", max_length=1024)
    error: str | None = Field(default=None, sa_column=Column(SanitizedText))
    cancel_requested: bool = False
    attempts: int = 0
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RunMetric(SQLModel, table=True):
    """Per-step metrics in the shape of OpenAI's fine-tuning results file."""

    __tablename__ = "run_metrics"
    __table_args__ = (UniqueConstraint("run_id", "candidate", "step", name="uq_metric_step"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="training_runs.id", index=True)
    candidate: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    step: int
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    valid_sequence_accuracy: float | None = None


class ModelVersion(SQLModel, table=True):
    """A trained model with its lineage, metrics and gate decision."""

    __tablename__ = "model_versions"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="training_runs.id")
    backend: str = Field(default="local", max_length=32)
    base_model: str = Field(default="", max_length=1024)
    adapter_path: str | None = Field(default=None, max_length=1024)
    remote_model_id: str | None = Field(default=None, max_length=255)
    dataset_hash: str = Field(default="", max_length=64)
    status: str = Field(default=ModelStatus.CANDIDATE, max_length=16)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    gate: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    report_path: str | None = Field(default=None, max_length=1024)
    created_at: datetime = Field(default_factory=utcnow)
    promoted_at: datetime | None = None


class AnswerLog(SQLModel, table=True):
    """Every answer the bot gave (or withheld), and the feedback it got."""

    __tablename__ = "answer_log"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    chat_id: int | None = Field(default=None, foreign_key="chats.id")
    platform: str = Field(default="cli", max_length=16)
    question_external_id: str | None = Field(default=None, max_length=64)
    answer_external_id: str | None = Field(default=None, max_length=64, index=True)
    question_text: str = Field(sa_column=Column(Text, nullable=False))
    answer_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    confidence: float = 0.0
    abstained: bool = False
    model_version_id: int | None = Field(default=None, foreign_key="model_versions.id")
    source_pair_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    feedback_up: int = 0
    feedback_down: int = 0
    latency_ms: float | None = None
    created_at: datetime = Field(default_factory=utcnow)
