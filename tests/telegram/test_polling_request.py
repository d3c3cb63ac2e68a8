"""The aiohttp request the bot polls with: PTB's answers, timeouts and network errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.telegram_bot.polling_request import PollingRequest
from tests.helpers.telegram_emulator import TelegramEmulator
from tests.telegram.conftest import TOKEN


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    """A Bot API URL whose every call takes 2 s."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": []})

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_updates_arrive_as_ptb_updates(tg: TelegramEmulator) -> None:
    """Through the real Bot: getUpdates' form parameters reach the server, PTB parses."""
    tg.add_user(5, "Ann")
    tg.add_chat(-1005, "g")
    await tg.post(-1005, 5, "hello")
    bot = Bot(TOKEN, base_url=tg.base_url, get_updates_request=PollingRequest())
    async with bot:
        updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert tg.allowed_updates == ["message"]


async def test_slow_answer_is_timed_out(slow_server: str) -> None:
    request = PollingRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{slow_server}{TOKEN}/getUpdates")
    finally:
        await request.shutdown()


async def test_unreachable_server_is_a_network_error() -> None:
    request = PollingRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{_closed_port()}/bot{TOKEN}/getUpdates")
    finally:
        await request.shutdown()
    assert not isinstance(raised.value, TimedOut)
    assert TOKEN not in str(raised.value)


async def test_unused_after_shutdown() -> None:
    request = PollingRequest()
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:1/", "POST")
