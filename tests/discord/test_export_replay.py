"""A DiscordChatExporter export and the same messages seen live yield the same pairs.

The fixture export (a channel, a thread started from one of its messages, a thread started
without one, and a forum post) goes through ``fanqa import discord`` into community
"exported"; the same messages, in time order, are replayed through the emulator into a
second guild whose channels belong to community "live". Ids differ (Discord mints new ones,
with the export's timestamps); the question and answer texts must not.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.discord_bot import DiscordBot
from bot.settings import get_settings
from storage.models import Community, QAPair
from tests.discord.conftest import RecordingService, link
from tests.helpers.discord_emulator import DiscordEmulator, snowflake
from tests.helpers.pair_rows import pair_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"
SOURCES = [FIXTURES / "folder", FIXTURES / "single" / "forum-post.json"]
KINDS = {"Default": 0, "Reply": 19, "ThreadCreated": 18, "ChatInputCommand": 20}


def fanqa_import(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """``fanqa import discord PATH -c exported`` for every source, on the test database."""
    monkeypatch.setenv("FANQA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        for source in SOURCES:
            result = CliRunner().invoke(
                app, ["import", "discord", str(source), "-c", "exported", "--json"]
            )
            assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()


def export_files() -> list[dict[str, Any]]:
    paths = [p for s in SOURCES for p in (sorted(s.glob("*.json")) if s.is_dir() else [s])]
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


class Replay:
    """Posts export messages through the emulator as the users who wrote them."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.guild = emu.add_guild("Fund DCA club (live)")
        self.mods = emu.add_role(self.guild, "Moderator", discord.Permissions(manage_messages=True))
        self.channels: dict[str, int] = {}  # export channel id → live channel id
        self.ids: dict[str, int] = {}  # export message id → live message id
        self.users: dict[str, int] = {}
        self.threads: dict[str, dict[str, Any]] = {}  # export thread id → its channel object
        self.posted: list[int] = []

    def channel(self, export_id: str, name: str, *, forum: bool = False) -> int:
        if export_id not in self.channels:
            self.channels[export_id] = self.emu.add_channel(self.guild, name, forum=forum)
        return self.channels[export_id]

    def user(self, author: dict[str, Any]) -> int:
        if author["id"] not in self.users:
            uid = self.emu.add_user(author.get("nickname") or author["name"], bot=author["isBot"])
            roles = [r["name"] for r in author.get("roles") or []]
            self.emu.add_member(self.guild, uid, *([self.mods] if "Moderator" in roles else []))
            self.users[author["id"]] = uid
        return self.users[author["id"]]

    def plan(self, files: list[dict[str, Any]]) -> list[tuple[datetime, dict[str, Any], Any]]:
        """Every message with where it goes, oldest first (the order Discord saw them)."""
        items = []
        for export in files:
            channel = export["channel"]
            if "Thread" in channel["type"]:
                self.threads[channel["id"]] = channel
            else:
                self.channel(channel["id"], channel["name"])
            for message in export["messages"]:
                at = datetime.fromisoformat(message["timestamp"])
                items.append((at, message, channel))
        return sorted(items, key=lambda item: item[0])

    async def thread(self, channel: dict[str, Any], at: datetime, first: dict[str, Any]) -> int:
        """The live thread for an export thread, created before its first message."""
        if channel["id"] in self.channels:
            return self.channels[channel["id"]]
        starts_itself = channel["id"] == first["id"]  # only a forum post does
        parent = self.channel(channel["categoryId"], channel["category"], forum=starts_itself)
        forum = self.guild.channels[parent]["type"] == 15
        owner = self.user(first["author"])
        if forum:  # a forum post: the thread and its first message share one id
            thread = await self.emu.create_thread(
                parent, owner, channel["name"], first_message=first["content"], at=at
            )
            self.ids[first["id"]] = thread
            self.posted.append(thread)
        else:  # started from a parent message (same id) or on its own
            thread = await self.emu.create_thread(
                parent, owner, channel["name"], thread_id=self.ids.get(channel["id"]), at=at
            )
        self.channels[channel["id"]] = thread
        return thread

    async def post(self, at: datetime, message: dict[str, Any], channel: dict[str, Any]) -> None:
        if "Thread" in channel["type"]:
            target = await self.thread(channel, at, message)
            if message["id"] in self.ids:
                return  # the forum post itself, posted with its thread
        else:
            target = self.channels[channel["id"]]
        kind = KINDS[message["type"]]
        if kind == 18:  # "started a thread": Discord creates the thread, then says so
            ref = message["reference"]["channelId"]
            self.channels[ref] = await self.emu.create_thread(
                target, self.user(message["author"]), self.threads[ref]["name"], at=at
            )
        reply_to = reply_in = None
        ref = message.get("reference") or {}
        if kind == 19 and ref.get("messageId"):
            reply_to = self.ids.get(ref["messageId"]) or snowflake()
            if ref.get("channelId") not in (channel["id"], None):
                reply_in = self.channel(ref["channelId"], "elsewhere")
        mid = await self.emu.post(
            target,
            self.user(message["author"]),
            message["content"],
            kind=kind,
            reply_to=reply_to,
            reply_in=reply_in,
            at=at,
            attachments=len(message.get("attachments") or []),
        )
        self.ids[message["id"]] = mid
        self.posted.append(mid)


def pairs_of(engine: Engine, community: str) -> list[tuple[str, str]]:
    with Session(engine) as s:
        found = s.exec(
            select(QAPair.question_text, QAPair.answer_text)
            .join(Community, Community.id == QAPair.community_id)  # type: ignore[arg-type]
            .where(Community.name == community)
        ).all()
    return sorted((q, a) for q, a in found)


async def test_live_replay_yields_the_same_pairs_as_the_import(
    emu: DiscordEmulator, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaying an export message by message through Discord gives the import's pairs."""
    fanqa_import(sqlite_engine, monkeypatch)
    replay = Replay(emu)
    plan = replay.plan(export_files())
    # the live community watches the replay guild's text channel and forum
    general = replay.channel("1100000000000000001", "general")
    forum = replay.channel("1200000000000000000", "help-forum", forum=True)
    link(sqlite_engine, "live", general, forum)
    service = RecordingService(sqlite_engine)
    bot = DiscordBot(service, emu.token, guild_ready_timeout=0.05)
    await bot.start(timeout=10)
    try:
        for at, message, channel in plan:
            await replay.post(at, message, channel)
        for mid in replay.posted:
            await service.handled("message", mid)
    finally:
        await bot.stop()
    exported = pairs_of(sqlite_engine, "exported")
    assert len(exported) == 4
    assert pairs_of(sqlite_engine, "live") == exported
    # Field by field, both written by the one pair writer (user ids differ: names), the
    # method included: a thread message without the reply button is a thread answer live
    # as on import. Score, confidence and its reason (columns 3-5) differ where the export
    # gives no roles for Grace (her thread and forum-post answers): the import ranks them
    # as a member's, the live bot reads her guild role (Moderator).
    rows = pair_rows(sqlite_engine, "exported", people="display_name")
    live = pair_rows(sqlite_engine, "live", people="display_name")
    assert [r[:3] + r[6:] for r in live] == [r[:3] + r[6:] for r in rows]
    same = [(lv, ex) for lv, ex in zip(live, rows, strict=True) if lv[3:6] == ex[3:6]]
    assert [ex[0] for _, ex in same] == ["What is the difference between A and C share classes?"]
    assert {(lv[3], ex[3]) for lv, ex in zip(live, rows, strict=True)} - {(12.5, 12.5)} == {
        (12.0, 2.0)  # a moderator's thread answer live, a member's on import
    }
