"""BotService: what every platform adapter gets — answering policy, feedback, corrections."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from bot.core import BotService, CommandEvent
from bot.core.service import pick_notice
from storage.db import session_scope
from storage.models import AnswerLog, Chat, Community, QAPair
from storage.repo.communities import upsert_chat
from tests.bot.conftest import T0, World, message, reaction

QUESTION = "How do I reset my password?"


@pytest.fixture
def service(world: World) -> BotService:
    svc = BotService(world.engine, clock=lambda: T0 + timedelta(hours=1))
    svc.register(world.platform)
    return svc


async def approved(world: World) -> int:
    """The password pair, approved by the moderator."""
    pair_id = world.qa()
    outcome = await world.moderation.handle_reaction(reaction("a1", "mod"), world.platform)
    assert outcome.action == "approve"
    return pair_id


def set_policy(world: World, policy: str, *, wait_min: int = 10) -> None:
    with session_scope(world.engine) as s:
        community = s.get(Community, world.fund_id)
        assert community is not None
        community.answer_policy, community.auto_answer_after_min = policy, wait_min
        s.add(community)


def logs(world: World) -> list[AnswerLog]:
    with session_scope(world.engine) as s:
        return list(s.exec(select(AnswerLog).order_by(col(AnswerLog.id))).all())


async def test_mention_gets_answer_with_sources_and_is_logged(
    world: World, service: BotService
) -> None:
    """Asked by mention, the bot replies to the question with the answer and its source."""
    pair_id = await approved(world)
    event = message("q2", "carol", "@fanqa how do I reset my password?", at=600)
    outcome = await service.on_message(
        type(event)(event.message, mentions_bot=True), world.platform, prompt=QUESTION
    )
    chat, to, text = world.platform.sent[-1]
    assert (outcome.answered, chat, to) == (True, "g1", "q2")
    assert text.startswith("Open settings and tap reset.")
    assert f"Sources: #{pair_id}" in text
    [row] = logs(world)
    assert (row.question_external_id, row.answer_external_id) == ("q2", outcome.reply_id)


async def test_no_mention_or_policy_off_means_no_answer(world: World, service: BotService) -> None:
    """Without a mention nothing is said; with policy off not even a mention gets an answer."""
    await approved(world)
    plain = await service.on_message(message("q2", "carol", QUESTION, at=600), world.platform)
    set_policy(world, "off")
    event = message("q3", "carol", QUESTION, at=700)
    muted = await service.on_message(type(event)(event.message, True), world.platform)
    assert (plain.answered, muted.answered, len(world.platform.sent)) == (False, False, 0)


async def test_unsure_answer_is_a_notice_in_the_askers_language(
    world: World, service: BotService
) -> None:
    """With nothing similar approved the bot abstains with a notice in the question's language."""
    await approved(world)
    event = message("q2", "carol", "医疗基金现在还能买吗？", at=600)
    outcome = await service.on_message(type(event)(event.message, True), world.platform)
    _, _, text = world.platform.sent[-1]
    assert outcome.answered and text == pick_notice("医疗基金现在还能买吗？")
    assert "管理员" in text and "moderator" not in text
    assert logs(world)[0].abstained


async def test_thumbs_on_answer_is_feedback_not_a_review(world: World, service: BotService) -> None:
    """👍/👎 on the bot's answer count in the answer log and touch no pair."""
    await approved(world)
    event = message("q2", "carol", QUESTION, at=600)
    outcome = await service.on_message(type(event)(event.message, True), world.platform)
    reply_id = outcome.reply_id
    assert reply_id is not None
    up = await service.on_reaction(reaction(reply_id, "carol", "👍"), world.platform)
    await service.on_reaction(reaction(reply_id, "dave", "👎"), world.platform)
    await service.on_reaction(reaction(reply_id, "dave", "👎", added=False), world.platform)
    [row] = logs(world)
    assert (row.feedback_up, row.feedback_down, up.action) == (1, 0, None)
    assert [p.status for p in world.pairs()] == ["approved"]


