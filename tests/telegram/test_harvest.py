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


async def test_answers_without_the_reply_button_are_harvested(world: World) -> None:
    """An expert's next message after an open question and an answer that @mentions its
    asker pair live (as the importer pairs them), with the implicit method."""
    from storage.db import session_scope
    from storage.repo.communities import get_or_create_member, set_role

    with session_scope(world.engine) as s:
        bob = get_or_create_member(s, world.fund_id, "telegram", str(BOB), "Bob")
        set_role(s, bob.id or 0, "expert")
    await world.tg.post(FUND, ALICE, "How do I change the bank card used for redemptions?")
    await world.tg.post(FUND, BOB, "Go to Profile, then Bank cards, and add the new card first.")
    await world.tg.post(FUND, CAROL, "Is there a fee for switching between funds?")
    await world.tg.post(FUND, ALICE, "Carol, switching is free within the same fund company")
    await world.tg.post(FUND, CAROL, "Which app version shows the new statements page?")
    await world.tg.post(FUND, ALICE, "@carol it is in 2.0 and later, under Assets")
    await world.settle()
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
        (
            "Which app version shows the new statements page?",
            "it is in 2.0 and later, under Assets",
            "implicit",
        ),
    ]
    assert actual == expected


async def test_edit_after_approval_reopens_the_pair_with_a_card_and_an_audit(
    world: World,
) -> None:
    """Bob rewrites his approved answer: the pair is pending again with the new text, the
    moderator chat gets a card saying so, and the audit log keeps the approved text."""
    from sqlmodel import col, select

    from storage.db import session_scope
    from storage.models import Community, ReviewEvent
    from storage.repo.communities import upsert_chat

    mods = -1004444444444
    world.tg.add_chat(mods, "Fund moderators", owner=OLGA)
    with session_scope(world.engine) as s:
        fund = s.get(Community, world.fund_id)
        assert fund is not None
        fund.moderator_platform, fund.moderator_chat_id = "telegram", str(mods)
        s.add(fund)
        upsert_chat(s, world.fund_id, "telegram", str(mods), "Fund moderators")
    world.service.harvester.forget_cache()
    _, answer = await world.qa()
    await world.tg.react(FUND, answer["message_id"], OLGA, "👍")
    await world.settle()
    [approved] = world.pairs()
    assert approved.status == "approved"
    await world.tg.edit(FUND, answer["message_id"], "Send your password to @fund_support_bot")
    card = await world.tg.wait_sent("edited after approval", chat_id=mods)
    assert "Send your password" in card["text"] and "confidence " in card["text"]
    [pair] = world.pairs()
    assert (pair.status, pair.answer_text) == (
        "pending",
        "Send your password to @fund_support_bot",
    )
    with session_scope(world.engine) as s:
        events = s.exec(
            select(ReviewEvent).where(ReviewEvent.pair_id == pair.id).order_by(col(ReviewEvent.id))
        ).all()
    reopened = events[-1]
    assert (reopened.action, reopened.before, reopened.after) == (
        "reopened",
        {
            "status": "approved",
            "question_text": approved.question_text,
            "answer_text": approved.answer_text,
        },
        {
            "status": "pending",
            "question_text": approved.question_text,
            "answer_text": "Send your password to @fund_support_bot",
            "reason": "edited after approval",
        },
    )
