"""/desk: a moderator gets a one-time link in private (never in the chat); it opens the desk."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.console import ConsoleSession
from bot.core.command_handler import CommandHandler
from bot.core.commands import NO_PRIVATE
from bot.core.events import CommandEvent
from bot.settings import Settings
from bot.web import create_app
from harvest.errors import PlatformError
from storage.database import Database
from storage.db import session_scope
from storage.models import LoginLink
from storage.repo.communities import get_or_create_community
from tests.bot.conftest import FakePlatform
from tests.web.conftest import csrf_of

URL = re.compile(r"http://desk\.test/login/\S+")


async def _console(engine: Engine, lines: list[str], *, moderator: bool) -> list[str]:
    out: list[str] = []
    with session_scope(engine) as session:
        get_or_create_community(session, "fund")
    console = ConsoleSession(
        engine, "fund", "mod", moderator=moderator, out=out.append, desk_url="http://desk.test"
    )
    for line in lines:
        await console.handle_line(line)
    return out


async def test_desk_link_goes_private_and_logs_in(desk_engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The chat sees only "sent you a private message"; the private line's link logs in."""
    out = await _console(desk_engine, ["/desk"], moderator=True)
    private = [line for line in out if "private to mod" in line]
    public = [line for line in out if "private to" not in line]
    assert len(private) == 1 and URL.search(private[0])
    assert not any(URL.search(line) for line in public)
    assert any("I sent you a private message" in line for line in public)
    url = URL.search(private[0]).group(0)  # type: ignore[union-attr]
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    app: FastAPI = create_app(desk_engine, settings, secret="s" * 40)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://desk.test"
    ) as client:
        page = await client.get(url)
        done = await client.post(url, data={"csrf": csrf_of(page.text)})
        assert done.status_code == 303
        assert (await client.get(done.headers["location"])).status_code == 200


async def test_desk_is_refused_to_members(desk_engine: Engine) -> None:
    """A member who is not a moderator gets the refusal and no link is made."""
    out = await _console(desk_engine, ["/desk"], moderator=False)
    assert any("only moderators" in line for line in out)
    assert not any("private to" in line for line in out)
    with session_scope(desk_engine) as session:
        assert session.exec(select(LoginLink)).all() == []


class _NoDMs(FakePlatform):
    async def send_private(self, user_id: str, text: str) -> str:
        raise PlatformError("Forbidden: bot can't initiate conversation with a user")


async def test_when_the_private_message_fails_the_chat_is_told_how(
    desk_engine: Engine,
) -> None:
    """Telegram refuses DMs until the user opens a chat with the bot: say so, post no link."""
    from storage.repo.communities import upsert_chat

    with session_scope(desk_engine) as session:
        community = get_or_create_community(session, "fund")
        upsert_chat(session, community.id or 0, "fake", "g1", "group")
    platform = _NoDMs()
    platform.admins.add(("g1", "mod"))
    handler = CommandHandler(Database(desk_engine), desk_url="http://desk.test")
    reply = await handler.handle(CommandEvent("fake", "g1", "mod", "Mod", "desk", ()), platform)
    assert reply == NO_PRIVATE and platform.sent == []
