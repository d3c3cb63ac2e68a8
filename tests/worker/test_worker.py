"""The worker claims a queued run, executes it and tells the moderators, in order, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.service import BotService
from storage.db import session_scope
from storage.models import Notification, RunStatus, TrainingRun
from tests.bot.conftest import FakePlatform
from tests.worker.conftest import MOD_CHAT, FakeExecutor, Notices, make_community
from trainer.enqueue import TrainingDefaults, queue_training
from trainer.outbox import deliver_due
from trainer.registry import live_model
from trainer.runs import get_run
from trainer.worker import Worker

DEFAULTS = TrainingDefaults(base_model="tiny-base")


def starts(actual: list[str], prefixes: list[str]) -> list[str]:
    """Each actual text cut to its expected prefix when it has it (else left whole)."""
    cut = [p if a.startswith(p) else a for a, p in zip(actual, prefixes, strict=False)]
    return cut + actual[len(prefixes) :]


def _queue(engine: Engine, cid: int) -> int:
    with session_scope(engine) as session:
        return queue_training(session, cid, DEFAULTS, trigger="command").id or 0


def test_worker_runs_a_queued_run_and_notifies_in_order(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """started → 25/50/75 % → finished → gate table → chart → promoted; the model is live."""
    cid = make_community(sqlite_engine)
    run_id = _queue(sqlite_engine, cid)
    seen = Notices()
    executor = FakeExecutor(
        tmp_path, on_step=lambda step: step < 4 and seen.wait_for(f"{25 * step}%")
    )
    worker = Worker(
        sqlite_engine, executor=executor, name="w1", notify=seen, progress_interval_s=0.01
    )
    run = worker.run_once()
    assert run is not None and (run.id, run.status) == (run_id, "succeeded")
    texts = seen.texts
    expected = [
        f"🏋️ Training run #{run_id} started: local LoRA on tiny-base.",
        f"⏳ Run #{run_id}: 25% (step 1/4, loss 2).",
        f"⏳ Run #{run_id}: 50% (step 2/4, loss 1).",
        f"⏳ Run #{run_id}: 75% (step 3/4, loss 0.6667).",
        f"✅ Training run #{run_id} finished.",
        f"Model #1 from run #{run_id} passed the evaluation gate.",
        f"Run #{run_id}: training curves and metrics",
        "🚀 Model #1 is now live (promoted by the evaluation gate).",
    ]
    assert starts(texts, expected) == expected
    assert "| answer loss ↓ | 2.1 | 1.2 |" in texts[5] and "![" not in texts[5]
    assert [image.name if image else None for _, _, image in seen.items][6] == "report.png"
    with session_scope(sqlite_engine) as session:
        assert live_model(session, cid).id == 1  # type: ignore[union-attr]
    assert worker.run_once() is None  # the queue is empty


def test_a_failed_run_is_reported_with_its_reason_and_keeps_the_live_model(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """The failure reason reaches the moderators; nothing is promoted."""
    cid = make_community(sqlite_engine)
    _queue(sqlite_engine, cid)
    seen = Notices()
    failing = FakeExecutor(tmp_path, steps=1, fail="CUDA out of memory")
    Worker(sqlite_engine, executor=failing, notify=seen).run_once()
    assert seen.texts[-1].startswith("❌ Training run #1 failed: CUDA out of memory")
    with session_scope(sqlite_engine) as session:
        assert live_model(session, cid) is None


def test_an_executor_crash_fails_the_run_instead_of_leaving_it_claimed(
    sqlite_engine: Engine,
) -> None:
    """An unexpected exception is caught: the run is failed with it, the worker lives on."""
    cid = make_community(sqlite_engine)
    run_id = _queue(sqlite_engine, cid)

    def broken(engine: Engine, run: TrainingRun) -> TrainingRun:
        raise RuntimeError("disk full")

    seen = Notices()
    run = Worker(sqlite_engine, executor=broken, notify=seen).run_once()
    assert run is not None and (run.status, run.error) == ("failed", "RuntimeError: disk full")
    assert seen.texts[-1].startswith(f"❌ Training run #{run_id} failed: RuntimeError: disk full")


async def test_without_a_chat_the_outbox_keeps_notices_until_the_bot_delivers_them(
    sqlite_engine: Engine, tmp_path: Path, platform: FakePlatform
) -> None:
    """Standalone worker → outbox; the bot delivers each notice once, in order, chart as photo."""
    cid = make_community(sqlite_engine)
    _queue(sqlite_engine, cid)
    worker = Worker(sqlite_engine, executor=FakeExecutor(tmp_path, steps=1), notify=None)
    worker.run_once()
    worker._announce(get_run_detached(sqlite_engine, 1))  # a restarted worker repeats itself
    service = BotService(sqlite_engine)
    service.register(platform)
    first = await deliver_due(sqlite_engine, service.notify)
    second = await deliver_due(sqlite_engine, service.notify)
    sent = [text for chat, _, text in platform.sent if chat == MOD_CHAT]
    assert (first, second) == (6, 0)
    expected = [
        "🗓 Training run #1 queued, asked in chat",
        "🏋️ Training run #1 started",
        "✅ Training run #1 finished",
        "Model #1 from run #1 passed",
        "[photo report.png] Run #1: training curves",
        "🚀 Model #1 is now live",
    ]
    assert starts(sent, expected) == expected
    with session_scope(sqlite_engine) as session:
        rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
        assert {r.status for r in rows} == {"sent"}


def get_run_detached(engine: Engine, run_id: int) -> TrainingRun:
    with session_scope(engine) as session:
        return get_run(session, run_id)


def test_recover_requeues_a_dead_workers_run_and_the_next_worker_resumes_it(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Worker A died mid-run: B's recover re-queues it, B runs it (attempt 2) to the end."""
    from datetime import timedelta

    from storage.models import utcnow

    cid = make_community(sqlite_engine)
    run_id = _queue(sqlite_engine, cid)
    with session_scope(sqlite_engine) as session:
        run = get_run(session, run_id)
        run.status, run.worker, run.attempts = RunStatus.RUNNING, "A", 1
        run.heartbeat_at = utcnow() - timedelta(minutes=10)
        session.add(run)
    seen = Notices()
    worker = Worker(sqlite_engine, executor=FakeExecutor(tmp_path, steps=1), notify=seen, name="w")
    recovered = worker.recover()
    run = worker.run_once()
    assert [r.status for r in recovered] == ["queued"]
    assert run is not None and (run.status, run.attempts, run.worker) == ("succeeded", 2, "w")
    assert seen.texts[0].startswith(f"🏋️ Training run #{run_id} started (attempt 2)")
