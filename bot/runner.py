"""``fanqa run``: the bots, the scheduler, notification delivery (and a worker) in one process.

One asyncio loop carries every configured chat platform (Telegram when
``FANQA_TELEGRAM_TOKEN`` is set, Discord when ``FANQA_DISCORD_TOKEN`` is), all feeding one
``BotService``; the training scheduler; the outbox delivery loop that posts worker and
scheduler notifications to moderator chats; and the auto-answer tick. With
``FANQA_WORKER_IN_PROCESS`` (the default, for single-machine installs) a training worker runs
in a thread; training itself always runs in a child process, never in this loop.

SIGINT / SIGTERM stop everything cleanly: a local run in progress goes back to the queue and
resumes from its checkpoint on the next start. Tokens are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy.engine import Engine

from bot.core.port import ChatPlatform
from bot.core.service import BotService
from bot.runtime import build_root
from bot.scheduler import TrainingScheduler
from bot.settings import Settings
from harvest.errors import InputError
from trainer.backend import BackendOptions
from trainer.enqueue import TrainingDefaults
from trainer.outbox import deliver_due
from trainer.worker import Worker, default_executor

__all__ = [
    "Runnable",
    "Runner",
    "build_platforms",
    "check_config",
    "make_worker",
    "serve",
]

log = logging.getLogger(__name__)

AUTO_ANSWER_EVERY_S = 30.0
DELIVER_EVERY_S = 5.0
SYNC_SCHEDULE_EVERY_S = 60.0
WORKER_POLL_S = 5.0


class Runnable(Protocol):
    """A chat platform adapter the runner starts and stops (TelegramBot, DiscordBot)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_platforms(settings: Settings, service: BotService) -> list[Runnable]:
    """The configured chat platforms; InputError (exit status 2) when there is none."""
    bots: list[Runnable] = []
    token = _secret(settings.telegram_token)
    if token:
        from bot.telegram_bot import TelegramBot

        bots.append(
            TelegramBot(
                service,
                token,
                base_url=settings.telegram_base_url,
                webhook_url=settings.telegram_webhook_url,
                webhook_port=settings.telegram_webhook_port,
                webhook_secret=_secret(settings.telegram_webhook_secret),
            )
        )
    token = _secret(settings.discord_token)
    if token:
        from bot.discord_bot import DiscordBot

        bots.append(DiscordBot(service, token, sharded=settings.discord_sharded))
    if not bots:
        raise InputError(
            "no chat platform configured: set FANQA_TELEGRAM_TOKEN and/or FANQA_DISCORD_TOKEN "
            "(in the environment or .env)"
        )
    return bots


def _describe(bot: object) -> str:
    name = getattr(getattr(bot, "platform", bot), "name", None) or type(bot).__name__
    return str(name)


def check_config(settings: Settings) -> list[str]:
    """Validate what ``fanqa run`` needs; returns what it found (no secrets), else InputError."""
    found = []
    engine = build_root(settings).engine
    found.append(f"database: {engine.url.render_as_string(hide_password=True)} (migrated)")
    platforms = [
        name
        for name, token in (
            ("telegram", settings.telegram_token),
            ("discord", settings.discord_token),
        )
        if _secret(token)
    ]
    if not platforms:
        raise InputError(
            "no chat platform configured: set FANQA_TELEGRAM_TOKEN and/or FANQA_DISCORD_TOKEN"
        )
    found.append(f"platforms: {', '.join(platforms)}")
    if settings.training_backend == "openai":
        if not _secret(settings.openai_api_key):
            raise InputError(
                "training_backend=openai needs FANQA_OPENAI_API_KEY (or OPENAI_API_KEY)",
                field="FANQA_OPENAI_API_KEY",
            )
        found.append(f"training: hosted, {settings.hosted_base_model}")
    else:
        found.append(f"training: local LoRA on {settings.base_model}")
    found.append(f"worker: {'in this process' if settings.worker_in_process else 'separate'}")
    from bot.scheduler import parse_cron
    from storage.db import session_scope
    from storage.repo import list_communities

    with session_scope(engine) as session:
        for community in list_communities(session):
            if community.train_cron.strip().lower() != "off":
                try:
                    parse_cron(community.train_cron, community.timezone)
                except InputError as exc:
                    raise InputError(str(exc), source=f"community {community.name}") from exc
            found.append(
                f"community {community.name}: training {community.train_cron} "
                f"({community.timezone})"
            )
    return found


def make_worker(
    settings: Settings,
    engine: Engine,
    *,
    name: str | None = None,
    notify: Any = None,
    loop: asyncio.AbstractEventLoop | None = None,
    on_recorded: Callable[[], None] | None = None,
) -> Worker:
    """A worker with the registered backends (the hosted client made only when needed)."""
    executor = default_executor(
        runs_dir=settings.runs_dir, options=BackendOptions.from_settings(settings)
    )
    return Worker(
        engine,
        executor=executor,
        name=name,
        notify=notify,
        loop=loop,
        on_recorded=on_recorded,
        heartbeat_timeout_s=settings.heartbeat_timeout_s,
    )


