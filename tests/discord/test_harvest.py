"""Harvesting through the real discord.py client: replies, threads, forum posts, edits."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, col, select

from storage.db import session_scope
from storage.models import Message, QAPair
from tests.discord.conftest import World
from trainer.snapshot import approved_pairs


async def test_question_and_expert_reply_become_pending_pair(world: World) -> None:
    """A question and a reply (Discord's reply button) become one pending pair."""
    _, _, pair_id = await world.qa()
    pair = world.pair(pair_id)
    assert (pair.question_text, pair.answer_text, pair.status) == (
        "How do I reset my password?",
        "Open settings and tap reset.",
        "pending",
    )


async def test_unlinked_channel_is_not_harvested(world: World) -> None:
    """A message in a channel that belongs to no community is not stored."""
    ignored = await world.say("alice", "Anyone playing tonight?", channel=world.offtopic)
    kept = await world.say("alice", "How do I reset my password?")
    with Session(world.engine) as s:
        stored = s.exec(select(Message.external_id)).all()
    assert (str(ignored) in stored, stored) == (False, [str(kept)])


async def test_forum_post_and_its_answer_are_harvested(world: World) -> None:
    """A forum post is the question; an answer in its thread, without the reply button, pairs."""
    thread = await world.emu.create_thread(
        world.forum, world.users["carol"], "Bond fund", first_message="Why did my bond fund drop?"
    )
    await world.service.handled("message", thread)
    answer = await world.say(
        "bob", "Rates went up, so bond prices fell; it recovers.", channel=thread
    )
    [pair] = world.pairs()
    assert (pair.question_text, pair.answer_text) == (
        "Why did my bond fund drop?",
        "Rates went up, so bond prices fell; it recovers.",
    )
    with Session(world.engine) as s:
        rows = {m.external_id: m for m in s.exec(select(Message)).all()}
    # stored in the forum's chat, tied to the thread (the post's id is the thread's id)
    assert (rows[str(answer)].thread_external_id, rows[str(thread)].thread_external_id) == (
        str(thread),
        str(thread),
    )


async def test_thread_from_a_message_and_a_thread_without_one(world: World) -> None:
    """Answers in a thread pair with the message it started from, or with its first message."""
    emu, users = world.emu, world.users
    question = await world.say("alice", "How do I redeem a QDII fund?")
    from_message = await emu.create_thread(
        world.general, users["alice"], "QDII", thread_id=question
    )
    await world.say("bob", "Sell it in the app; money arrives in about T+7.", channel=from_message)
    bare = await emu.create_thread(world.general, users["carol"], "fees chat")
    await world.say("carol", "Are management fees charged daily?", channel=bare)
    await world.say("bob", "Yes, they accrue daily and are already in the NAV.", channel=bare)
    got = [(p.question_text, p.answer_text) for p in world.pairs()]
    assert got == [
        ("How do I redeem a QDII fund?", "Sell it in the app; money arrives in about T+7."),
        (
            "Are management fees charged daily?",
            "Yes, they accrue daily and are already in the NAV.",
        ),
    ]


async def test_edit_updates_and_delete_removes_the_pair(world: World) -> None:
    """Editing the answer updates the pair; deleting it takes the pair out of every dataset."""
    _, answer, pair_id = await world.qa()
    await world.emu.edit(answer, "Open Settings → Security and tap Reset password.")
    await world.service.handled("edit", answer)
    assert world.pair(pair_id).answer_text == "Open Settings → Security and tap Reset password."
    with Session(world.engine) as s:
        pair = s.get(QAPair, pair_id)
        assert pair is not None
        pair.status = "approved"
        s.add(pair)
        s.commit()
        community = pair.community_id
        assert [p.id for p in approved_pairs(s, community)] == [pair_id]
    await world.emu.delete(answer)
    await world.service.handled("delete", answer)
    with Session(world.engine) as s:
        assert approved_pairs(s, community) == []
        assert s.exec(select(QAPair).where(col(QAPair.deleted_at).is_(None))).all() == []


async def test_malformed_payload_is_logged_and_skipped(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A MESSAGE_CREATE without channel_id is logged; the bot keeps harvesting."""
    caplog.set_level(logging.ERROR)
    bad = world.emu.message_payload(world.general, world.users["alice"], "broken?")
    del bad["channel_id"]
    await world.emu.dispatch("MESSAGE_CREATE", bad, guild_id=world.fund.id)
    await world.emu.dispatch(
        "MESSAGE_REACTION_ADD", {"emoji": {"name": "✅"}}, guild_id=world.fund.id
    )
    _, _, pair_id = await world.qa()
    assert world.pair(pair_id).status == "pending"
    skipped = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert [s.split(" (")[0] for s in skipped] == [
        "skipped a malformed MESSAGE_CREATE payload",
        "skipped a malformed MESSAGE_REACTION_ADD payload",
    ]
    assert world.bot.client.is_ready() and not world.bot.client.is_closed()


async def test_answers_without_the_reply_button_are_harvested(world: World) -> None:
    """An expert's next message after an open question and an answer that @mentions its
    asker pair live (as the importer pairs them), with the implicit method."""
    from storage.repo.communities import get_community, get_or_create_member, set_role

    with session_scope(world.engine) as s:
        fund = get_community(s, "fund")
        bob = get_or_create_member(s, fund.id or 0, "discord", str(world.users["bob"]), "Bob")
        set_role(s, bob.id or 0, "expert")
    await world.say("alice", "How do I change the bank card used for redemptions?")
    await world.say("bob", "Go to Profile, then Bank cards, and add the new card first.")
    await world.say("carol", "Is there a fee for switching between funds?")
    await world.say(
        "alice",
        f"<@{world.users['carol']}> switching is free within the same fund company",
        mentions=(world.users["carol"],),
    )
    actual = sorted((p.question_text, p.answer_text, p.method) for p in world.pairs())
    expected = [
        (
            "How do I change the bank card used for redemptions?",
            "Go to Profile, then Bank cards, and add the new card first.",
            "implicit",
        ),
        (
            "Is there a fee for switching between funds?",
            "switching is free within the same fund company",
            "implicit",
        ),
    ]
    assert actual == expected
