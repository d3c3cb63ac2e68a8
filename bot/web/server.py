"""Serving the desk with uvicorn: alone (``fanqa web``) or inside ``fanqa run``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

import uvicorn
from sqlalchemy.engine import Engine

from bot.settings import DEFAULT_WEB_PORT, Settings
from bot.web.app import create_app
from bot.web.auth import load_secret

__all__ = ["WebServer", "build_server"]

log = logging.getLogger(__name__)
_TOKEN = re.compile(r"(/login/)[^\s/?\"]+")


class _RedactTokens(logging.Filter):
    """Access-log lines never carry a login token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
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
