"""The real discord.py client (through ``DiscordBot``) against the local Discord emulator.

World: guild "Fund DCA club" (channels #general and forum #help, linked to community
"fund"; Mia has a role with Manage Messages) and guild "Game night" (#lobby, community
"game"; Gus moderates there and is a plain member of the fund guild).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core import BotService
from bot.core.events import CommandEvent, DeleteEvent, EditEvent, MessageEvent, ReactionEvent
from bot.core.port import ChatPlatform
from bot.discord_bot import DiscordBot
from storage.db import session_scope
from storage.models import QAPair
from storage.repo.communities import get_or_create_community, upsert_chat
from tests.helpers.discord_emulator import DiscordEmulator, Guild

MODERATE = discord.Permissions(manage_messages=True, read_messages=True, send_messages=True)


class RecordingService(BotService):
    """The real service, also recording what each event did so tests can await it."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.seen: list[tuple[str, Any, Any]] = []
        self._changed = asyncio.Condition()

    async def _record(self, kind: str, event: Any, outcome: Any) -> Any:
        async with self._changed:
            self.seen.append((kind, event, outcome))
            self._changed.notify_all()
        return outcome

    async def on_message(
        self, event: MessageEvent, platform: ChatPlatform, *, prompt: str | None = None
    ) -> Any:
        out = await super().on_message(event, platform, prompt=prompt)
        return await self._record("message", event, out)

    async def on_edit(self, event: EditEvent) -> Any:
        return await self._record("edit", event, await super().on_edit(event))

    async def on_delete(self, event: DeleteEvent) -> Any:
        return await self._record("delete", event, await super().on_delete(event))

    async def on_reaction(self, event: ReactionEvent, platform: ChatPlatform) -> Any:
        return await self._record("reaction", event, await super().on_reaction(event, platform))

    async def on_command(self, event: CommandEvent, platform: ChatPlatform) -> str:
        text = await super().on_command(event, platform)
        await self._record("command", event, text)
        return text

    async def handled(
        self, kind: str, message_id: int | str, timeout: float = 5.0
    ) -> tuple[Any, Any]:
        """Wait until the bot handed the core a ``kind`` event about ``message_id``."""
        wanted = str(message_id)

        def match() -> tuple[Any, Any] | None:
            for k, event, outcome in self.seen:
                if k != kind:
                    continue
                mid = event.message.message_id if kind == "message" else event.message_id
                if mid == wanted:
                    return event, outcome
            return None

        async def wait() -> tuple[Any, Any]:
            async with self._changed:
                while (found := match()) is None:
                    await self._changed.wait()
                return found

        return await asyncio.wait_for(wait(), timeout)


@dataclass
class World:
    """The emulator, the running bot and the ids tests act with."""

    emu: DiscordEmulator
    engine: Engine
    service: RecordingService
    bot: DiscordBot
    fund: Guild
    game: Guild
    general: int
    forum: int
    lobby: int
    offtopic: int
    users: dict[str, int] = field(default_factory=dict)

    def pairs(self, where: Callable[[Any], Any] | None = None) -> list[QAPair]:
        with session_scope(self.engine) as s:
            query = select(QAPair).order_by(col(QAPair.id))
            if where is not None:
                query = query.where(where(QAPair))
            return list(s.exec(query).all())

    def pair(self, pair_id: int) -> QAPair:
        with session_scope(self.engine) as s:
            found = s.get(QAPair, pair_id)
            assert found is not None
            return found

    async def say(self, who: str, text: str, *, channel: int | None = None, **kw: Any) -> int:
        """``who`` posts ``text`` (in #general by default) and the bot has handled it."""
        mid = await self.emu.post(channel or self.general, self.users[who], text, **kw)
        await self.service.handled("message", mid)
        return mid

    async def qa(self) -> tuple[int, int, int]:
        """Alice asks in #general, Bob replies with the reply button: (question, answer, pair)."""
        q = await self.say("alice", "How do I reset my password?")
        a = await self.emu.post(
            self.general, self.users["bob"], "Open settings and tap reset.", reply_to=q
        )
        _, outcome = await self.service.handled("message", a)
        assert outcome.harvest.kind == "paired"
        return q, a, outcome.harvest.pair_ids[0]


def build_world(emu: DiscordEmulator) -> dict[str, Any]:
    fund = emu.add_guild("Fund DCA club")
    game = emu.add_guild("Game night")
    emu.add_guild("Unlinked guild")
    users = {
        name: emu.add_user(name.capitalize()) for name in ("alice", "bob", "carol", "mia", "gus")
    }
    mods = emu.add_role(fund, "Moderator", MODERATE)
    game_mods = emu.add_role(game, "Game mods", MODERATE)
    for name in ("alice", "bob", "carol", "gus"):
        emu.add_member(fund, users[name])
    emu.add_member(fund, users["mia"], mods)
    emu.add_member(game, users["gus"], game_mods)
    emu.add_member(game, users["carol"])
    return {
        "fund": fund,
        "game": game,
        "general": emu.add_channel(fund, "general"),
        "forum": emu.add_channel(fund, "help", forum=True),
        "lobby": emu.add_channel(game, "lobby"),
        "offtopic": emu.add_channel(fund, "off-topic"),
        "users": users,
    }


def link(engine: Engine, community: str, *channels: int) -> None:
    with session_scope(engine) as s:
        row = get_or_create_community(s, community)
        for channel in channels:
            upsert_chat(s, row.id or 0, "discord", str(channel), f"#{channel}")


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        with emulator.patched():
            yield emulator


@pytest.fixture
async def world(emu: DiscordEmulator, sqlite_engine: Engine) -> AsyncIterator[World]:
    parts = build_world(emu)
    link(sqlite_engine, "fund", parts["general"], parts["forum"])
    link(sqlite_engine, "game", parts["lobby"])
    service = RecordingService(sqlite_engine)
    bot = DiscordBot(service, emu.token, guild_ready_timeout=0.05)
    await bot.start(timeout=10)
    try:
        yield World(emu, sqlite_engine, service, bot, **parts)
    finally:
        await bot.stop()
