"""Nightly training: one APScheduler cron job per community, kept in the database.

The jobs live in an ``apscheduler_jobs`` table of the bot's own database (APScheduler's
``SQLAlchemyJobStore``), so a restarted bot knows when each job last ran. Every job has
``coalesce=True``, ``max_instances=1`` and a week of ``misfire_grace_time``: a bot that was
down over 03:00 (for an hour or for days) runs the job once when it is back, not once per
missed night. The job, ``training_tick``, first refits the community's pair classifier when
moderators decided anything since its last fit (``bot.learning``, off the loop), then
asks ``trainer.policy`` whether to train and queues a run when it says so; a worker picks the
run up.

A community's ``train_cron`` (default ``0 3 * * *``) runs in its ``timezone``; ``off`` means
no scheduled training. ``/schedule`` changes it at once through the ``Scheduling`` port the
composition root hands the command handler (``TrainingScheduler.apply``); changes made
elsewhere (``fanqa community set``) are picked up by ``TrainingScheduler.sync``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.learning import Learner
from harvest.errors import ConflictError, InputError, NotFound
from storage.database import Database
from storage.db import session_scope
from storage.models import utcnow
from storage.repo import list_communities
from trainer.enqueue import TrainingDefaults, maybe_queue
from trainer.policy import Decision

__all__ = [
    "MISFIRE_GRACE",
    "OFF",
    "TrainingScheduler",
    "job_id",
    "next_fire_time",
    "parse_cron",
    "training_tick",
]

log = logging.getLogger(__name__)

OFF = "off"
# Late by less than this, a missed tick still runs (once, coalesced). A week covers a daily
# or weekly cron however long the bot was down; the policy decides whether to train anyway.
MISFIRE_GRACE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class _Context:
    db: Database
    defaults: TrainingDefaults
    clock: Callable[[], datetime]
    on_queued: Callable[[int], None] | None
    learner: Learner | None


# APScheduler's persistent job store can only keep a job's function by name (not a bound
# method, not the engine), so the one running scheduler of this process registers itself
# here for ``training_tick``. Nothing else reaches the scheduler through this: ``/schedule``
# gets it injected as a port.
_RUNNING: TrainingScheduler | None = None


def job_id(community_id: int) -> str:
    """The scheduler job id of a community's training tick."""
    return f"train:{community_id}"


