"""A running fanqa Telegram bot (real python-telegram-bot) against the local Bot API emulator.

The world: community "fund" owns the supergroup FUND (owner Olga) and the forum FORUM;
community "game" owns GAME (owner Gabe). Alice asks, Bob answers, Carol is a member.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.harvesting import Harvester
from bot.core.service import BotService
from bot.telegram_bot import TelegramBot
from storage.db import session_scope
from storage.models import Message, QAPair
from storage.repo.communities import get_or_create_community, upsert_chat
from storage.repo.pairs import review_pair
from tests.helpers.telegram_emulator import JSON, TelegramEmulator

TOKEN = "424242:AAE-secret-token-never-logged"
FUND, FORUM, GAME, STRANGERS = -1001111111111, -1003333333333, -1002222222222, -1009999999999
OLGA, GABE, ALICE, BOB, CAROL = 11, 21, 101, 102, 103


@dataclass
class World:
    """The database, the emulator and the running bot."""

    engine: Engine
    tg: TelegramEmulator
    service: BotService
    bot: TelegramBot
    fund_id: int
    game_id: int

    def pairs(self) -> list[QAPair]:
        with session_scope(self.engine) as s:
            return list(s.exec(select(QAPair).order_by(col(QAPair.id))).all())

    def messages(self) -> list[Message]:
        with session_scope(self.engine) as s:
            return list(s.exec(select(Message).order_by(col(Message.id))).all())

    async def settle(self, chat: int = FUND) -> None:
        """Return once the bot handled every update so far (it handles them in order, so
        the answer to a fresh /help marks the point)."""
        before = len(self.tg.sent)
        asked = await self.tg.post(chat, CAROL, "/help")
        await self.tg.wait_sent(
            lambda m: m.get("reply_to_message", {}).get("message_id") == asked["message_id"],
            after=before,
        )

    async def qa(self, chat: int = FUND, n: int = 1) -> tuple[JSON, JSON]:
        """Alice asks, Bob replies; (question, answer) once the bot stored the pair."""
        question = await self.tg.post(chat, ALICE, f"How do I redeem fund number {n}?")
        answer = await self.tg.post(
            chat,
            BOB,
            f"Open the app, pick fund {n} and tap Redeem; money arrives in T+2.",
            reply_to=question["message_id"],
        )
        await self.settle(chat)
        return question, answer

    def seed_approved(self, question: str, answer: str) -> int:
        """An approved pair in "fund", harvested from FUND without the bot (fast)."""
        from bot.core.events import MessageEvent
        from harvest.model import ChatMessage
        from storage.models import utcnow

        harvester = Harvester(self.engine)
        chat, now = str(FUND), utcnow()
        qid, aid = f"seed-q{len(self.pairs())}", f"seed-a{len(self.pairs())}"
        for mid, who, text, to in ((qid, "901", question, None), (aid, "902", answer, qid)):
            msg = ChatMessage("telegram", chat, mid, who, who, text, now, reply_to_id=to)
            outcome = harvester.handle_message(MessageEvent(msg))
        assert outcome.kind == "paired", outcome
        with session_scope(self.engine) as s:
            pair = review_pair(s, outcome.pair_ids[0], "approve", community_id=self.fund_id)
            return pair.id or 0


def make_world_db(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        fund = get_or_create_community(s, "fund")
        game = get_or_create_community(s, "game")
        upsert_chat(s, fund.id or 0, "telegram", str(FUND), "Fund club")
        upsert_chat(s, fund.id or 0, "telegram", str(FORUM), "Fund forum")
        upsert_chat(s, game.id or 0, "telegram", str(GAME), "Game club")
        return fund.id or 0, game.id or 0


def make_emulator() -> TelegramEmulator:
    tg = TelegramEmulator(TOKEN)
    for uid, name in ((OLGA, "Olga"), (GABE, "Gabe"), (ALICE, "Alice"), (BOB, "Bob")):
        tg.add_user(uid, name, name.lower())
    tg.add_user(CAROL, "Carol")
    tg.add_chat(FUND, "Fund club", owner=OLGA)
    tg.add_chat(FORUM, "Fund forum", forum=True, owner=OLGA)
    tg.add_chat(GAME, "Game club", owner=GABE)
    tg.add_chat(STRANGERS, "Not linked", owner=CAROL)
    return tg


@pytest.fixture
async def tg() -> AsyncIterator[TelegramEmulator]:
    async with make_emulator() as emulator:
        yield emulator


@pytest.fixture
async def world(sqlite_engine: Engine, tg: TelegramEmulator) -> AsyncIterator[World]:
    fund_id, game_id = make_world_db(sqlite_engine)
    service = BotService(sqlite_engine)
    bot = TelegramBot(service, TOKEN, base_url=tg.base_url, poll_timeout=5)
    await bot.start()
    try:
        yield World(sqlite_engine, tg, service, bot, fund_id, game_id)
    finally:
        await bot.stop()
