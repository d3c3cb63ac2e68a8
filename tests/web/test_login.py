"""Logging in to the desk: one-time links, 410 for used or expired ones, who may enter."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import LoginLink, utcnow
from storage.repo.communities import set_role
from storage.repo.logins import MAX_LINKS_PER_WINDOW, create_login_link, token_hash
from tests.web.builders import Seed, login_token
from tests.web.conftest import csrf_of, log_in


async def test_link_logs_in_once_then_410(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """A link shows a log-in button, logs in once, and then answers 410 (Gone)."""
    token = login_token(desk_engine, seeded.moderator)
    page = await client.get(f"/login/{token}")
    assert "王小明" in page.text and "fund" in page.text
    done = await client.post(f"/login/{token}", data={"csrf": csrf_of(page.text)})
    assert (done.status_code, done.headers["location"]) == (303, f"/c/{seeded.fund}/queue")
    queue = await client.get(f"/c/{seeded.fund}/queue")
    assert queue.status_code == 200 and "基金赎回要几天到账？" in queue.text
    again = await client.get(f"/login/{token}")
    assert again.status_code == 410 and "already used" in again.text
    reuse = await client.post(f"/login/{token}", data={"csrf": csrf_of(page.text)})
    assert reuse.status_code == 410


async def test_expired_link_is_410_and_unknown_is_404(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """A link older than 10 minutes is gone; a made-up one is not found."""
    with session_scope(desk_engine) as session:
        token = create_login_link(session, seeded.moderator, now=utcnow() - timedelta(minutes=11))
    assert (await client.get(f"/login/{token}")).status_code == 410
    assert (await client.get("/login/not-a-real-token")).status_code == 404
    with session_scope(desk_engine) as session:
        row = session.exec(select(LoginLink).where(LoginLink.token_hash == token_hash(token))).one()
        assert row.used_at is None


async def test_without_a_session_pages_are_401(client: httpx.AsyncClient, seeded: Seed) -> None:
    """No session: 401 with how to get a link; actions change nothing."""
    page = await client.get(f"/c/{seeded.fund}/queue")
    assert page.status_code == 401 and "/desk" in page.text


async def test_login_post_without_csrf_is_403_and_keeps_the_link(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """A forged log-in (no CSRF token) is refused and the link stays usable."""
    token = login_token(desk_engine, seeded.moderator)
    forged = await client.post(f"/login/{token}", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert (await client.get(f"/login/{token}")).status_code == 200


async def test_a_member_who_is_not_a_moderator_gets_no_link_and_no_desk(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """No link for a plain member; a moderator demoted after logging in is shut out."""
    with session_scope(desk_engine) as session:
        try:
            create_login_link(session, seeded.member)
        except Exception as exc:  # PermissionDenied
            assert "not a moderator" in str(exc)
        else:
            raise AssertionError("a plain member got a login link")
    await log_in(client, desk_engine, seeded.moderator)
    with session_scope(desk_engine) as session:
        set_role(session, seeded.moderator, "member")
    assert (await client.get(f"/c/{seeded.fund}/queue")).status_code == 401


async def test_links_are_rate_limited_per_member(desk_engine: Engine, seeded: Seed) -> None:
    """More than MAX_LINKS_PER_WINDOW links in 10 minutes: TooManyLinks."""
    from storage.repo.logins import TooManyLinks

    with session_scope(desk_engine) as session:
        for _ in range(MAX_LINKS_PER_WINDOW):
            create_login_link(session, seeded.moderator)
    with session_scope(desk_engine) as session:
        try:
            create_login_link(session, seeded.moderator)
        except TooManyLinks:
            pass
        else:
            raise AssertionError("no rate limit")


async def test_healthz(client: httpx.AsyncClient) -> None:
    """/healthz answers 200 with the database reachable."""
    reply = await client.get("/healthz")
    assert (reply.status_code, reply.json()) == (200, {"ok": True})
