"""/train, /status, /schedule, /models, /promote, /rollback through the command handler."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select

from bot.core.commands import REFUSAL
from bot.scheduler import TrainingScheduler
from storage.db import session_scope
from storage.models import Community, ModelVersion, Notification, TrainingRun
from storage.repo.communities import update_community
from tests.bot.conftest import World, command
from tests.trainer.test_loop_builders import add_pair
from trainer.enqueue import TrainingDefaults
from trainer.registry import promote


async def _run(world: World, name: str, *args: str, user: str = "mod", chat: str = "g1") -> str:
    return await world.commands.handle(command(name, *args, user=user, chat=chat), world.platform)


def _notes(world: World) -> list[str]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(Notification.text)).all())


async def test_train_queues_once_and_is_for_moderators(world: World) -> None:
    """/train queues a run (trigger command) and announces it; a second one is refused."""
    add_pair(world.engine, world.fund_id, "q?", "a")
    refused = await _run(world, "train", user="carol")
    first = await _run(world, "train")
    again = await _run(world, "train")
    with session_scope(world.engine) as session:
        runs = session.exec(select(TrainingRun)).all()
    assert refused == REFUSAL
    assert first.startswith("Training run #1 queued (local, ")
    assert again == "run 1 of this community is already queued"
    assert [(r.trigger, r.community_id) for r in runs] == [("command", world.fund_id)]
    assert _notes(world)[0].startswith(
        "🗓 Training run #1 queued, asked in chat (asked by fake:mod)"
    )


async def test_status_shows_live_model_run_progress_and_next_training(world: World) -> None:
    """Everyone sees the live model, the running run's progress and the next scheduled time."""
    with session_scope(world.engine) as session:
        model = ModelVersion(community_id=world.fund_id, base_model="tiny", adapter_path="/a")
        session.add(model)
        session.flush()
        promote(session, model.id or 0)
        session.add(
            TrainingRun(
                community_id=world.fund_id,
                status="running",
                step=30,
                total_steps=120,
                last_loss=1.5,
            )
        )
    lines = (await _run(world, "status", user="carol")).splitlines()
    assert lines[0].startswith("Pairs: pending 0")
    assert lines[1].startswith("Live model: #1 (local, tiny), since ")
    assert lines[2] == "Training: run #1 running 25% (step 30/120, loss 1.5)."
    assert lines[3].startswith("Next scheduled training: ")
    assert lines[3].endswith(" UTC (0 3 * * *, needs 20 new approved pairs).")


async def test_schedule_changes_the_cron_and_the_running_scheduler(world: World) -> None:
    """/schedule 30 4 * * * Asia/Shanghai is stored and rescheduled at once; junk is refused."""
    scheduler = TrainingScheduler(world.engine, TrainingDefaults())
    scheduler.start(paused=True)
    world.commands.scheduling = scheduler  # the port the composition root injects
    try:
        reply = await _run(world, "schedule", "30", "4", "*", "*", "*", "Asia/Shanghai")
        bad = await _run(world, "schedule", "99", "4", "*", "*", "*")
        moved = scheduler.next_run_time(world.fund_id)
        off = await _run(world, "schedule", "off")
        gone = scheduler.next_run_time(world.fund_id)
    finally:
        scheduler.shutdown()
        await asyncio.sleep(0)
    with session_scope(world.engine) as session:
        fund = session.get(Community, world.fund_id)
    assert reply.startswith("Training schedule set to 30 4 * * * (Asia/Shanghai); next at ")
    assert bad.startswith("field 'cron': '99 4 * * *'")
    assert moved is not None and moved.strftime("%H:%M %z") == "04:30 +0800"
    assert off.startswith("Scheduled training is off") and gone is None
    assert fund is not None and (fund.train_cron, fund.timezone) == ("off", "Asia/Shanghai")


async def test_models_promote_and_rollback(world: World, tmp_path: Path) -> None:
    """Moderators list models, promote one by id and roll back; other communities' are hidden."""
    with session_scope(world.engine) as session:
        ids = []
        for cid in (world.fund_id, world.fund_id, world.game_id):
            model = ModelVersion(community_id=cid, base_model="tiny", adapter_path="/a", metrics={})
            session.add(model)
            session.flush()
            ids.append(model.id or 0)
        promote(session, ids[0])
        update_community(session, world.fund_id, moderator_platform="fake", moderator_chat_id="m")
    listed = await _run(world, "models")
    promoted = await _run(world, "promote", f"#{ids[1]}")
    foreign = await _run(world, "promote", str(ids[2]))
    rolled = await _run(world, "rollback")
    assert [line.split(" (")[0] for line in listed.splitlines()[1:]] == [
        f"#{ids[1]} candidate",
        f"#{ids[0]} live",
    ]
    assert promoted.startswith(f"Model #{ids[1]} is now live.")
    assert foreign == f"no model version with id {ids[2]}"
    assert rolled.startswith(f"Rolled back: model #{ids[0]} is live again.")
    notes = _notes(world)
    assert notes[0].startswith(f"🚀 Model #{ids[1]} is now live (promoted by fake:mod)")
    assert notes[1].startswith(f"↩️ Rolled back by fake:mod: model #{ids[0]} is live again.")


async def test_cancel_stops_the_queued_or_running_run_like_runs_cancel(world: World) -> None:
    """/cancel cancels a queued run at once and asks a running one to stop (what `fanqa runs
    cancel` does); with no active run it says so; members are refused."""
    add_pair(world.engine, world.fund_id, "q?", "a")
    await _run(world, "train")
    refused = await _run(world, "cancel", user="carol")
    cancelled = await _run(world, "cancel")
    nothing = await _run(world, "cancel")
    with session_scope(world.engine) as session:
        session.add(TrainingRun(community_id=world.fund_id, status="running"))
    stopping = await _run(world, "cancel")
    with session_scope(world.engine) as session:
        runs = session.exec(select(TrainingRun).order_by(TrainingRun.id)).all()
    assert refused == REFUSAL
    assert cancelled.startswith("Training run #1 cancelled.")
    assert nothing.startswith("No training run is queued or running.")
    assert stopping.startswith("Training run #2 will stop at its next step.")
    assert [(r.status, r.cancel_requested) for r in runs] == [
        ("cancelled", False),
        ("running", True),
    ]
