"""One-time login links to the review desk: created rate-limited, redeemed at most once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from harvest.errors import FanqaError, InputError, NotFound, PermissionDenied
from storage.models import LoginLink, Member, utcnow

__all__ = [
    "LINK_TTL",
    "MAX_LINKS_PER_WINDOW",
    "LinkGone",
    "TooManyLinks",
    "create_login_link",
    "peek_login_link",
    "redeem_login_link",
    "token_hash",
]

LINK_TTL = timedelta(minutes=10)
MAX_LINKS_PER_WINDOW = 5  # per member, within LINK_TTL
GRANTS = ("role", "platform-admin")


class LinkGone(FanqaError):
    """A login link that was already used or has expired (the desk answers 410)."""

    exit_code = 2


class TooManyLinks(InputError):
    """Too many login links asked for one member in a short time (the desk answers 429)."""


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def create_login_link(
    session: Session,
    member_id: int,
    *,
    granted_by: str = "role",
    now: datetime | None = None,
) -> str:
    """A fresh token for ``member_id`` (valid LINK_TTL, once); only its hash is stored.

    ``granted_by="role"`` needs Member.role == moderator; ``platform-admin`` is for a member
    the chat platform reported as an administrator (``/desk`` checked it). At most
    MAX_LINKS_PER_WINDOW links per member per LINK_TTL (TooManyLinks).
    """
    if granted_by not in GRANTS:
        raise InputError(f"granted_by must be one of {', '.join(GRANTS)}", field="granted_by")
    now = now or utcnow()
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member with id {member_id}", kind="member", key=member_id)
    if granted_by == "role" and member.role != "moderator":
        raise PermissionDenied(
            f"member {member_id} ({member.display_name or member.external_id}) is not a "
            "moderator of this community; make them one with `fanqa members role`"
        )
    recent = session.exec(
        select(func.count())
        .select_from(LoginLink)
        .where(LoginLink.member_id == member_id, col(LoginLink.created_at) > now - LINK_TTL)
    ).one()
    if recent >= MAX_LINKS_PER_WINDOW:
        raise TooManyLinks(
            f"{recent} login links in the last {int(LINK_TTL.total_seconds() // 60)} minutes; "
            "use one of them or wait"
        )
    token = secrets.token_urlsafe(32)
    session.add(
        LoginLink(
            token_hash=token_hash(token),
            member_id=member_id,
            community_id=member.community_id,
            granted_by=granted_by,
            created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    session.flush()
    return token


def peek_login_link(session: Session, token: str, *, now: datetime | None = None) -> LoginLink:
    """The link behind a token, not using it. NotFound for an unknown token, LinkGone when it
    was used or has expired."""
    now = now or utcnow()
    link = session.exec(select(LoginLink).where(LoginLink.token_hash == token_hash(token))).first()
    if link is None:
        raise NotFound("this login link is not valid", kind="login link")
    if link.used_at is not None:
        raise LinkGone("this login link was already used; send /desk again for a new one")
    if _aware(link.expires_at) <= now:
        minutes = int(LINK_TTL.total_seconds() // 60)
        raise LinkGone(f"this login link has expired (links last {minutes} minutes)")
    return link


def redeem_login_link(session: Session, token: str, *, now: datetime | None = None) -> LoginLink:
    """Use a token: its link, marked used (errors as ``peek_login_link``). Two redemptions
    at once: exactly one wins (one conditional UPDATE)."""
    now = now or utcnow()
    link = peek_login_link(session, token, now=now)
    claimed = session.connection().execute(
        update(LoginLink)
        .where(col(LoginLink.id) == link.id, col(LoginLink.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise LinkGone("this login link was already used; send /desk again for a new one")
    session.refresh(link)
    return link
