"""The training worker: claim a queued run, execute it, tell the moderators how it went.

``fanqa worker`` runs ``Worker.run_forever`` in its own process (on the GPU machine);
``fanqa run`` can run one in a thread for single-machine installs. Several workers may share
one database: ``claim_run`` hands each run to exactly one of them.

- Execution: every run goes to ``trainer.round.execute_run`` with the run's backend from the
  registry (``trainer.backend``); a re-queued run resumes (local: from its checkpoint; hosted:
  re-attached to its job). ``fanqa train --wait`` claims and executes through a Worker too, so
  a run is never executed twice.
- Restart-safety: ``recover`` (on start and every half heartbeat timeout) re-queues a run
  whose worker died once, fails it the second time, and re-queues hosted runs so they are
  followed again. While a run executes, a monitor thread refreshes its heartbeat.
- Notifications: queued (by whoever queued it), started, 25/50/75 %, finished or failed with
  the reason, the gate's table and chart, promotion. With ``notify=None`` they go to the
  outbox (``trainer.outbox``), which ``fanqa run`` delivers; otherwise to ``notify``
  (``(community_id, text, image) -> Any``, sync or async), e.g. ``BotService.notify``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from harvest.errors import ConflictError, FanqaError
from storage.db import session_scope
from storage.models import ModelVersion, RunStatus, TrainingRun, utcnow
from trainer import notices, outbox
from trainer.backend import BackendOptions, make_backend
from trainer.gate import GatePolicy
from trainer.round import execute_run
from trainer.runs import claim_run, fail_stale_runs, get_run, release_run
from trainer.summary import load_summary

__all__ = [
    "MILESTONES",
    "Executor",
    "Notify",
    "RoundExecutor",
    "Worker",
    "default_executor",
    "default_name",
]

log = logging.getLogger(__name__)

MILESTONES = (25, 50, 75)
Executor = Callable[[Engine, TrainingRun], TrainingRun]
Notify = Callable[[int, str, Path | None], Awaitable[Any] | Any]


def default_name() -> str:
    """``host:pid``: what ``training_runs.worker`` shows for this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class RoundExecutor:
    """Execute a claimed run with ``trainer.round.execute_run``; ``stop`` interrupts it."""

    def __init__(
        self,
        options: BackendOptions,
        *,
        runs_dir: str | Path,
        policy: GatePolicy | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.options, self.runs_dir, self.policy = options, runs_dir, policy
        self.on_event = on_event

    def __call__(self, engine: Engine, run: TrainingRun) -> TrainingRun:
        run_id = run.id or 0

        def event(text: str) -> None:
            log.info("run %s: %s", run_id, text)
            if self.on_event is not None:
                self.on_event(text)

        return execute_run(
            engine, run_id, self.options, runs_dir=self.runs_dir, policy=self.policy, on_event=event
        )

    def stop(self, run: TrainingRun) -> None:
        """The worker shuts down: the run's backend interrupts what runs here."""
        make_backend(run.backend, self.options).stop(run)


def default_executor(
    *,
    runs_dir: str | Path,
    options: BackendOptions | None = None,
    policy: GatePolicy | None = None,
    on_event: Callable[[str], None] | None = None,
) -> RoundExecutor:
    """An executor of runs with the registered backends, built with ``options``."""
    return RoundExecutor(
        options or BackendOptions(), runs_dir=runs_dir, policy=policy, on_event=on_event
    )


class Worker:
    """Claims and executes queued runs, one at a time (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        *,
        executor: Executor,
        name: str | None = None,
        notify: Notify | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        on_recorded: Callable[[], None] | None = None,
        heartbeat_timeout_s: float = 300.0,
        progress_interval_s: float = 2.0,
        max_attempts: int = 2,
    ) -> None:
        self.engine = engine
        self.executor = executor
        self.name = name or default_name()
        self.notify = notify
        self.loop = loop  # where an async ``notify`` must run (the bot's loop), if any
        self.on_recorded = on_recorded
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.progress_interval_s = progress_interval_s
        self.max_attempts = max_attempts
        self.current_run_id: int | None = None
        self._stopping = threading.Event()
        self._sent: set[str] = set()

    # -- notifications ------------------------------------------------------------------

    def emit(self, notice: notices.Notice | None) -> None:
        """Deliver or record ``notice`` once; never raises."""
        if notice is None:
            return
        try:
            if self.notify is None:
                new = outbox.record_now(
                    self.engine,
                    notice.community_id,
                    notice.text,
                    key=notice.key,
                    image=notice.image,
                )
                if new and self.on_recorded is not None:
                    self.on_recorded()
                return
            if notice.key in self._sent:
                return
            self._sent.add(notice.key)
            self._call_notify(notice)
        except Exception:  # a notification must never break training
            log.exception("notification %s failed", notice.key)

    def _call_notify(self, notice: notices.Notice) -> None:
        assert self.notify is not None
        result = self.notify(notice.community_id, notice.text, notice.image)
        if not inspect.isawaitable(result):
            return

        async def wait() -> Any:
            return await result

        if self.loop is not None and self.loop.is_running():
            future = asyncio.run_coroutine_threadsafe(wait(), self.loop)
            try:
                future.result(timeout=120)
            except FutureTimeout:
                log.warning("notification %s is taking long; not waiting", notice.key)
        else:
            asyncio.run(wait())

    # -- recovery -----------------------------------------------------------------------

    def recover(self, now: datetime | None = None) -> list[TrainingRun]:
        """Re-queue (once) or fail runs whose worker died; announce the failures."""
        with session_scope(self.engine) as session:
            stale = fail_stale_runs(
                session, self.heartbeat_timeout_s, now=now, max_attempts=self.max_attempts
            )
        for run in stale:
            log.warning("run %s had no heartbeat: now %s", run.id, run.status)
            if run.status == RunStatus.FAILED:
                self.emit(notices.finished(run))
        return stale

    # -- one run ------------------------------------------------------------------------

    def run_once(self, run_id: int | None = None) -> TrainingRun | None:
        """Claim one queued run (``run_id``, or the oldest) and execute it to its end; None
        when there is none to claim (another worker has it)."""
        run = claim_run(self.engine, self.name, run_id=run_id)
        if run is None:
            return None
        run_id = run.id or 0
        self.current_run_id = run_id
        log.info("worker %s claimed run %s (%s)", self.name, run_id, run.backend)
        # A hosted run with a job id is re-attached, not restarted: same attempt, same notices.
        attempt = max(1, run.attempts) if run.external_job_id else run.attempts + 1
        self.emit(notices.started(run, attempt))
        done = threading.Event()
        monitor = threading.Thread(
            target=self._monitor, args=(run_id, attempt, done), name=f"run-{run_id}", daemon=True
        )
        monitor.start()
        try:
            final = self._execute(run)
        finally:
            done.set()
            monitor.join(timeout=10)
            self.current_run_id = None
        interrupted = final.status in (RunStatus.FAILED, RunStatus.CANCELLED)
        if self._stopping.is_set() and interrupted and not final.cancel_requested:
            # We stopped it, not a moderator: it resumes from its checkpoint next time.
            with session_scope(self.engine) as session:
                final = release_run(session, run_id, "worker shut down; re-queued")
            log.info("run %s re-queued: the worker is shutting down", run_id)
            return final
        self._announce(final)
        return final

    def _execute(self, run: TrainingRun) -> TrainingRun:
        run_id = run.id or 0
        try:
            return self.executor(self.engine, run)
        except ConflictError as exc:  # e.g. cancelled between claim and start
            log.info("run %s not started: %s", run_id, exc)
            error: str = str(exc)
        except FanqaError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("run %s crashed in the worker", run_id)
            error = f"{type(exc).__name__}: {exc}"
        with session_scope(self.engine) as session:
            stored = get_run(session, run_id)
            if stored.status in (RunStatus.QUEUED, RunStatus.RUNNING):
                stored.status, stored.error, stored.finished_at = RunStatus.FAILED, error, utcnow()
                stored.pid = None
                session.add(stored)
            return stored

    def _announce(self, run: TrainingRun) -> None:
        self.emit(notices.finished(run))
        model_id = load_summary(run).model_version_id
        if run.status != RunStatus.SUCCEEDED or model_id is None:
            return
        with session_scope(self.engine) as session:
            model = session.get(ModelVersion, model_id)
        if model is None:
            return
        self.emit(notices.gate_table(run, model))
        self.emit(notices.gate_chart(run, model))
        if model.status == "live":
            self.emit(notices.promoted(model))

    def _monitor(self, run_id: int, attempt: int, done: threading.Event) -> None:
        """Heartbeat and milestone notices while the run executes."""
        reached: set[int] = set()
        while not done.wait(self.progress_interval_s):
            try:
                self._beat_and_report(run_id, attempt, reached)
            except Exception:  # the database hiccuped; try again next tick
                log.exception("monitoring run %s failed", run_id)

    def _beat_and_report(self, run_id: int, attempt: int, reached: set[int]) -> None:
        with session_scope(self.engine) as session:
            session.exec(
                update(TrainingRun)
                .where(col(TrainingRun.id) == run_id)
                .where(col(TrainingRun.status) == RunStatus.RUNNING)
                .values(heartbeat_at=utcnow())
            )
            run = get_run(session, run_id)
        if run.status != RunStatus.RUNNING or run.total_steps <= 0:
            return
        percent = 100 * run.step / run.total_steps
        due = [m for m in MILESTONES if percent >= m and m not in reached]
        if due:  # a jump over several milestones reports only the highest
            reached.update(due)
            self.emit(notices.progress(run, attempt, max(due)))

    # -- the loop -----------------------------------------------------------------------

    def run_forever(self, stop: threading.Event, poll_s: float = 10.0) -> None:
        """Recover, then execute queued runs until ``stop`` is set."""
        self.recover()
        last_sweep = utcnow()
        while not stop.is_set():
            ran = self.run_once()
            if (utcnow() - last_sweep).total_seconds() >= self.heartbeat_timeout_s / 2:
                self.recover()
                last_sweep = utcnow()
            if ran is None:
                stop.wait(poll_s)

    def stop(self) -> None:
        """Stop soon: a local run in progress is interrupted and goes back to the queue."""
        self._stopping.set()
        run_id = self.current_run_id
        if run_id is None:
            return
        with session_scope(self.engine) as session:
            run = get_run(session, run_id)
        stop = getattr(self.executor, "stop", None)
        if stop is not None and run.worker == self.name:
            stop(run)
