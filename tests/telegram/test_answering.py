"""Answering in a Telegram group: mention → answer with sources, or an honest abstain."""

from __future__ import annotations

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