async def test_moderator_correction_becomes_pending_pair(world: World, service: BotService) -> None:
    """A moderator's reply to the bot's answer is a new pending pair; a member's is not."""
    await approved(world)
    event = message("q2", "carol", QUESTION, at=600)
    reply_id = (await service.on_message(type(event)(event.message, True), world.platform)).reply_id
    assert reply_id is not None
    member = await service.on_message(
        message("c1", "carol", "That did not work for me", reply_to=reply_id, at=700),
        world.platform,
    )
    fixed = await service.on_message(
        message("c2", "mod", "Since v2 it is under Account → Security.", reply_to=reply_id, at=800),
        world.platform,
    )
    assert member.correction_pair_id is None and fixed.correction_pair_id is not None
    pair = next(p for p in world.pairs() if p.id == fixed.correction_pair_id)
    assert (pair.status, pair.method, pair.question_text) == (
        "pending",
        "correction",
        QUESTION,
    )
    assert pair.answer_text == "Since v2 it is under Account → Security."


async def test_auto_policy_answers_unanswered_questions_once(
    world: World, service: BotService
) -> None:
    """In auto mode an old unanswered question is answered once; answered ones are left."""
    await approved(world)  # q1 (T0) was answered by a1
    set_policy(world, "auto", wait_min=10)
    await service.on_message(message("q2", "carol", QUESTION, at=60), world.platform)
    await service.on_message(
        message("q3", "erin", "How do I reset my password??", at=3000), world.platform
    )
    now = T0 + timedelta(minutes=20)
    first = await service.auto_answer_due(now)
    again = await service.auto_answer_due(now + timedelta(minutes=1))
    replied_to = [to for _, to, _ in world.platform.sent]
    assert (len(first), again, replied_to) == (1, [], ["q2"])


async def test_notify_goes_to_the_moderator_chat(
    world: World, service: BotService, tmp_path: Path
) -> None:
    """Notifications reach the configured moderator chat, with a chart when there is one."""
    assert not await service.notify(world.fund_id, "run 1 started")
    with session_scope(world.engine) as s:
        community = s.get(Community, world.fund_id)
        assert community is not None
        community.moderator_platform, community.moderator_chat_id = "fake", "mods"
        s.add(community)
    chart = tmp_path / "report.png"
    chart.write_bytes(b"\x89PNG")
    assert await service.notify(world.fund_id, "run 1 started")
    assert await service.notify(world.fund_id, "model 2 promoted", chart)
    assert world.platform.sent == [
        ("mods", None, "run 1 started"),
        ("mods", None, "[photo report.png] model 2 promoted"),
    ]


async def test_unlinked_chat_is_ignored(world: World, service: BotService) -> None:
    """Messages from a chat no community owns are neither stored nor answered."""
    event = message("x1", "carol", QUESTION, chat="elsewhere")
    outcome = await service.on_message(type(event)(event.message, True), world.platform)
    with session_scope(world.engine) as s:
        chats = s.exec(select(Chat.external_id)).all()
        n_pairs = len(s.exec(select(QAPair)).all())
    assert (outcome.harvest.kind, outcome.answered, "elsewhere" in chats, n_pairs) == (
        "ignored",
        False,
        False,
        0,
    )


async def test_new_pair_gets_a_review_card_moderators_react_on(
    world: World, service: BotService
) -> None:
    """A live pair is carded in the moderator chat; a moderator's ✅ there approves it."""
    with session_scope(world.engine) as s:
        community = s.get(Community, world.fund_id)
        assert community is not None
        community.moderator_platform, community.moderator_chat_id = "fake", "mods"
        s.add(community)
        upsert_chat(s, world.fund_id, "fake", "mods", "Moderators")
    await service.on_message(
        message("q1", "alice", "Fee for #3 fund? How is it charged?"), world.platform
    )
    await service.on_message(
        message("a1", "bob", "0.5% a year, taken from the NAV daily.", reply_to="q1", at=30),
        world.platform,
    )
    chat, to, card = world.platform.sent[-1]
    [pair] = world.pairs()
    assert (chat, to) == ("mods", None)
    assert card.startswith(f"📝 #{pair.id} pending · Fund chat") and "＃3" in card
    card_id = f"bot-{len(world.platform.sent)}"
    ignored = await service.on_reaction(reaction(card_id, "carol", chat="mods"), world.platform)
    done = await service.on_reaction(reaction(card_id, "mod", chat="mods"), world.platform)
    assert (ignored.action, done.action, world.pairs()[0].status) == (None, "approve", "approved")


