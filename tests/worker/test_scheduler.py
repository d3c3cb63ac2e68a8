"""The nightly job: persistent, coalesced (down over 03:00 → exactly one run), reschedulable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.scheduler import TrainingScheduler, job_id, next_fire_time, parse_cron
from harvest.errors import InputError
from storage.db import session_scope
from storage.models import Notification, TrainingRun
from tests.worker.conftest import make_community
from trainer.enqueue import TrainingDefaults

DEFAULTS = TrainingDefaults(base_model="tiny-base")


async def _settle() -> None:
    """Let AsyncIOScheduler run what it scheduled with call_soon_threadsafe (its shutdown)."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_bot_down_over_3am_for_days_trains_exactly_once_when_back(
    sqlite_engine: Engine,
) -> None:
    """Job stored with next_run_time 3 days ago: one tick on start, one run queued, next later."""
    cid = make_community(sqlite_engine, pairs=25)
    before = TrainingScheduler(sqlite_engine, DEFAULTS)
    before.start(paused=True)
    long_ago = datetime.now(UTC) - timedelta(days=3, hours=1)
    before.scheduler.modify_job(job_id(cid), next_run_time=long_ago)
    before.shutdown()
    await _settle()

    after = TrainingScheduler(sqlite_engine, DEFAULTS)
    events: list[JobEvent] = []
    ran = asyncio.Event()
    loop = asyncio.get_running_loop()

    def listen(event: JobEvent) -> None:
        events.append(event)
        loop.call_soon_threadsafe(ran.set)

    after.scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    after.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)
        next_time = after.next_run_time(cid)
    finally:
        after.shutdown()
        await _settle()
    assert [(e.code, e.job_id) for e in events] == [(EVENT_JOB_EXECUTED, job_id(cid))]
    assert next_time is not None and next_time > datetime.now(UTC)  # nothing else is due
    with session_scope(sqlite_engine) as session:
        runs = session.exec(select(TrainingRun)).all()
        notes = session.exec(select(Notification.text)).all()
    assert [(r.trigger, r.status, r.base_model) for r in runs] == [
        ("schedule", "queued", "tiny-base")
    ]
    assert notes[0].startswith("🗓 Training run #1 queued, scheduled (25 new approved pair(s)")


async def test_sync_keeps_unchanged_jobs_and_apply_reschedules(sqlite_engine: Engine) -> None:
    """Re-syncing must not reset a missed run time; a new cron or 'off' takes effect at once."""
    cid = make_community(sqlite_engine, pairs=0)
    sched = TrainingScheduler(sqlite_engine, DEFAULTS)
    sched.start(paused=True)
    try:
        missed = datetime.now(UTC) - timedelta(hours=5)
        sched.scheduler.modify_job(job_id(cid), next_run_time=missed)
        changed = sched.sync()
        kept = sched.next_run_time(cid)
        sched.apply(cid, "30 4 * * *", "Asia/Shanghai")
        moved = sched.next_run_time(cid)
        sched.apply(cid, "off", "UTC")
        gone = sched.next_run_time(cid)
    finally:
        sched.shutdown()
        await _settle()
    assert changed == 0 and kept is not None and abs((kept - missed).total_seconds()) < 0.01
    assert moved is not None
    local = moved.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute, gone) == (4, 30, None)


def test_next_fire_time_uses_the_communitys_time_zone() -> None:
    """03:00 in Shanghai is 19:00 UTC the day before."""
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    fire = next_fire_time("0 3 * * *", "Asia/Shanghai", now)
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 3, 1, 19, 0, tzinfo=UTC)
    assert next_fire_time("off", "UTC", now) is None


@pytest.mark.parametrize(
    ("cron", "tz", "message"),
    [
        ("0 3 * *", "UTC", "5 fields"),
        ("0 25 * * *", "UTC", "0 25 * * *"),
        ("0 3 * * *", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_bad_schedules_are_input_errors(cron: str, tz: str, message: str) -> None:
    """A wrong cron line or time zone is a clear InputError."""
    with pytest.raises(InputError, match=message):
        parse_cron(cron, tz)
