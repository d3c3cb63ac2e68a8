"""The pair classifier learns from moderators' reactions, scores new pairs live and on import,
is refitted every N decisions and nightly, and approves on its own only when asked to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core import BotService
from bot.importer import import_messages
from bot.learning import Learner
from bot.scheduler import TrainingScheduler, training_tick
from harvest.model import ChatMessage
from storage.db import session_scope
from storage.models import PairClassifierVersion, QAPair
from storage.repo.classifiers import latest_classifier
from storage.repo.communities import update_community, upsert_chat
from tests.bot.conftest import PLATFORM, T0, World, message, reaction
from trainer.enqueue import TrainingDefaults

HOBBIES = ("hiking with my dog", "baking bread", "watching football", "painting the kitchen")


def good(i: int) -> tuple[str, str]:
    return (
        f"How do I set up feature {i}?",
        f"Open Settings → Features → {i}, then run `fanqa setup {i}` (https://docs.example.com/{i}).",
    )


def bad(i: int) -> tuple[str, str]:
    return (
        f"How do I set up feature {i}?",
        f"I spent the weekend {HOBBIES[i % len(HOBBIES)]} instead, it was lovely",
    )


def qa_of(i: int) -> tuple[str, str]:
    """Every third pair is chit-chat a moderator rejects; the others are answers."""
    return bad(i) if i % 3 == 0 else good(i)


@pytest.fixture
def service(world: World) -> BotService:
    with session_scope(world.engine) as s:
        update_community(s, world.fund_id, classifier_refit_every=20)
    svc = BotService(world.engine, clock=lambda: T0 + timedelta(hours=1))
    svc.register(world.platform)
    return svc


async def harvest(service: BotService, world: World, numbers: range) -> None:
    """Alice asks, bob replies: one pending pair per number, through the live service."""
    for i in numbers:
        question, answer = qa_of(i)
        at = 600.0 * i
        await service.on_message(message(f"q{i}", "alice", question, at=at), world.platform)
        await service.on_message(
            message(f"a{i}", "bob", answer, reply_to=f"q{i}", at=at + 30), world.platform
        )
    await service.drain()


async def decide(service: BotService, world: World, numbers: range) -> None:
    """The moderator reacts ✅ on answers and ❌ on chit-chat, as in the chat."""
    for i in numbers:
        emoji = "❌" if i % 3 == 0 else "✅"
        outcome = await service.on_reaction(reaction(f"a{i}", "mod", emoji), world.platform)
        assert outcome.action in ("approve", "reject")
    await service.drain()


def pair_of(world: World, answer_mid: str) -> QAPair:
    with session_scope(world.engine) as s:
        pair = s.exec(select(QAPair).where(col(QAPair.source_key).endswith(f":{answer_mid}"))).one()
        s.expunge(pair)
        return pair


def versions(engine: Engine, community_id: int) -> list[tuple[int, int]]:
    with session_scope(engine) as s:
        rows = s.exec(
            select(PairClassifierVersion)
            .where(PairClassifierVersion.community_id == community_id)
            .order_by(col(PairClassifierVersion.version))
        ).all()
        return [(r.version, r.decisions) for r in rows]


async def test_decisions_fit_a_version_that_scores_new_pairs_live_and_on_import(
    world: World, service: BotService
) -> None:
    """20 reactions → classifier v1; then a live pair and an imported pair both get its
    confidence (rule and signals kept); 20 more → v2, and pending pairs are re-scored."""
    await harvest(service, world, range(45))
    await decide(service, world, range(19))
    assert versions(world.engine, world.fund_id) == []  # 19 < classifier_refit_every
    await decide(service, world, range(19, 20))
    assert versions(world.engine, world.fund_id) == [(1, 20)]
    pending = pair_of(world, "a30")
    reason = pending.confidence_reason or {}
    assert reason["rule"] == "reply+classifier"
    assert reason["signals"]["classifier_version"] == 1

    await harvest(service, world, range(99, 101))  # 99: chit-chat, 100: an answer
    live_bad, live_good = pair_of(world, "a99"), pair_of(world, "a100")
    for pair in (live_bad, live_good):
        reason = pair.confidence_reason or {}
        assert reason["rule"] == "reply+classifier"
        assert reason["signals"]["answerer_role"] == "member"  # the engine's signals kept
        assert reason["signals"]["rules_confidence"] > 0.5
    assert live_good.confidence > live_bad.confidence

    question, answer = good(200)
    imported = [
        ChatMessage("telegram", "555", "1", "u1", "Ann", question, T0),
        ChatMessage("telegram", "555", "2", "u2", "Ben", answer, T0 + timedelta(seconds=20), "1"),
    ]
    summary = import_messages(world.engine, imported, community="fund", platform="telegram")
    assert summary.pairs_added == 1
    with session_scope(world.engine) as s:
        row = s.exec(select(QAPair).where(QAPair.source_key == "telegram:555:1:2")).one()
        reason = row.confidence_reason or {}
        assert (reason["rule"], reason["signals"]["classifier_version"]) == ("reply+classifier", 1)
        assert row.confidence > live_bad.confidence

    await decide(service, world, range(20, 40))
    assert versions(world.engine, world.fund_id) == [(1, 20), (2, 40)]
    reason = pair_of(world, "a41").confidence_reason or {}
    assert reason["signals"]["classifier_version"] == 2


async def test_auto_approval_is_audited_as_the_classifier_and_undone_for_good(
    world: World, service: BotService
) -> None:
    """Above auto_approve_above a new pair is approved by "classifier v2 (0.9x)"; a
    moderator's undo (removing ✅) puts it back to pending, and no later pass re-approves it."""
    with session_scope(world.engine) as s:
        upsert_chat(s, world.fund_id, PLATFORM, "mods", "Moderators")
        update_community(
            s,
            world.fund_id,
            classifier_refit_every=10,
            auto_approve_above=0.8,
            moderator_platform=PLATFORM,
            moderator_chat_id="mods",
        )
    service.learner.refresh(force=True)
    await harvest(service, world, range(34))
    await decide(service, world, range(20))  # none before 20 (the least a fit needs): v1
    assert versions(world.engine, world.fund_id) == [(1, 20)]
    await harvest(service, world, range(96, 98))  # 96: chit-chat, 97: an answer
    assert [pair_of(world, m).status for m in ("a96", "a97")] == ["pending", "pending"]  # v1
    # has learned from too few decisions to approve alone

    await decide(service, world, range(20, 30))
    assert versions(world.engine, world.fund_id) == [(1, 20), (2, 30)]
    await harvest(service, world, range(99, 101))  # 99: chit-chat, 100: an answer
    chit_chat, answer = pair_of(world, "a99"), pair_of(world, "a100")
    assert (chit_chat.status, answer.status) == ("pending", "approved")
    events = [e for e in world.events() if e.pair_id == answer.id]
    label = f"classifier v2 ({answer.confidence:.2f})"
    assert [(e.action, e.actor_label) for e in events] == [("approve", label)]
    cards = [text for chat, _, text in world.platform.sent if chat == "mods"]
    assert f"📝 #{answer.id} approved by {label}" in cards[-1]
    assert f"📝 #{chit_chat.id} pending" in cards[-2]

    undo = await service.on_reaction(reaction("a100", "mod", "✅", added=False), world.platform)
    assert (undo.action, undo.status) == ("reset", "pending")
    await service.drain()
    result = service.learner.fit(world.fund_id)  # re-scores and runs an approval pass
    assert result.version == 3
    assert answer.id not in result.auto_approved
    assert pair_of(world, "a100").status == "pending"
    assert service.learner.nightly(world.fund_id) is None  # nothing new: one more pass
    assert pair_of(world, "a100").status == "pending"
    assert result.decisions == 30  # the undone auto-approval taught nothing


