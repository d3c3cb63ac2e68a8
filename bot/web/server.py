"""Serving the desk with uvicorn: alone (``fanqa web``) or inside ``fanqa run``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time

import uvicorn
from sqlalchemy.engine import Engine

from bot.settings import DEFAULT_WEB_PORT, Settings
from bot.web.app import create_app
from bot.web.auth import load_secret

__all__ = ["ThreadedDesk", "WebServer", "build_server"]

log = logging.getLogger(__name__)
_TOKEN = re.compile(r"(/login/)[^\s/?\"]+")


class _RedactTokens(logging.Filter):
    """Access-log lines never carry a login token."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The message as formatted: the CLI's log sanitizer may already have folded the
        # arguments into ``msg`` (harvest.sanitize), so redacting ``args`` alone is not enough.
        record.msg, record.args = _TOKEN.sub(r"\1…", record.getMessage()), ()
        return True


def build_server(settings: Settings, engine: Engine, *, port: int | None = None) -> uvicorn.Server:
    """A uvicorn server for the desk on FANQA_WEB_HOST:FANQA_WEB_PORT (8080 when unset)."""
    app = create_app(engine, settings, secret=load_secret(settings))
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=port if port is not None else (settings.web_port or DEFAULT_WEB_PORT),
        log_config=None,
        lifespan="off",
        server_header=False,
    )
    logging.getLogger("uvicorn.access").addFilter(_RedactTokens())
    return uvicorn.Server(config)


class WebServer:
    """The desk as one more part ``fanqa run`` starts and stops with the bots."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.server = build_server(settings, engine)
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # the bind failed: raise it here
                raise RuntimeError("the review desk stopped while starting")
            await asyncio.sleep(0.05)
        log.info("review desk on %s", self.settings.desk_url)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


class ThreadedDesk:
    """The desk served from a background thread on a free port (browser tests, screenshots)."""

    def __init__(self, app: object, host: str = "127.0.0.1") -> None:
        import socket

        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.url = f"http://{host}:{port}"
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ThreadedDesk:
        self._thread = threading.Thread(target=self.server.run, name="fanqa-desk", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the desk did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
