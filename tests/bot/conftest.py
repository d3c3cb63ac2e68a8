"""A fake chat platform (a real class implementing the port) and a two-community world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core import CommandEvent, CommandHandler, Harvester, MessageEvent, ReactionModerator
from bot.core.events import ReactionEvent
from harvest.model import ChatMessage
from storage.database import Database
from storage.db import session_scope
from storage.models import QAPair, ReviewEvent
from storage.repo.communities import (
    get_or_create_community,
    get_or_create_member,
    set_role,
    upsert_chat,
)
from storage.repo.settings_check import register_platform

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PLATFORM = "fake"
register_platform(PLATFORM)  # the fake adapter may be a moderator chat


class FakePlatform:
    """Records what the bot sends; platform admins are (chat, user) pairs."""

    name = PLATFORM
    text_limit = 4096

    def __init__(self) -> None:
        self.admins: set[tuple[str, str]] = set()
        self.sent: list[tuple[str, str | None, str]] = []
        self.reactions: list[tuple[str, str, str]] = []

    async def reply(self, chat_id: str, to_message_id: str, text: str) -> str:
        self.sent.append((chat_id, to_message_id, text))
        return f"bot-{len(self.sent)}"

    async def send(self, chat_id: str, text: str) -> str:
        self.sent.append((chat_id, None, text))
        return f"bot-{len(self.sent)}"

    async def send_photo(self, chat_id: str, path: Path, caption: str) -> str:
        self.sent.append((chat_id, None, f"[photo {path.name}] {caption}"))
        return f"bot-{len(self.sent)}"

    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        self.reactions.append((chat_id, message_id, emoji))

    async def is_moderator(self, chat_id: str, user_id: str) -> bool:
        return (chat_id, user_id) in self.admins

    def message_link(self, chat_id: str, message_id: str) -> str | None:
        return None

    async def send_private(self, user_id: str, text: str) -> str:
        self.sent.append((f"private:{user_id}", None, text))
        return f"bot-{len(self.sent)}"


def message(
    mid: str,
    author: str,
    text: str,
    *,
    chat: str = "g1",
    reply_to: str | None = None,
    at: float = 0.0,
    is_bot: bool = False,
) -> MessageEvent:
    """A message event from ``author`` (id and display name) ``at`` seconds after T0."""
    return MessageEvent(
        ChatMessage(
            platform=PLATFORM,
            chat_id=chat,
            message_id=mid,
            author_id=author,
            author_name=author.capitalize(),
            text=text,
            sent_at=T0 + timedelta(seconds=at),
            reply_to_id=reply_to,
            is_bot=is_bot,
        )
    )


def reaction(mid: str, user: str, emoji: str = "✅", *, added: bool = True, chat: str = "g1"):
    """A reaction event by ``user`` on message ``mid``."""
    return ReactionEvent(PLATFORM, chat, mid, user, user.capitalize(), emoji, added)


def command(name: str, *args: str, user: str = "mod", chat: str = "g1") -> CommandEvent:
    """A command event by ``user``."""
    return CommandEvent(PLATFORM, chat, user, user.capitalize(), name, args)


@dataclass
class World:
    """Community "fund" (chat g1, moderator "mod") and "game" (chat g2, moderator "gmod")."""

    engine: Engine
    platform: FakePlatform
    harvester: Harvester
    moderation: ReactionModerator
    commands: CommandHandler
    fund_id: int
    game_id: int

    def pairs(self, *, live_only: bool = False) -> list[QAPair]:
        """Every stored pair, oldest first."""
        with session_scope(self.engine) as s:
            query = select(QAPair).order_by(col(QAPair.id))
            if live_only:
                query = query.where(col(QAPair.deleted_at).is_(None))
            return list(s.exec(query).all())

    def events(self) -> list[ReviewEvent]:
        """Every review event, oldest first."""
        with session_scope(self.engine) as s:
            return list(s.exec(select(ReviewEvent).order_by(col(ReviewEvent.id))).all())

    def qa(self) -> int:
        """Post question q1 (alice) and bob's reply a1 in g1; the new pair's id."""
        self.harvester.handle_message(message("q1", "alice", "How do I reset my password?"))
        outcome = self.harvester.handle_message(
            message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30)
        )
        assert outcome.kind == "paired"
        return outcome.pair_ids[0]


@pytest.fixture
def world(sqlite_engine: Engine) -> World:
    """A fresh two-community world with its moderators."""
    with session_scope(sqlite_engine) as s:
        fund = get_or_create_community(s, "fund")
        game = get_or_create_community(s, "game")
        upsert_chat(s, fund.id or 0, PLATFORM, "g1", "Fund chat")
        upsert_chat(s, game.id or 0, PLATFORM, "g2", "Game chat")
        for community_id, user in ((fund.id or 0, "mod"), (game.id or 0, "gmod")):
            member = get_or_create_member(s, community_id, PLATFORM, user, user.capitalize())
            set_role(s, member.id or 0, "moderator")
        ids = (fund.id or 0, game.id or 0)
    db = Database(sqlite_engine)
    return World(
        sqlite_engine,
        FakePlatform(),
        Harvester(sqlite_engine),
        ReactionModerator(db),
        CommandHandler(db),
        *ids,
    )
