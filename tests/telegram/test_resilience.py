"""Flood limits, broken updates, failing calls and secrets: the bot keeps serving."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy.engine import Engine

from bot.core.service import BotService
from bot.telegram_bot import TelegramBot
from harvest.errors import PlatformError
from tests.helpers.telegram_emulator import TelegramEmulator
from tests.telegram.conftest import CAROL, FUND, OLGA, TOKEN, World


async def test_429_slows_the_bot_down_and_nothing_is_lost(world: World) -> None:
    """Telegram's 429 on sendMessage: the bot waits retry_after, then the reply arrives."""
    world.tg.fail("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    asked = await world.tg.post(FUND, OLGA, "/status")
    said = await world.tg.wait_sent(timeout=5)
    waited = time.monotonic() - started
    assert said["reply_to_message"]["message_id"] == asked["message_id"]
    assert said["text"].startswith("Pairs:")
    assert world.tg.count("sendMessage") == 2  # the refused call, then the retry
    assert waited >= 1.0


async def test_malformed_update_is_logged_and_skipped(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """An update PTB cannot parse is logged; the updates after it are still served."""
    bad = await world.tg.push(
        {"message": {"message_id": 7, "date": "yesterday", "chat": "not a chat", "text": "x"}}
    )
    await world.qa()
    assert len(world.pairs()) == 1
    assert f"skipped malformed update {bad}" in caplog.text


async def test_failing_handler_is_logged_and_the_next_update_served(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A call failing inside a handler (bot muted: 400) costs that update only."""
    world.tg.fail("sendMessage", 400, description="Bad Request: not enough rights")
    muted = await world.tg.post(FUND, CAROL, "/help")
    await world.qa()
    assert len(world.pairs()) == 1
    assert "skipped after an error: BadRequest" in caplog.text
    assert all(m["reply_to_message"]["message_id"] != muted["message_id"] for m in world.tg.sent)


async def test_bad_token_is_a_clear_error_without_the_token(
    sqlite_engine: Engine, tg: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A token Telegram rejects fails start() with a PlatformError that never shows it."""
    caplog.set_level(logging.DEBUG)
    wrong = "999:wrong-token-that-must-not-leak"
    bot = TelegramBot(BotService(sqlite_engine), wrong, base_url=tg.base_url)
    with pytest.raises(PlatformError, match="rejected the bot token") as info:
        await bot.start()
    await bot.stop()
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert wrong not in caplog.text and wrong not in str(info.value)


async def test_unreachable_api_is_a_clear_error(sqlite_engine: Engine) -> None:
    """No network to the Bot API: start() says so in one line, without the token."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "999:token-that-must-not-leak"
    bot = TelegramBot(BotService(sqlite_engine), secret, base_url=f"http://127.0.0.1:{port}/bot")
    with pytest.raises(PlatformError, match="cannot reach the Telegram Bot API") as info:
        await bot.start()
    await bot.stop()
    assert secret not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


async def test_token_is_never_logged(
    sqlite_engine: Engine, tg: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Connecting, serving and stopping logs who the bot is, never its token."""
    caplog.set_level(logging.DEBUG)
    from tests.telegram.conftest import make_world_db

    make_world_db(sqlite_engine)
    bot = TelegramBot(BotService(sqlite_engine), TOKEN, base_url=tg.base_url)
    await bot.start()
    await tg.post(FUND, CAROL, "/help")
    await tg.wait_sent()
    await bot.stop()
    assert "connected as @fanqa_bot (id 7000001)" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text
