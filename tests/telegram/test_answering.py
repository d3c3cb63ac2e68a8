"""Answering in a Telegram group: mention → answer with sources, or an honest abstain."""

from __future__ import annotations

from storage.db import session_scope
from tests.telegram.conftest import CAROL, FORUM, FUND, OLGA, World


async def approved_pair(world: World) -> tuple[int, int]:
    """A pair harvested in FUND and approved by Olga's 👍: (pair id, question message id)."""
    question, answer = await world.qa()
    await world.tg.react(FUND, answer["message_id"], OLGA, "👍")
    await world.settle()
    [pair] = world.pairs()
    assert pair.status == "approved"
    return pair.id or 0, question["message_id"]


async def test_mention_gets_an_answer_with_sources(world: World) -> None:
    """@fanqa_bot with a known question: a reply with the answer and a t.me link source."""
    pair_id, question_id = await approved_pair(world)
    asked = await world.tg.post(FUND, CAROL, "@fanqa_bot how do I redeem fund number 1?")
    said = await world.tg.wait_sent("Sources")
    assert said["reply_to_message"]["message_id"] == asked["message_id"]
    assert said["text"].startswith("Open the app, pick fund 1 and tap Redeem")
    assert f"#{pair_id} https://t.me/c/1111111111/{question_id}" in said["text"]
    assert "message_thread_id" not in said or not said.get("is_topic_message")


async def test_reply_to_the_bot_is_a_question_to_it(world: World) -> None:
    """Replying to the bot's answer asks it again; no mention needed."""
    await approved_pair(world)
    await world.tg.post(FUND, CAROL, "@fanqa_bot how do I redeem fund number 1?")
    first = await world.tg.wait_sent("Sources")
    before = len(world.tg.sent)
    follow = await world.tg.post(
        FUND, CAROL, "And how do I redeem fund number 1 again?", reply_to=first["message_id"]
    )
    said = await world.tg.wait_sent("Sources", after=before)
    assert said["reply_to_message"]["message_id"] == follow["message_id"]


async def test_unsure_question_gets_no_confident_answer(world: World) -> None:
    """A question unlike anything approved gets the abstain notice in its language."""
    await approved_pair(world)
    asked = await world.tg.post(FUND, CAROL, "@fanqa_bot 医疗基金现在还能买吗？")
    said = await world.tg.wait_sent("不太确定")
    assert said["reply_to_message"]["message_id"] == asked["message_id"]
    assert "Open the app" not in said["text"] and "来源" not in said["text"]


async def test_answer_in_a_forum_topic_goes_to_that_topic(world: World) -> None:
    """The bot's answer to a topic message carries the topic's message_thread_id."""
    await approved_pair(world)
    topic = await world.tg.create_topic(FORUM, CAROL, "Questions")
    asked = await world.tg.post(
        FORUM, CAROL, "@fanqa_bot how do I redeem fund number 1?", topic=topic
    )
    said = await world.tg.wait_sent("Sources", chat_id=FORUM)
    assert (said["message_thread_id"], said["is_topic_message"]) == (topic, True)
    assert said["reply_to_message"]["message_id"] == asked["message_id"]
    call = next(p for m, p in world.tg.calls if m == "sendMessage" and p["chat_id"] == str(FORUM))
    assert call["message_thread_id"] == str(topic)


async def test_answer_is_cleaned_and_capped_to_telegrams_utf16_limit(world: World) -> None:
    """An approved answer with bidi overrides and 3,000 emoji (6,000 UTF-16 units) is posted
    as one message of at most 4,096 units, without the controls, ending in the cut marker."""
    from bot.core.content import CUT_MARKER, INVISIBLE, utf16_len

    world.seed_approved(
        "How do I redeem fund number 7?", "Tap\u202e Redeem\u202c\u200b now " + "😀" * 3000
    )
    before = len(world.tg.sent)
    asked = await world.tg.post(FUND, CAROL, "@fanqa_bot how do I redeem fund number 7?")
    said = await world.tg.wait_sent("Tap", after=before)
    text = said["text"]
    assert text.startswith("Tap Redeem now 😀")
    assert (utf16_len(text) <= 4096, text.endswith(CUT_MARKER)) == (True, True)
    assert not INVISIBLE & set(text)
    await world.settle()
    replies = [
        m
        for m in world.tg.sent[before:]
        if m.get("reply_to_message", {}).get("message_id") == asked["message_id"]
    ]
    assert replies == [said]  # one message, not split


async def test_review_card_is_tracked_and_quoting_a_pair_approves_nothing(world: World) -> None:
    """The bot's review card (posted in the moderators' chat, FORUM here) is tracked by
    its id: Olga's 👍 on it approves the pair. Her 👍 on Carol's message quoting "#N", or on
    the bot's answer citing "Sources: #N", approves nothing."""
    from storage.models import Community

    with session_scope(world.engine) as s:
        fund = s.get(Community, world.fund_id)
        assert fund is not None
        fund.moderator_platform, fund.moderator_chat_id = "telegram", str(FORUM)
    first = world.seed_approved("How do I redeem fund number 5?", "Tap Redeem in the app.")
    before = len(world.tg.sent)
    await world.qa(n=2)
    card = await world.tg.wait_sent(lambda m: m["chat"]["id"] == FORUM, after=before)
    pending = world.pairs()[-1]
    assert card["text"].startswith(f"📝 #{pending.id} pending · Fund club")

    quoting = await world.tg.post(FUND, CAROL, f"Isn't this #{pending.id}? And #{first}?")
    await world.tg.react(FUND, quoting["message_id"], OLGA, "👍")
    before = len(world.tg.sent)
    await world.tg.post(FUND, CAROL, "@fanqa_bot how do I redeem fund number 5?")
    cited = await world.tg.wait_sent(f"#{first}", after=before)
    await world.tg.react(FUND, cited["message_id"], OLGA, "👍")
    await world.settle()
    assert world.pairs()[-1].status == "pending"

    await world.tg.react(FORUM, card["message_id"], OLGA, "👍")
    await world.settle()
    assert world.pairs()[-1].status == "approved"