@dataclass
class Runner:
    """Everything ``fanqa run`` keeps alive, started and stopped together."""

    settings: Settings
    engine: Engine
    service: BotService
    platforms: Sequence[Runnable]
    worker_factory: Callable[..., Worker] | None = None
    deliver_every_s: float = DELIVER_EVERY_S
    auto_answer_every_s: float = AUTO_ANSWER_EVERY_S
    sync_every_s: float = SYNC_SCHEDULE_EVERY_S
    scheduler: TrainingScheduler | None = None
    worker: Worker | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _worker_stop: threading.Event = field(default_factory=threading.Event)
    _worker_thread: threading.Thread | None = None
    _started: list[Runnable] = field(default_factory=list)

    async def start(self) -> None:
        """Start platforms, scheduler, loops and (maybe) the worker."""
        loop = asyncio.get_running_loop()
        log.info("database %s", self.engine.url.render_as_string(hide_password=True))
        for bot in self.platforms:  # a failure here ends start(); stop() undoes the rest
            await bot.start()
            self._started.append(bot)
            platform = getattr(bot, "platform", bot)
            if hasattr(platform, "name"):
                self.service.register(cast(ChatPlatform, platform))
            log.info("connected to %s", _describe(bot))

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self.scheduler = TrainingScheduler(
            self.service.db,
            TrainingDefaults.from_settings(self.settings),
            on_queued=lambda _: wake(),
            learner=self.service.learner,
        )
        self.scheduler.start()
        self.service.attach_scheduling(self.scheduler)
        log.info("training scheduler started (%d job(s))", len(self.scheduler.scheduler.get_jobs()))
        self._loop_task(self._deliver_loop())
        self._loop_task(self._every(self.auto_answer_every_s, self._auto_answer))
        self._loop_task(self._every(self.sync_every_s, self._sync_schedule))
        if self.settings.worker_in_process:
            factory = self.worker_factory or make_worker
            self.worker = factory(self.settings, self.engine, on_recorded=wake)
            self._worker_thread = threading.Thread(
                target=self.worker.run_forever,
                args=(self._worker_stop, WORKER_POLL_S),
                name="fanqa-worker",
                daemon=True,
            )
            self._worker_thread.start()
            log.info("training worker %s running in this process", self.worker.name)

    def _loop_task(self, coro: Awaitable[None]) -> None:
        self._tasks.append(asyncio.ensure_future(coro))

    async def _every(self, seconds: float, action: Callable[[], Awaitable[Any]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await action()
            except Exception:  # one failing tick must not stop the loop
                log.exception("periodic %s failed", getattr(action, "__name__", action))

    async def _auto_answer(self) -> None:
        await self.service.auto_answer_due()

    async def _sync_schedule(self) -> None:
        if self.scheduler is not None:
            await self.service.db.offload(self.scheduler.sync)

    async def deliver_now(self) -> int:
        """Deliver due notifications through the service (moderator chats)."""
        return await deliver_due(self.engine, self.service.notify)

    async def _deliver_loop(self) -> None:
        while True:
            self._wake.clear()  # before delivering: a notice recorded meanwhile wakes us again
            try:
                await self.deliver_now()
            except Exception:
                log.exception("delivering notifications failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.deliver_every_s)

    async def stop(self) -> None:
        """Stop in reverse order; a run in progress is interrupted and re-queued."""
        if self.worker is not None:
            self.worker.stop()
            self._worker_stop.set()
            if self._worker_thread is not None:
                await asyncio.to_thread(self._worker_thread.join, 60)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.deliver_now()  # what the worker said last
        if self.scheduler is not None:
            self.service.attach_scheduling(None)
            self.scheduler.shutdown()
        for bot in reversed(self._started):
            try:
                await bot.stop()
            except Exception:
                log.exception("stopping %s failed", _describe(bot))
        self._started.clear()
        log.info("stopped")


async def serve(
    settings: Settings,
    *,
    platforms: Sequence[Runnable] | None = None,
    stop: asyncio.Event | None = None,
    worker_factory: Callable[..., Worker] | None = None,
    on_started: Callable[[Runner], Any] | None = None,
) -> None:
    """Run until ``stop`` is set, or SIGINT / SIGTERM arrives."""
    root = build_root(settings)
    engine, service = root.engine, root.service()
    bots = list(platforms) if platforms is not None else build_platforms(settings, service)
    if settings.web_port is not None:  # the review desk, started and stopped with the bots
        from bot.web.server import WebServer

        bots.append(WebServer(settings, engine))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    runner = Runner(settings, engine, service, bots, worker_factory=worker_factory)
    try:
        await runner.start()
        if on_started is not None:
            on_started(runner)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
