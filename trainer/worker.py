"""The training worker: claim a queued run, execute it, tell the moderators how it went.

``fanqa worker`` runs ``Worker.run_forever`` in its own process (on the GPU machine);
``fanqa run`` can run one in a thread for single-machine installs. Several workers may share
one database: ``claim_run`` hands each run to exactly one of them.

- Execution: local runs go to ``trainer.runs.execute_run`` (a child process with heartbeats;
  a re-queued run resumes from its checkpoint), hosted runs to
  ``trainer.hosted.execute_hosted_run`` (which re-attaches to ``external_job_id`` when set).
  Both evaluate the candidate with the gate and promote or reject it.
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
import contextlib
import inspect
import logging
import os
import signal
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
from trainer.gate import GatePolicy
from trainer.runs import claim_run, execute_run, fail_stale_runs, get_run, release_run

__all__ = ["MILESTONES", "Executor", "Notify", "Worker", "default_executor", "default_name"]

log = logging.getLogger(__name__)

MILESTONES = (25, 50, 75)
Executor = Callable[[Engine, TrainingRun], TrainingRun]
Notify = Callable[[int, str, Path | None], Awaitable[Any] | Any]


def default_name() -> str:
    """``host:pid``: what ``training_runs.worker`` shows for this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def default_executor(
    *,
    runs_dir: str | Path,
    device: str | None = None,
    policy: GatePolicy | None = None,
    hosted_backend: Callable[[], Any] | None = None,
    scrub: bool = True,
) -> Executor:
    """Run local runs in a child process, hosted ones through ``trainer.hosted``.

    ``hosted_backend`` makes the hosted backend (e.g. ``HostedBackend.from_settings``); it is
    called only when a hosted run comes up, so installs without one never import it.
    """

    def execute(engine: Engine, run: TrainingRun) -> TrainingRun:
        if run.backend == "local":
            # out_dir is set once a run has started: a re-queued run resumes its checkpoint.
            resume = bool(run.out_dir)
            return execute_run(
                engine, run.id or 0, runs_dir=runs_dir, device=device, policy=policy, resume=resume
            )
        if hosted_backend is None:
            raise ConflictError(f"run {run.id} needs the {run.backend!r} backend: not configured")
        from trainer.hosted import execute_hosted_run  # only installs with a hosted backend

        return execute_hosted_run(
            engine,
            run.id or 0,
            hosted_backend(),
            runs_dir=runs_dir,
            policy=policy,
            scrub=scrub,
            on_event=lambda text: log.info("run %s: %s", run.id, text),
        )

    return execute


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

    def run_once(self) -> TrainingRun | None:
        """Claim one queued run and execute it to its end; None when the queue is empty."""
        run = claim_run(self.engine, self.name)
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
        model_id = (run.summary or {}).get("model_version_id")
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
        if run.backend == "local" and run.pid and run.worker == self.name:
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.pid, signal.SIGTERM)
