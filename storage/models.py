"""SQLModel tables: communities, chats, members, messages, pairs, reviews, learning loop.

Every datetime is timezone-aware UTC (sqlmodel stores it as UTC on every backend).
Every external id is unique-constrained so a re-delivered update or a re-imported
export never duplicates anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.types import SanitizedText

__all__ = [
    "AnswerLog",
    "Chat",
    "Community",
    "DatasetSnapshot",
    "ImportRun",
    "LoginLink",
    "Member",
    "Message",
    "ModelStatus",
    "ModelVersion",
    "Notification",
    "NotificationStatus",
    "PairClassifierVersion",
    "PairIndexVersion",
    "PairMessage",
    "PairStatus",
    "QAPair",
    "ReviewCard",
    "ReviewEvent",
    "RunMetric",
    "RunStatus",
    "TrainingRun",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, timezone-aware UTC: the form every timestamp is stored in."""
    return datetime.now(UTC)


class PairStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    LIVE = "live"
    RETIRED = "retired"
    REJECTED = "rejected"


class Community(SQLModel, table=True):
    """A group of chats whose Q&A trains one model, with its settings."""

    __tablename__ = "communities"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    language: str = Field(default="auto", max_length=16)  # auto | zh | en
    system_prompt: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    answer_policy: str = Field(default="mention", max_length=16)  # mention | auto | off
    auto_answer_after_min: int = 10
    abstain_mode: str = Field(default="notice", max_length=16)  # notice | silent
    min_confidence: float = 0.4  # chosen from bench/abstention.py (README)
    timezone: str = Field(default="UTC", max_length=64)
    train_cron: str = Field(default="0 3 * * *", max_length=64)
    min_new_pairs: int = 20
    question_patterns: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    moderator_platform: str | None = Field(default=None, max_length=16)
    moderator_chat_id: str | None = Field(default=None, max_length=64)
    # Candidate base models a training round compares (empty: the configured default).
    base_models: list[str] | None = Field(default=None, sa_column=Column(JSON))
    # The pair classifier learned from moderators (storage.repo.classifiers): refitted after
    # this many new decisions; pending pairs above ``auto_approve_above`` approved by it
    # (None: never, the default).
    classifier_refit_every: int = Field(default=25, sa_column_kwargs={"server_default": "25"})
    auto_approve_above: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Chat(SQLModel, table=True):
    """A group / channel on one platform, belonging to a community."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_chat_external"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    title: str = Field(default="", max_length=255)
    answer_policy: str | None = Field(default=None, max_length=16)  # overrides the community's


class Member(SQLModel, table=True):
    """A platform user as seen in one community, with their role there."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("community_id", "platform", "external_id", name="uq_member_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=255)
    role: str = Field(default="member", max_length=16)  # moderator | expert | member
    is_bot: bool = False


