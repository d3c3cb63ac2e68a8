"""Translation of PTB objects (parsed from Telegram's JSON) into the core's events."""

from __future__ import annotations

from typing import Any

from telegram import Message, MessageReactionUpdated

from bot.telegram_bot.adapter import (
    BotIdentity,
    bare_chat_id,
    telegram_chat_key,
    to_command_event,
    to_message_event,
    to_reaction_events,
)

ME = BotIdentity(7000001, "fanqa_bot")
CHAT = {"id": -1001111111111, "type": "supergroup", "title": "Fund club"}
ALICE = {"id": 101, "is_bot": False, "first_name": "Alice", "last_name": "Li"}


def message(text: str | None = None, **extra: Any) -> Message:
    body: dict[str, Any] = {"message_id": 5, "date": 1767225600, "chat": CHAT, "from": ALICE}
    if text is not None:
        body["text"] = text
    body.update(extra)
    parsed = Message.de_json(body, None)
    assert parsed is not None
    return parsed


def test_mention_is_detected_and_removed_from_the_prompt() -> None:
    """@FanQA_bot (any case) addresses the bot; the prompt is the question alone."""
    text = "@FanQA_bot how do I redeem?"
    got = to_message_event(
        message(text, entities=[{"type": "mention", "offset": 0, "length": 10}]), ME
    )
    assert got is not None
    assert (got.event.mentions_bot, got.prompt) == (True, "how do I redeem?")
    assert got.event.message.author_name == "Alice Li"
    other = to_message_event(
        message("@other_bot hi?", entities=[{"type": "mention", "offset": 0, "length": 10}]), ME
    )
    assert other is not None and not other.event.mentions_bot


def test_topic_root_is_not_a_reply_and_plain_reply_threads_are_no_topics() -> None:
    """In a forum topic the implicit reply to the topic's creation is dropped; a reply in
    a plain supergroup keeps its target but has no topic."""
    created = {
        "message_id": 3,
        "date": 1767225600,
        "chat": CHAT,
        "from": ALICE,
        "forum_topic_created": {"name": "Fees", "icon_color": 1},
        "message_thread_id": 3,
        "is_topic_message": True,
    }
    first = to_message_event(
        message(
            "Is there a fee?", message_thread_id=3, is_topic_message=True, reply_to_message=created
        ),
        ME,
    )
    assert first is not None
    msg = first.event.message
    assert (msg.reply_to_id, msg.thread_id, msg.is_topic_root, first.topic_id) == (
        None,
        "3",
        True,
        3,
    )
    question = {"message_id": 4, "date": 1767225600, "chat": CHAT, "from": ALICE, "text": "?"}
    plain = to_message_event(message("yes", message_thread_id=4, reply_to_message=question), ME)
    assert plain is not None
    assert (plain.event.message.reply_to_id, plain.event.message.thread_id) == ("4", None)


def test_service_messages_are_skipped_and_captions_are_text() -> None:
    """A join carries nothing to harvest; a photo's caption is its text."""
    joined = message(new_chat_members=[ALICE])
    assert to_message_event(joined, ME) is None
    photo = [{"file_id": "a", "file_unique_id": "b", "width": 1, "height": 1}]
    got = to_message_event(message(photo=photo, caption="How do I read this chart?"), ME)
    assert got is not None
    assert (got.event.message.text, got.event.message.has_media) == (
        "How do I read this chart?",
        True,
    )


def test_reaction_change_becomes_removed_and_added_events() -> None:
    """Switching 👍 to 👎 is one removal and one addition; custom emoji are ignored."""
    update = MessageReactionUpdated.de_json(
        {
            "chat": CHAT,
            "message_id": 9,
            "user": ALICE,
            "date": 1767225600,
            "old_reaction": [{"type": "emoji", "emoji": "👍"}],
            "new_reaction": [
                {"type": "emoji", "emoji": "👎"},
                {"type": "custom_emoji", "custom_emoji_id": "123"},
            ],
        },
        None,
    )
    assert update is not None
    events = to_reaction_events(update)
    assert [(e.emoji, e.added, e.user_id, e.message_id) for e in events] == [
        ("👍", False, "101", "9"),
        ("👎", True, "101", "9"),
    ]


def test_commands_for_this_bot_only() -> None:
    """/approve@fanqa_bot 12 is ours; /approve@other_bot is not."""
    ours = to_command_event(message("/Approve@fanqa_bot 12"), ME)
    assert ours is not None and (ours.name, ours.args) == ("approve", ("12",))
    assert to_command_event(message("/approve@other_bot 12"), ME) is None


def test_chat_keys() -> None:
    """Live ids are stored as-is; the bare form drops the supergroup prefix."""
    assert telegram_chat_key(-1001111111111) == "-1001111111111"
    assert bare_chat_id("-1001111111111") == "1111111111"
    assert bare_chat_id(-4242) == "-4242"