async def test_one_batch_finds_each_messages_follow_ups(world: World, service: BotService) -> None:
    """Posted together (one batch): the fund's new pair is carded in its moderator chat, the
    game's (no moderator chat) is not, and the moderator's reply to a bot answer in the same
    batch is a correction, while a reply to a person is not."""
    await approved(world)
    event = message("q2", "carol", QUESTION, at=600)
    reply_id = (await service.on_message(type(event)(event.message, True), world.platform)).reply_id
    assert reply_id is not None
    with session_scope(world.engine) as s:
        community = s.get(Community, world.fund_id)
        assert community is not None
        community.moderator_platform, community.moderator_chat_id = "fake", "mods"
        s.add(community)
        upsert_chat(s, world.fund_id, "fake", "mods", "Moderators")
    service.harvester.forget_cache()
    before = len(world.platform.sent)
    posted = [
        service.post_message(message(mid, who, text, chat=chat, reply_to=to, at=at), world.platform)
        for mid, who, text, chat, to, at in (
            ("q3", "alice", "What is the fee for fund 3?", "g1", None, 900),
            ("q4", "erin", "Which level unlocks the castle?", "g2", None, 901),
            ("a3", "bob", "0.5% a year, taken daily.", "g1", "q3", 930),
            ("a4", "frank", "Level 12, after the dragon.", "g2", "q4", 931),
            ("c1", "mod", "Since v2 it is under Account → Security.", "g1", reply_id, 940),
        )
    ]
    outcomes = await asyncio.gather(*posted)
    assert [o.harvest.kind for o in outcomes] == ["stored", "stored", "paired", "paired", "stored"]
    assert [o.correction_pair_id is not None for o in outcomes] == [False] * 4 + [True]
    cards = [text for chat, _, text in world.platform.sent[before:] if chat == "mods"]
    fund_pair = outcomes[2].harvest.pair_ids[0]
    assert len(cards) == 1 and cards[0].startswith(f"📝 #{fund_pair} pending · Fund chat")


async def test_concurrent_messages_are_harvested_in_order_in_few_transactions(
    world: World, service: BotService
) -> None:
    """Messages arriving together are stored in one batch, in arrival order: every answer
    finds its question, and a reaction sent with them waits for its pair."""
    commits: list[int] = []
    event.listen(world.engine, "commit", lambda _conn: commits.append(1))
    events = []
    for i in range(40):
        events.append(message(f"q{i}", "alice", f"How do I fix error {i}?", at=2 * i))
        events.append(
            message(
                f"a{i}", "bob", f"Restart module {i}, then retry.", reply_to=f"q{i}", at=2 * i + 1
            )
        )
    outcomes = await asyncio.gather(
        *(service.on_message(e, world.platform) for e in events),
        service.on_reaction(reaction("a39", "mod"), world.platform),
    )
    kinds = [o.harvest.kind for o in outcomes[:-1]]
    assert kinds == ["stored", "paired"] * 40
    assert outcomes[-1].action == "approve"
    assert len(commits) < 20  # 80 messages, a handful of transactions


def test_a_failing_message_does_not_lose_its_batch(world: World) -> None:
    """One message that cannot be stored is reported alone; the rest of the batch is kept."""
    good = message("q1", "alice", "How do I reset my password?")
    bad = message("q2", "alice", "x" * 10)
    bad = type(bad)(replace(bad.message, sent_at=None))  # type: ignore[arg-type]
    later = message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30)
    first, broken, third = world.harvester.handle_messages([good, bad, later])
    assert (first.kind, third.kind) == ("stored", "paired")  # type: ignore[union-attr]
    assert isinstance(broken, Exception)


async def test_a_redelivered_command_runs_once(world: World, service: BotService) -> None:
    """The same command message delivered twice (a restart) is carried out once."""
    pair_id = world.qa()
    first = CommandEvent("fake", "g1", "mod", "Mod", "approve", (str(pair_id),), message_id="m9")
    assert "approved" in (await service.on_command(first, world.platform)).lower()
    assert await service.on_command(first, world.platform) == ""
    assert len(world.events()) == 1


async def test_posted_messages_come_before_what_follows_them(
    world: World, service: BotService
) -> None:
    """Posted without waiting, a question and its answer are still stored before the
    moderator's reaction that follows them is judged."""
    service.post_message(message("q1", "alice", QUESTION), world.platform)
    service.post_message(
        message("a1", "bob", "Open settings and tap reset.", reply_to="q1", at=30), world.platform
    )
    outcome = await service.on_reaction(reaction("a1", "mod"), world.platform)
    await service.drain()
    assert (outcome.action, [p.status for p in world.pairs()]) == ("approve", ["approved"])
    assert service.backlog == 0