class ImportRun(SQLModel, table=True):
    """One ``fanqa import``: it commits in short chunks; a failed or abandoned run's rows
    (``import_id``) are removed, so an import is all or nothing."""

    __tablename__ = "import_runs"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    source: str = Field(default="", max_length=1024)
    status: str = Field(default="running", max_length=16)  # running | done | failed
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Message(SQLModel, table=True):
    """One harvested chat message."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "external_id", name="uq_message_external"),
        Index("ix_messages_chat_sent", "chat_id", "sent_at"),
        # An answerer's previous message (merging follow-ups) and replies to a question.
        Index("ix_messages_chat_author_sent", "chat_id", "author_id", "sent_at"),
        Index("ix_messages_chat_reply", "chat_id", "reply_to_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id")
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    author_id: int | None = Field(default=None, foreign_key="members.id", index=True)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reply_to_external_id: str | None = Field(default=None, max_length=64)
    thread_external_id: str | None = Field(default=None, max_length=64)
    sent_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    is_question: bool = False
    is_bot: bool = False
    has_media: bool = False
    # The import that wrote it, while that import runs: its rows go if it fails.
    import_id: int | None = Field(default=None, foreign_key="import_runs.id", index=True)


class QAPair(SQLModel, table=True):
    """A question and its answer, waiting for or past a moderator's review."""

    __tablename__ = "qa_pairs"
    __table_args__ = (
        UniqueConstraint("community_id", "source_key", name="uq_pair_source"),
        Index("ix_pairs_community_status", "community_id", "status"),
        Index("ix_pairs_community_hash", "community_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id")
    chat_id: int | None = Field(default=None, foreign_key="chats.id")
    # chat:question:first-answer external ids; what makes a re-import a no-op.
    source_key: str = Field(max_length=255)
    question_message_id: int | None = Field(default=None, foreign_key="messages.id")
    question_text: str = Field(sa_column=Column(Text, nullable=False))
    answer_text: str = Field(sa_column=Column(Text, nullable=False))
    asker_id: int | None = Field(default=None, foreign_key="members.id")
    answerer_id: int | None = Field(default=None, foreign_key="members.id")
    method: str = Field(default="reply", max_length=16)
    score: float = 0.0
    status: str = Field(default=PairStatus.PENDING, max_length=16)
    content_hash: str = Field(max_length=64)
    split: str = Field(default="train", max_length=16)  # train | holdout
    golden: bool = False
    reviewed_by: int | None = Field(default=None, foreign_key="members.id")
    reviewed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None  # forgotten or source deleted: out of every dataset
    # How likely a good pair, in [0, 1], and why ({"rule": …, "signals": {…}}): the engine's.
    confidence: float = 0.0
    confidence_reason: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    import_id: int | None = Field(default=None, foreign_key="import_runs.id", index=True)


class PairIndexVersion(SQLModel, table=True):
    """A counter per community, bumped whenever its approved pairs change (the retrieval
    index is rebuilt when the version it was built at is no longer the current one)."""

    __tablename__ = "pair_index_versions"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    version: int = 0


class PairMessage(SQLModel, table=True):
    """Which stored messages a pair's answer is made of (a reaction on any of them counts)."""

    __tablename__ = "pair_messages"
    __table_args__ = (UniqueConstraint("pair_id", "message_id", name="uq_pair_message"),)

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="qa_pairs.id", index=True)
    message_id: int = Field(foreign_key="messages.id", index=True)
    position: int = 0


class ReviewEvent(SQLModel, table=True):
    """Append-only audit of every moderator action."""

    __tablename__ = "review_events"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    pair_id: int | None = Field(default=None, foreign_key="qa_pairs.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="members.id")
    actor_label: str = Field(default="", max_length=255)  # e.g. "telegram:123" or "cli"
    action: str = Field(max_length=32)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class PairClassifierVersion(SQLModel, table=True):
    """One fit of a community's pair classifier (``harvest.learner``), versioned 1, 2, …

    ``decisions``: the moderator decisions it was fitted on; ``last_event_id``: the newest
    review event among them (decisions after it are new); ``metrics``: held-out precision and
    recall when enough decisions were there to hold some out.
    """

    __tablename__ = "pair_classifiers"
    __table_args__ = (UniqueConstraint("community_id", "version", name="uq_classifier_version"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    version: int
    decisions: int = 0
    approved: int = 0
    last_event_id: int = 0
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    metrics: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


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


class Notification(SQLModel, table=True):
    """The outbox: a message for a community's moderator chat, delivered by ``fanqa run``.

    ``key`` is unique: recording the same event twice (a worker restarted mid-run) is a no-op.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("key", name="uq_notification_key"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    community_id: int = Field(foreign_key="communities.id", index=True)
    text: str = Field(sa_column=Column(SanitizedText, nullable=False))
    image_path: str | None = Field(default=None, max_length=1024)
    status: str = Field(default=NotificationStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=255)
    claimed_until: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(SanitizedText))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class HandledCommand(SQLModel, table=True):
    """A chat command already carried out: a platform re-delivering its update (Telegram after
    a restart) must not run ``/approve`` or ``/train`` twice."""

    __tablename__ = "handled_commands"
    __table_args__ = (
        UniqueConstraint("platform", "chat_id", "message_id", name="uq_handled_command"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class ReviewCard(SQLModel, table=True):
    """A review card the bot posted (a bot message, by its id in a chat) and the pair it names:
    a moderator's ✅ / ❌ on it reviews that pair, and only such a tracked card does."""

    __tablename__ = "review_cards"
    __table_args__ = (UniqueConstraint("chat_id", "external_id", name="uq_review_card"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(Integer, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    )
    external_id: str = Field(max_length=64)
    pair_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("qa_pairs.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow)


class LoginLink(SQLModel, table=True):
    """A one-time login link to the review desk: valid minutes, usable once.

    Only the SHA-256 of the token is stored; ``granted_by`` says how the member was found to
    be a moderator (``role``: Member.role; ``platform-admin``: the chat platform said so).
    """

    __tablename__ = "login_links"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    community_id: int = Field(foreign_key="communities.id")
    granted_by: str = Field(default="role", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
