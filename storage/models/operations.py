"""Tables of the running bot: the notification outbox, handled commands, review cards and the
review desk's login links.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.core import NotificationStatus, utcnow
from storage.types import SanitizedText

__all__ = [
    "HandledCommand",
    "LoginLink",
    "Notification",
    "ReviewCard",
]


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