async def test_one_sided_decisions_fit_nothing(world: World, service: BotService) -> None:
    """Approvals alone never make a classifier; fit says why."""
    await harvest(service, world, range(1, 40, 3))  # answers only (i % 3 == 1)
    for i in range(1, 40, 3):
        await service.on_reaction(reaction(f"a{i}", "mod", "✅"), world.platform)
    await service.drain()
    result = Learner(world.engine).fit(world.fund_id)
    assert result.version is None
    assert "rejections" in result.reason or "decisions" in result.reason
    assert versions(world.engine, world.fund_id) == []


async def test_the_nightly_tick_refits(world: World, service: BotService) -> None:
    """Decisions made where nothing refits (the count not reached) are learned at night."""
    await harvest(service, world, range(24))
    for i in range(22):  # through the moderation core alone: no refit on the way
        emoji = "❌" if i % 3 == 0 else "✅"
        await world.moderation.handle_reaction(reaction(f"a{i}", "mod", emoji), world.platform)
    scheduler = TrainingScheduler(
        world.engine, TrainingDefaults(base_model="tiny"), learner=Learner(world.engine)
    )
    scheduler.start(paused=True)
    try:
        await training_tick(world.fund_id)
    finally:
        scheduler.shutdown()
    with session_scope(world.engine) as s:
        latest = latest_classifier(s, world.fund_id)
        assert latest is not None and (latest.version, latest.decisions) == (1, 22)
