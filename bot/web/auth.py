"""Desk sessions: the signing secret, who is logged in (re-checked per request), CSRF."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session
from starlette.requests import Request

from bot.core.moderation import actor_label
from bot.settings import Settings
from storage.models import Community, Member

__all__ = [
    "CSRF_FIELD",
    "CsrfFailed",
    "Desk",
    "Grant",
    "LoginRequired",
    "Throttle",
    "check_csrf",
    "csrf_token",
    "grant_for",
    "load_secret",
    "logged_in",
]

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf"
SECRET_FILE = "web_secret"


def load_secret(settings: Settings) -> str:
    """FANQA_WEB_SECRET, else DATA_DIR/web_secret (created once, mode 0600). Never logged."""
    if settings.web_secret is not None and settings.web_secret.get_secret_value():
        return settings.web_secret.get_secret_value()
    path = Path(settings.data_dir) / SECRET_FILE
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    log.info("generated the desk's session secret in %s", path)  # the path, never the value
    return value


class LoginRequired(Exception):
    """No valid desk session (the desk answers 401 with how to get a link)."""


class CsrfFailed(Exception):
    """A form without the session's CSRF token (the desk answers 403, nothing changed)."""


@dataclass(frozen=True, slots=True)
class Grant:
    """A community the session may touch, as the member who logged in there."""

    member: Member
    community: Community

    @property
    def label(self) -> str:
        """How the audit log names an action done here: ``telegram:42 via web``."""
        return f"{actor_label(self.member.platform, self.member.external_id)} via web"


@dataclass(frozen=True, slots=True)
class Desk:
    """Who is logged in: their grants, checked against the database on this request."""

    grants: dict[int, Grant]

    def grant(self, community_id: int) -> Grant | None:
        return self.grants.get(community_id)


def logged_in(request: Request, session: Session) -> Desk:
    """The session's grants still valid now; LoginRequired when none is.

    A grant from ``role`` holds while Member.role is moderator; one the chat platform vouched
    for (``platform-admin``, via /desk) holds for the session's lifetime.
    """
    grants: dict[int, Grant] = {}
    for member_id, community_id, granted_by in request.session.get("grants", []):
        member = session.get(Member, member_id)
        community = session.get(Community, community_id)
        if member is None or community is None or member.community_id != community_id:
            continue
        if granted_by == "role" and member.role != "moderator":
            continue
        grants[community_id] = Grant(member, community)
    if not grants:
        raise LoginRequired
    return Desk(grants)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """CsrfFailed unless ``submitted`` (form field or X-CSRF-Token header) is the session's."""
    expected = request.session.get(CSRF_FIELD)
    given = submitted or request.headers.get("x-csrf-token") or ""
    if not expected or not hmac.compare_digest(str(expected), given):
        raise CsrfFailed


class Throttle:
    """At most ``limit`` events per key in ``window_s`` seconds (failed logins per address)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        """Record one event for ``key``; False when over the limit."""
        now = time.monotonic() if now is None else now
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - self.window_s:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True


def grant_for(request: Request, session: Session, community_id: int) -> tuple[Desk, Grant]:
    """The session's grant for ``community_id``; another community is "not found" (404)."""
    from harvest.errors import NotFound

    desk = logged_in(request, session)
    grant = desk.grant(community_id)
    if grant is None:
        raise NotFound(f"no community {community_id} among yours", kind="community")
    return desk, grant
