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


@pytest.fixture
async def forward_proxy() -> AsyncIterator[tuple[str, list[bytes]]]:
    """An HTTP forward proxy that answers every call itself: (its URL, request lines seen)."""
    seen: list[bytes] = []
    body = b'{"ok": true, "result": []}'

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b"\r\n", 1)[0])
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", seen
    server.close()
    await server.wait_closed()


async def test_http_proxy_from_the_environment_is_used(
    forward_proxy: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY applies as it does to PTB's own requests: the call goes through it."""
    proxy, seen = forward_proxy
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    target = f"http://127.0.0.1:{_closed_port()}/bot{TOKEN}/getUpdates"
    request = PollingRequest(connect_timeout=2.0)
    await request.initialize()
    try:
        for _ in range(2):  # the second call reuses the looked-up proxy
            status, payload = await request.do_request(target, "POST")
            assert (status, payload) == (200, b'{"ok": true, "result": []}')
    finally:
        await request.shutdown()
    assert seen == [f"POST {target} HTTP/1.1".encode()] * 2


async def test_no_proxy_host_is_reached_directly(
    tg: TelegramEmulator, forward_proxy: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, seen = forward_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bot = Bot(TOKEN, base_url=tg.base_url, get_updates_request=PollingRequest())
    async with bot:
        assert await bot.get_updates(timeout=0) == ()
    assert seen == []
