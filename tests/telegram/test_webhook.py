"""Webhook mode: Telegram POSTs updates to the bot, which checks the secret token."""

from __future__ import annotations

import socket

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.service import BotService
from bot.telegram_bot import TelegramBot
from storage.db import session_scope
from storage.models import QAPair
from tests.helpers.telegram_emulator import TelegramEmulator
from tests.telegram.conftest import ALICE, BOB, FUND, TOKEN, make_world_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_harvests_and_checks_the_secret(
    sqlite_engine: Engine, tg: TelegramEmulator
) -> None:
    """setWebhook names message_reaction; updates with the secret are served, others not."""
    make_world_db(sqlite_engine)
    port = free_port()
    bot = TelegramBot(
        BotService(sqlite_engine),
        TOKEN,
        base_url=tg.base_url,
        webhook_url=f"http://127.0.0.1:{port}/telegram-hook",
        webhook_port=port,
        webhook_listen="127.0.0.1",
        webhook_secret="s3cret-header",
    )
    await bot.start()
    try:
        assert "message_reaction" in tg.webhook["allowed_updates"]
        question = await tg.post(FUND, ALICE, "How do I switch funds?")
        await tg.post(FUND, BOB, "Redeem, then buy the new one.", reply_to=question["message_id"])
        tg.webhook["secret_token"] = "wrong"
        await tg.post(FUND, ALICE, "How do I lose money?")
        assert tg.webhook_statuses == [200, 200, 403]
    finally:
        await bot.stop()
    with session_scope(sqlite_engine) as s:
        questions = [p.question_text for p in s.exec(select(QAPair)).all()]
    assert questions == ["How do I switch funds?"]
