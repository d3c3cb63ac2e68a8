"""Tables of the harvest: communities, chats, members, imports, messages, pairs, reviews and
the pair classifiers; the enums and the UTC clock every table uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

__all__ = [
    "Chat",
    "Community",
    "ImportRun",
    "Member",
    "Message",
    "ModelStatus",
    "NotificationStatus",
    "PairClassifierVersion",
    "PairIndexVersion",
    "PairMessage",
    "PairStatus",
    "QAPair",
    "ReviewEvent",
    "RunStatus",
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
    # How messages sent without the reply button are linked: rules | learned | off
    # (harvest.community_config, applied on import and live alike).
    reply_linking: str = Field(
        default="rules", max_length=16, sa_column_kwargs={"server_default": "rules"}
    )
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
        # Replies to a question (which questions still wait for an answer).
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
