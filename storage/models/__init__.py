"""SQLModel tables: communities, chats, members, messages, pairs, reviews, learning loop.

Every datetime is timezone-aware UTC (sqlmodel stores it as UTC on every backend).
Every external id is unique-constrained so a re-delivered update or a re-imported
export never duplicates anything. The tables live in three modules: ``core`` (the harvest
and its review), ``training`` (the learning loop) and ``operations`` (the running bot);
everything is importable from ``storage.models``.
"""

from __future__ import annotations

from storage.models.core import (
    Chat,
    Community,
    ImportRun,
    Member,
    Message,
    ModelStatus,
    NotificationStatus,
    PairClassifierVersion,
    PairIndexVersion,
    PairMessage,
    PairStatus,
    QAPair,
    ReviewEvent,
    RunStatus,
    utcnow,
)
from storage.models.operations import HandledCommand, LoginLink, Notification, ReviewCard
from storage.models.training import (
    AnswerLog,
    DatasetSnapshot,
    ModelVersion,
    RunMetric,
    TrainingRun,
)

__all__ = [
    "AnswerLog",
    "Chat",
    "Community",
    "DatasetSnapshot",
    "HandledCommand",
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
