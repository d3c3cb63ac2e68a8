"""The review desk's login links: made for a moderator (``/desk``, ``fanqa web login-link``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from harvest.errors import InputError, NotFound
from storage.models import Member
from storage.repo.communities import find_member, get_community
from storage.repo.logins import LINK_TTL, create_login_link, peek_login_link

__all__ = ["DeskLink", "desk_link", "desk_link_for", "desk_message"]


@dataclass(frozen=True, slots=True)
class DeskLink:
    """A one-time login link and until when it works."""

    url: str
    expires_at: datetime
    member_id: int


def desk_link(
    session: Session, member_id: int, *, base_url: str, granted_by: str = "role"
) -> DeskLink:
    """A fresh one-time link for ``member_id`` (rate-limited; see storage.repo.logins)."""
    token = create_login_link(session, member_id, granted_by=granted_by)
    link = peek_login_link(session, token)
    return DeskLink(f"{base_url.rstrip('/')}/login/{token}", link.expires_at, member_id)


def desk_link_for(session: Session, community: str, member: str, *, base_url: str) -> DeskLink:
    """The operator's way: ``member`` is a member id (``fanqa members list``), a platform user
    id (as ``fanqa members role`` takes it), ``PLATFORM:USER_ID`` or ``@name`` in
    ``community``; the member must hold the moderator role there. A bare number that is both
    one member's id and another's platform id is refused as ambiguous."""
    cid = get_community(session, community).id or 0
    by_id = session.get(Member, int(member)) if member.strip().isdigit() else None
    if by_id is not None and by_id.community_id != cid:
        by_id = None
    try:
        row = find_member(session, cid, member)
    except NotFound:
        if by_id is None:
            raise NotFound(
                f"no member {member} in {community!r} (give a member id, a platform user id, "
                "PLATFORM:USER_ID or @name)",
                kind="member",
                key=member,
            ) from None
        row = by_id
    if by_id is not None and by_id.id != row.id:
        raise InputError(
            f"{member} is member {by_id.id} ({by_id.platform}:{by_id.external_id}) and the "
            f"platform id of member {row.id}; use {row.platform}:{member} or another id",
            field="member",
        )
    return desk_link(session, row.id or 0, base_url=base_url)


def desk_message(url: str) -> str:
    """The private message carrying a link (English and Chinese)."""
    minutes = int(LINK_TTL.total_seconds() // 60)
    return (
        f"Your review desk link (works once, for {minutes} minutes):\n{url}\n"
        f"审核台登录链接（仅可使用一次，{minutes} 分钟内有效）。"
    )
