"""The notification outbox: moderator messages stored first, delivered by the bot process.

The worker (often another process, with no chat connection) and the scheduler record what
moderators should hear with ``record``; ``fanqa run`` delivers it with ``deliver_due``.

- Idempotent recording: every notification has a unique ``key`` ("run:7:started:1"); recording
  the same key again (a worker restarted mid-run) does nothing.
- Delivery claims a row with a conditional update (a lease), so two bot processes never send
  the same row at once; a row whose sender died is taken again once its lease runs out.
- A failed send is retried with exponential backoff, then marked failed with the reason.
- At-least-once: a crash between sending and marking sent repeats that one message.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.db import session_scope
from storage.models import Notification, NotificationStatus, utcnow

__all__ = ["MAX_ATTEMPTS", "Sender", "deliver_due", "pending", "record", "record_now"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)
BACKOFF = timedelta(seconds=30)

# (community_id, text, image) -> True when delivered; may be async.
Sender = Callable[[int, str, Path | None], Awaitable[bool] | bool]


def record(
    session: Session,
    community_id: int,
    text: str,
    *,
    key: str,
    image: str | Path | None = None,
) -> Notification | None:
    """Add a notification in the caller's transaction; None when ``key`` was recorded before."""
    exists = session.exec(select(Notification.id).where(Notification.key == key[:255])).first()
    if exists is not None:
        return None
    row = Notification(
        key=key[:255],
        community_id=community_id,
        text=text,
        image_path=str(image) if image is not None else None,
    )
    session.add(row)
    session.flush()
    return row


def record_now(
    engine: Engine, community_id: int, text: str, *, key: str, image: str | Path | None = None
) -> bool:
    """``record`` in its own transaction (a concurrent duplicate is a no-op); True when new."""
    try:
        with session_scope(engine) as session:
            return record(session, community_id, text, key=key, image=image) is not None
    except IntegrityError:  # the same key, recorded by someone else in between
        return False


def pending(session: Session, community_id: int | None = None) -> list[Notification]:
    """Notifications not yet delivered (nor given up on), oldest first."""
    stmt = (
        select(Notification)
        .where(Notification.status == NotificationStatus.PENDING)
        .order_by(col(Notification.id))
    )
    if community_id is not None:
        stmt = stmt.where(Notification.community_id == community_id)
    return list(session.exec(stmt).all())


def _due(engine: Engine, now: datetime, limit: int) -> list[Notification]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(Notification)
                .where(Notification.status == NotificationStatus.PENDING)
                .where(Notification.next_attempt_at <= now)
                .order_by(col(Notification.id))
                .limit(limit)
            ).all()
        )


def _claim(engine: Engine, row_id: int, sender_name: str, now: datetime) -> bool:
    with session_scope(engine) as session:
        result = session.exec(
            update(Notification)
            .where(col(Notification.id) == row_id)
            .where(col(Notification.status) == NotificationStatus.PENDING)
            .where(
                col(Notification.claimed_until).is_(None) | (col(Notification.claimed_until) < now)
            )
            .values(claimed_by=sender_name[:255], claimed_until=now + LEASE)
        )
        return result.rowcount == 1


def _finish(engine: Engine, row_id: int, ok: bool, error: str | None, now: datetime) -> None:
    with session_scope(engine) as session:
        row = session.get(Notification, row_id)
        if row is None:
            return
        row.attempts += 1
        row.claimed_by, row.claimed_until = None, None
        if ok:
            row.status, row.sent_at, row.error = NotificationStatus.SENT, now, None
        else:
            row.error = error or "not delivered"
            if row.attempts >= MAX_ATTEMPTS:
                row.status = NotificationStatus.FAILED
            else:
                row.next_attempt_at = now + BACKOFF * (2 ** (row.attempts - 1))
        session.add(row)


async def deliver_due(
    engine: Engine,
    send: Sender,
    *,
    now: datetime | None = None,
    sender_name: str = "bot",
    limit: int = 50,
) -> int:
    """Deliver due notifications in order through ``send``; returns how many were delivered.

    Database work runs in threads; ``bot.runner`` calls this every few seconds, and at once
    when the in-process worker records a notification.
    """
    now = now or utcnow()
    due = await asyncio.to_thread(_due, engine, now, limit)
    delivered = 0
    for row in due:
        row_id = row.id or 0
        if not await asyncio.to_thread(_claim, engine, row_id, sender_name, now):
            continue
        image = Path(row.image_path) if row.image_path else None
        error = None
        try:
            outcome: Any = send(row.community_id, row.text, image)
            if inspect.isawaitable(outcome):
                outcome = await outcome
            ok = bool(outcome)
            if not ok:
                error = "no moderator chat reachable (set one with `fanqa community set`)"
        except Exception as exc:  # one bad row must not stop the others
            log.warning("notification %s failed: %s", row_id, exc)
            ok, error = False, f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(_finish, engine, row_id, ok, error, now)
        delivered += ok
    return delivered
