"""`fanqa run` with FANQA_WEB_PORT serves the desk beside the bots, and stops it with them."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx

from bot.runner import Runner, serve
from bot.settings import Settings
from tests.worker.test_runner import StartablePlatform


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_serves_the_desk_when_a_port_is_set(tmp_path: Path) -> None:
    """/healthz answers while `fanqa run` runs; /desk links point at FANQA_WEB_BASE_URL."""
    port = _free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'fanqa.db'}",
        data_dir=tmp_path / "data",
        worker_in_process=False,
        web_port=port,
        web_base_url="https://desk.example.org/",
    )
    stop = asyncio.Event()
    started: asyncio.Queue[Runner] = asyncio.Queue()
    task = asyncio.ensure_future(
        serve(settings, platforms=[StartablePlatform()], stop=stop, on_started=started.put_nowait)
    )
    try:
        runner = await asyncio.wait_for(started.get(), 30)
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert (reply.status_code, reply.json()) == (200, {"ok": True})
        assert runner.service.commands.desk_url == "https://desk.example.org"
        assert (tmp_path / "data" / "web_secret").exists()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    async with httpx.AsyncClient() as client:
        try:
            await client.get(f"http://127.0.0.1:{port}/healthz")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the desk still answers after fanqa run stopped")


def test_web_settings_are_validated() -> None:
    """A base URL without http(s):// or a port out of range is refused with the reason."""
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(_env_file=None, web_base_url="desk.example.org")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="65535"):
        Settings(_env_file=None, web_port=70000)  # type: ignore[call-arg]
    default = Settings(_env_file=None, web_host="0.0.0.0")  # type: ignore[call-arg]
    assert default.desk_url == "http://127.0.0.1:8080"