def parse_cron(expr: str, timezone: str = "UTC") -> CronTrigger:
    """A cron trigger from a 5-field crontab line in ``timezone``; InputError when invalid."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {timezone!r}", field="timezone") from exc
    fields = expr.split()
    if len(fields) != 5:
        raise InputError(
            f"{expr!r} is not a cron line: 5 fields, minute hour day month weekday "
            "(e.g. '0 3 * * *')",
            field="cron",
        )
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=zone)
    except ValueError as exc:
        raise InputError(f"{expr!r}: {exc}", field="cron") from exc


def next_fire_time(cron: str, timezone: str, now: datetime) -> datetime | None:
    """When ``cron`` in ``timezone`` fires next after ``now``; None when scheduling is off."""
    if cron.strip().lower() == OFF:
        return None
    fire: datetime | None = parse_cron(cron, timezone).get_next_fire_time(None, now)
    return fire


def _tick(
    session: Session, community_id: int, defaults: TrainingDefaults, now: datetime
) -> tuple[Decision, int | None]:
    try:
        with session.begin_nested():
            decision, run = maybe_queue(session, community_id, defaults, now, trigger="schedule")
    except ConflictError as exc:  # queued by /train a moment ago
        return Decision(False, str(exc)), None
    except InputError as exc:  # a base model gone, a data folder unwritable: say so
        log.warning("community %s: cannot queue a training run: %s", community_id, exc)
        return Decision(False, f"cannot queue: {exc}"), None
    return decision, run.id if run is not None else None


async def training_tick(community_id: int) -> str:
    """The scheduled job: queue a training run for the community if the policy says so."""
    running = _RUNNING
    if running is None:
        log.warning("training tick for community %s with no scheduler running", community_id)
        return "no scheduler"
    ctx = running.context
    if ctx.learner is not None:
        await _refit(ctx.db, ctx.learner, community_id)
    try:
        decision, run_id = await ctx.db.run(_tick, community_id, ctx.defaults, ctx.clock())
    except NotFound:
        log.info("community %s is gone; dropping its training job", community_id)
        await ctx.db.offload(running.remove, community_id)
        return "community gone"
    log.info("training tick, community %s: %s", community_id, decision.reason)
    if run_id is not None and ctx.on_queued is not None:
        ctx.on_queued(run_id)
    return decision.reason


async def _refit(db: Database, learner: Learner, community_id: int) -> None:
    """The nightly refit of the community's pair classifier (before training: what it
    approves on its own is trained on tonight); a failure never stops the training tick."""
    try:
        result = await db.offload(learner.nightly, community_id)
    except Exception:
        log.exception("community %s: nightly classifier refit failed", community_id)
        return
    if result is not None:
        log.info("nightly classifier, community %s: %s", community_id, result.reason)


class TrainingScheduler:
    """An ``AsyncIOScheduler`` with one persistent cron job per community."""

    def __init__(
        self,
        db: Database | Engine,
        defaults: TrainingDefaults,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_queued: Callable[[int], None] | None = None,
        misfire_grace: timedelta = MISFIRE_GRACE,
        learner: Learner | None = None,
    ) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        engine = self.engine = self.db.engine
        self.context = _Context(self.db, defaults, clock, on_queued, learner)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(misfire_grace.total_seconds()),
            },
            timezone=UTC,
        )

    def start(self, *, paused: bool = False) -> None:
        """Start on the running event loop; jobs missed while down run once, now."""
        global _RUNNING
        _RUNNING = self
        self.scheduler.start(paused=paused)
        self.sync()

    def shutdown(self) -> None:
        """Stop (jobs stay in the database for the next start)."""
        global _RUNNING
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if _RUNNING is self:
            _RUNNING = None

    def sync(self) -> int:
        """Make the jobs match the communities' schedules; returns how many changed.

        A job whose cron and time zone are unchanged is left alone: re-adding it would reset
        its next run time and lose a tick missed while the bot was down.
        """
        with session_scope(self.engine) as session:
            wanted = {
                c.id or 0: (c.train_cron, c.timezone or "UTC") for c in list_communities(session)
            }
        changed = 0
        for community_id, (cron, timezone) in wanted.items():
            try:
                changed += self.apply(community_id, cron, timezone)
            except InputError as exc:
                log.warning("community %s: bad schedule %r: %s", community_id, cron, exc)
        for job in self.scheduler.get_jobs():
            cid = job.args[0] if job.id.startswith("train:") and job.args else None
            if cid is not None and cid not in wanted:
                job.remove()
                changed += 1
        return changed

    def apply(self, community_id: int, cron: str, timezone: str) -> bool:
        """Schedule (or unschedule, for ``off``) a community's tick; True when it changed."""
        existing = self.scheduler.get_job(job_id(community_id))
        if cron.strip().lower() == OFF:
            if existing is not None:
                existing.remove()
            return existing is not None
        trigger = parse_cron(cron, timezone)
        if existing is not None and _same(existing.trigger, trigger):
            return False
        self.scheduler.add_job(
            training_tick,
            trigger,
            args=[community_id],
            id=job_id(community_id),
            name=f"train community {community_id}",
            replace_existing=True,
        )
        log.info("community %s: training scheduled %r (%s)", community_id, cron, timezone)
        return True

    def remove(self, community_id: int) -> None:
        """Drop a community's job (when it is deleted)."""
        job = self.scheduler.get_job(job_id(community_id))
        if job is not None:
            job.remove()

    def next_run_time(self, community_id: int) -> datetime | None:
        """The job's next run time, as the scheduler has it."""
        job = self.scheduler.get_job(job_id(community_id))
        return job.next_run_time if job is not None else None


def _same(old: object, new: CronTrigger) -> bool:
    return (
        isinstance(old, CronTrigger)
        and str(old) == str(new)
        and str(old.timezone) == str(new.timezone)
    )
