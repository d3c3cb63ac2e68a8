"""Harvesting and moderator reactions in a live group, through the real PTB Application."""

from __future__ import annotations

from tests.telegram.conftest import ALICE, BOB, CAROL, FUND, GABE, OLGA, World


async def test_question_and_expert_reply_become_a_pending_pair(world: World) -> None:
    """Alice's question and Bob's reply to it are stored as one pending pair."""
    await world.qa()
    [pair] = world.pairs()
    assert (pair.question_text, pair.status) == ("How do I redeem fund number 1?", "pending")
    assert pair.answer_text.startswith("Open the app, pick fund 1")
    assert "message_reaction" in (world.tg.allowed_updates or [])


async def test_admin_thumbs_up_approves_and_others_change_nothing(world: World) -> None:
    """Only an admin of the pair's own chat approves it with 👍; Carol and Gabe cannot."""
    _, answer = await world.qa()
    await world.tg.react(FUND, answer["message_id"], CAROL, "👍")
    await world.tg.react(FUND, answer["message_id"], GABE, "👍")  # owner of GAME, not FUND
    await world.settle()
    assert [p.status for p in world.pairs()] == ["pending"]
    await world.tg.react(FUND, answer["message_id"], OLGA, "👍")
    await world.settle()
    assert [p.status for p in world.pairs()] == ["approved"]
    await world.tg.react(FUND, answer["message_id"], OLGA)  # taking it back resets
    await world.settle()
    assert [p.status for p in world.pairs()] == ["pending"]


async def test_edited_answer_updates_the_pair(world: World) -> None:
    """When Bob edits his answer the pending pair carries the new text."""
    _, answer = await world.qa()
    await world.tg.edit(FUND, answer["message_id"], "Use the Redeem button; it takes T+1 now.")
    await world.settle()
    [pair] = world.pairs()
    assert pair.answer_text == "Use the Redeem button; it takes T+1 now."


async def test_same_message_delivered_twice_changes_nothing(world: World) -> None:
    """A re-delivered question and answer (new update ids) store nothing new."""
    await world.qa()
    before = (len(world.messages()), len(world.pairs()), len(world.tg.sent))
    for update in world.tg.log[:2]:
        await world.tg.redeliver(update["update_id"])
    await world.settle()
    after = (len(world.messages()), len(world.pairs()), len(world.tg.sent) - 1)
    assert after == before


async def test_replayed_updates_after_a_restart_change_nothing(world: World) -> None:
    """Telegram serving the same updates (same ids) to a restarted bot changes nothing."""
    await world.qa()
    _, answer = await world.qa(n=2)
    await world.tg.react(FUND, answer["message_id"], OLGA, "👍")
    await world.settle()
    before = [(p.id, p.status, p.answer_text) for p in world.pairs()]
    stored = len(world.messages())
    await world.bot.stop()
    await world.tg.replay(1)
    from bot.telegram_bot import TelegramBot
    from tests.telegram.conftest import TOKEN

    world.bot = TelegramBot(world.service, TOKEN, base_url=world.tg.base_url, poll_timeout=5)
    await world.bot.start()
    await world.settle()
    assert [(p.id, p.status, p.answer_text) for p in world.pairs()] == before
    assert len(world.messages()) == stored
    first_help = world.tg.log[2]["message"]["message_id"]  # served again: not run twice
    assert [m["reply_to_message"]["message_id"] for m in world.tg.sent].count(first_help) == 1


async def test_forum_topic_reply_pairs_and_topic_root_is_no_answer(world: World) -> None:
    """In a forum, the topic's first message is not a reply to anything; an answer in the
    topic without the reply button pairs with its question, the same answerer's reply
    right after joins it, and both are stored with their topic."""
    from tests.telegram.conftest import FORUM

    topic = await world.tg.create_topic(FORUM, ALICE, "Redemptions")
    question = await world.tg.post(FORUM, ALICE, "How long does a redemption take?", topic=topic)
    first = await world.tg.post(FORUM, BOB, "Usually two working days, T+2.", topic=topic)
    reply = await world.tg.post(
        FORUM,
        BOB,
        "It takes two working days (T+2).",
        topic=topic,
        reply_to=question["message_id"],
    )
    await world.settle(FORUM)
    rows = {m.external_id: m for m in world.messages()}
    assert str(topic) not in rows  # the creation service message is not harvested
    q, f, r = (rows[str(m["message_id"])] for m in (question, first, reply))
    assert (q.reply_to_external_id, q.thread_external_id) == (None, str(topic))
    assert f.reply_to_external_id is None
    assert r.reply_to_external_id == str(question["message_id"])
    [pair] = world.pairs()
    expected = ("thread", "Usually two working days, T+2.\nIt takes two working days (T+2).")
    assert (pair.method, pair.answer_text) == expected


async def test_unlinked_chat_is_not_harvested(world: World) -> None:
    """Messages in a chat no community owns are not stored."""
    from tests.telegram.conftest import STRANGERS

    await world.tg.post(STRANGERS, CAROL, "How do I join?")
    await world.settle(STRANGERS)
    assert [m for m in world.messages() if m.text == "How do I join?"] == []
    assert world.pairs() == []
