"""Pairing a chronological message stream into question → answer pairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harvest.errors import InputError
from harvest.model import ChatMessage, PairedAnswer, PairMethod, Role
from harvest.pairing import (
    Pairer,
    PairingConfig,
    is_harvestable,
    pair_all,
    role_of,
    score_answer,
    strip_address,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
NAMES = {"a": "Alice", "b": "Bob", "c": "Carol", "d": "Dave", "z": "张三", "l": "李四"}


def msg(mid: str, author: str, text: str, t: float = 0, **kw: Any) -> ChatMessage:
    """A group message ``t`` seconds after T0."""
    fields: dict[str, Any] = {
        "platform": "telegram",
        "chat_id": "g1",
        "message_id": mid,
        "author_id": author,
        "author_name": NAMES.get(author, author),
        "text": text,
        "sent_at": T0 + timedelta(seconds=t),
    }
    fields.update(kw)
    return ChatMessage(**fields)


def pairs(messages: list[ChatMessage], **config: Any) -> list[PairedAnswer]:
    """All pairs found in ``messages``."""
    return pair_all(messages, PairingConfig(**config))


def summary(found: list[PairedAnswer]) -> list[tuple[str, tuple[str, ...], str]]:
    """(question id, answer ids, method) of each pair, for compact asserts."""
    return [(p.question_id, p.answer_ids, p.method.value) for p in found]


def test_explicit_reply_to_question_is_a_pair() -> None:
    """A reply from another member to a question becomes a REPLY pair with both texts."""
    found = pairs(
        [
            msg("1", "a", "How do I redeem my fund units?", 0),
            msg("2", "b", "Assets > Redeem, before 15:00.", 30, reply_to_id="1"),
        ]
    )
    assert found == [
        PairedAnswer(
            chat_id="g1",
            question_id="1",
            answer_ids=("2",),
            question_text="How do I redeem my fund units?",
            answer_text="Assets > Redeem, before 15:00.",
            asker_id="a",
            answerer_id="b",
            method=PairMethod.REPLY,
            score=score_answer(Role.MEMBER, PairMethod.REPLY, 0),
        )
    ]


def test_chinese_reply_is_a_pair() -> None:
    """Chinese questions pair the same way."""
    found = pairs(
        [
            msg("1", "z", "请问重疾险的等待期是多久", 0),
            msg("2", "l", "一般是90天，看合同条款。", 20, reply_to_id="1"),
        ]
    )
    assert [(p.question_text, p.answer_text) for p in found] == [
        ("请问重疾险的等待期是多久", "一般是90天，看合同条款。")
    ]


def test_reply_to_statement_is_not_a_pair() -> None:
    """Replying to a non-question pairs nothing."""
    found = pairs(
        [
            msg("1", "a", "The fund's NAV dropped 2% today", 0),
            msg("2", "b", "yeah, rough week", 10, reply_to_id="1"),
        ]
    )
    assert found == []


def test_self_answer_bot_service_empty_and_media_only_are_skipped() -> None:
    """Only other members' text messages answer."""
    found = pairs(
        [
            msg("1", "a", "Is the claim form online?", 0),
            msg("2", "a", "found it, never mind", 5, reply_to_id="1"),
            msg("3", "bot", "Here is the FAQ link", 6, reply_to_id="1", is_bot=True),
            msg("4", "b", "pinned message", 7, reply_to_id="1", is_service=True),
            msg("5", "c", "", 8, reply_to_id="1", has_media=True),
            msg("6", "d", "   ", 9, reply_to_id="1"),
        ]
    )
    assert found == []


def test_answerer_follow_ups_within_window_are_merged() -> None:
    """An answerer's next messages within the merge window join the answer."""
    found = pairs(
        [
            msg("1", "a", "How do I switch to the dividend plan?", 0),
            msg("2", "b", "Open the fund page", 10, reply_to_id="1"),
            msg("3", "c", "good question", 20),
            msg("4", "b", "then tap Dividend > Cash", 60),
            msg("5", "b", "takes a day to apply", 170),
            msg("6", "b", "oh and the app must be updated", 400),
        ],
        implicit=False,
    )
    assert [(p.answer_ids, p.answer_text) for p in found] == [
        (
            ("2", "4", "5"),
            "Open the fund page\nthen tap Dividend > Cash\ntakes a day to apply",
        )
    ]


def test_an_answer_merges_at_most_max_answer_parts_messages() -> None:
    """A helper chaining lines within the window makes an answer of the first
    ``max_answer_parts`` (6 by default); the rest stay out of it (replying to the
    question, they make the next answer)."""
    lines = [msg("1", "a", "How do I set up a fund plan?", 0)]
    lines += [
        msg(str(i), "b", f"step {i}: open the page and tap item {i}", 10 * i, reply_to_id="1")
        for i in range(2, 11)
    ]
    found = pairs(lines, implicit=False)
    assert [p.answer_ids for p in found] == [("2", "3", "4", "5", "6", "7"), ("8", "9", "10")]
    found = pairs(lines[:6], implicit=False, max_answer_parts=3)
    assert [p.answer_ids for p in found] == [("2", "3", "4"), ("5", "6")]
    found = pairs(  # IRC style: one line by name, the rest linked by turn-taking
        [
            msg("1", "a", "How do I set up a fund plan?", 0, platform="irc"),
            msg("2", "b", "Alice: open the fund page", 10, platform="irc"),
            *(msg(str(i), "b", f"then tap item {i}", 10 * i, platform="irc") for i in range(3, 10)),
        ]
    )
    assert [p.answer_ids for p in found] == [("2", "3", "4", "5", "6", "7")]


def test_follow_up_after_the_askers_thanks_is_merged() -> None:
    """Without reply buttons, the answerer's next line after the asker's reply still merges."""
    found = pairs(
        [
            msg("1", "a", "How do I enable the debug log?", 0),
            msg("2", "b", "Alice: set LOG_LEVEL=debug", 10),
            msg("3", "a", "thanks, trying", 20),
            msg("4", "b", "and restart the service after", 30),
        ]
    )
    assert [(p.answer_ids, p.answer_text) for p in found] == [
        (("2", "4"), "set LOG_LEVEL=debug\nand restart the service after")
    ]


@pytest.mark.parametrize(
    ("text", "asker", "expected"),
    [
        ("@bob try the app", "Bob", "try the app"),
        ("小雨 QDII基金受外汇额度限制", "小雨", "QDII基金受外汇额度限制"),
        ("Bob, restart it", "Bob", "restart it"),
        ("Bobby tables is the answer", "Bob", "Bobby tables is the answer"),
        ("@bob", "Bob", "@bob"),
    ],
)
def test_answer_drops_the_address_to_the_asker(text: str, asker: str, expected: str) -> None:
    """Who was addressed is not part of the answer; a lone mention is kept as it is."""
    assert strip_address(text, asker) == expected


def test_follow_up_replying_to_someone_else_is_not_merged() -> None:
    """A follow-up that replies to another member's message ends the answer."""
    found = pairs(
        [
            msg("1", "a", "Which version should I install?", 0),
            msg("2", "b", "3.12", 5, reply_to_id="1"),
            msg("3", "c", "3.12 broke my build", 10),
            msg("4", "b", "works fine here", 15, reply_to_id="3"),
        ],
        implicit=False,
    )
    assert summary(found) == [("1", ("2",), "reply")]


def test_follow_up_replying_to_the_same_question_is_merged() -> None:
    """Two replies to the same question by the same member form one answer."""
    found = pairs(
        [
            msg("1", "a", "能不能同时买两份医疗险", 0),
            msg("2", "b", "可以买", 5, reply_to_id="1"),
            msg("3", "b", "但是报销不能超过实际花费", 25, reply_to_id="1"),
        ]
    )
    assert [(p.answer_ids, p.answer_text) for p in found] == [
        (("2", "3"), "可以买\n但是报销不能超过实际花费")
    ]


def test_two_questions_answered_in_a_row_are_two_pairs() -> None:
    """An answerer moving to another question starts a new answer."""
    found = pairs(
        [
            msg("1", "a", "How long does a withdrawal take?", 0),
            msg("2", "c", "Can I add my spouse to the policy?", 5),
            msg("3", "b", "one or two days", 10, reply_to_id="1"),
            msg("4", "b", "yes, at renewal", 20, reply_to_id="2"),
        ],
        implicit=False,
    )
    assert sorted(summary(found)) == [("1", ("3",), "reply"), ("2", ("4",), "reply")]


def test_question_spanning_two_messages_pairs_with_context() -> None:
    """A reply to the asker's context line pairs with the question it belongs to."""
    found = pairs(
        [
            msg("1", "a", "I bought the index fund last week.", 0),
            msg("2", "a", "How do I see the expense ratio", 15),
            msg("3", "b", "Fund page > Fees", 40, reply_to_id="1"),
        ],
        implicit=False,
    )
    assert [(p.question_id, p.question_text) for p in found] == [
        ("2", "I bought the index fund last week.\nHow do I see the expense ratio")
    ]


def test_thread_root_is_the_question_for_other_members() -> None:
    """In a thread, other members' messages answer its first message."""
    found = pairs(
        [
            msg("100", "a", "Crash when loading the raid map", 0, thread_id="100"),
            msg("101", "b", "Verify the game files in the launcher", 30, thread_id="100"),
            msg("102", "a", "did that, still crashes", 60, thread_id="100"),
            msg("103", "c", "Roll back the GPU driver to 551", 90, thread_id="100"),
        ]
    )
    assert summary(found) == [("100", ("101",), "thread"), ("100", ("103",), "thread")]


def test_thread_starter_outside_the_thread_is_its_root() -> None:
    """A Discord thread (id = starter id) pairs with its starter in the parent channel."""
    found = pairs(
        [
            msg("500", "a", "Our helm chart pins the wrong image", 0),
            msg("501", "b", "Set image.tag in values.yaml", 30, thread_id="500"),
        ]
    )
    assert summary(found) == [("500", ("501",), "thread")]


def test_telegram_topic_root_is_not_a_reply() -> None:
    """A topic root replying to the topic-creation message is the question, not an answer."""
    found = pairs(
        [
            msg("10", "a", "Topic created", 0, thread_id="10", is_service=True),
            msg(
                "11",
                "a",
                "理赔需要准备哪些材料",
                5,
                thread_id="10",
                reply_to_id="10",
                is_topic_root=True,
            ),
            msg("12", "b", "身份证、病历和发票", 40, thread_id="10", reply_to_id="11"),
            msg("13", "c", "还有银行卡", 50, thread_id="10"),
        ]
    )
    assert summary(found) == [("11", ("12",), "reply"), ("11", ("13",), "thread")]


def test_threads_off_ignores_thread_membership() -> None:
    """With thread handling off, thread messages pair only by reply."""
    found = pairs(
        [
            msg("100", "a", "Crash when loading the raid map", 0, thread_id="100"),
            msg("101", "b", "Verify the game files", 30, thread_id="100"),
        ],
        threads=False,
        implicit=False,
    )
    assert found == []


def test_implicit_mention_answers_without_reply_button() -> None:
    """An "@name" answer to an open question pairs as IMPLICIT; off when disabled."""
    stream = [
        msg("1", "a", "anyone know if the claim form can be submitted online", 0),
        msg("2", "c", "lol that boss fight was brutal", 10),
        msg("3", "b", "@Alice yes, under Claims > New claim", 20),
    ]
    assert summary(pairs(stream)) == [("1", ("3",), "implicit")]
    assert pairs(stream, implicit=False) == []


def test_implicit_chinese_name_prefix_answers() -> None:
    """ "张三：…" answers 张三's question without the reply button."""
    found = pairs(
        [
            msg("1", "z", "这个基金可以随时赎回吗", 0),
            msg("2", "l", "张三：可以，T+1 到账", 30),
        ]
    )
    assert [(p.question_id, p.answerer_id, p.method) for p in found] == [
        ("1", "l", PairMethod.IMPLICIT)
    ]


def test_experts_and_moderators_rank_first() -> None:
    """An expert's later answer scores above a member's earlier one."""
    stream = [
        msg("1", "a", "What is the expense ratio of the index fund?", 0),
        msg("2", "c", "about 1% I think", 10, reply_to_id="1"),
        msg("3", "b", "0.15% a year, see the fact sheet", 20, reply_to_id="1"),
    ]
    found = pair_all(stream, PairingConfig(), roles={"b": Role.EXPERT})
    ranked = sorted(found, key=lambda p: p.score, reverse=True)
    assert [p.answerer_id for p in ranked] == ["b", "c"]


def test_source_roles_rank_like_configured_roles() -> None:
    """A moderator role from the export ranks first too."""
    stream = [
        msg("1", "a", "Is the API down?", 0),
        msg("2", "c", "works for me", 10, reply_to_id="1"),
        msg("3", "b", "Yes, fix is rolling out", 20, reply_to_id="1", author_roles=("Admin",)),
    ]
    ranked = sorted(pairs(stream), key=lambda p: p.score, reverse=True)
    assert [p.answerer_id for p in ranked] == ["b", "c"]


def test_answers_close_as_the_stream_moves_on() -> None:
    """feed returns an answer once its merge window has passed; flush returns the rest."""
    pairer = Pairer(PairingConfig(implicit=False))
    got = [
        pairer.feed(msg("1", "a", "How do I restart the node?", 0)),
        pairer.feed(msg("2", "b", "systemctl restart node", 10, reply_to_id="1")),
        pairer.feed(msg("3", "c", "Why does the build fail on Windows", 100)),
        pairer.feed(msg("4", "d", "long paths, enable them", 200, reply_to_id="3")),
    ]
    assert [summary(batch) for batch in got] == [[], [], [], [("1", ("2",), "reply")]]
    assert summary(pairer.flush()) == [("3", ("4",), "reply")]
    assert pairer.flush() == []


def test_chats_do_not_mix() -> None:
    """The same message id in another chat is another message."""
    found = pairs(
        [
            msg("1", "a", "How do I join the beta?", 0, chat_id="g1"),
            msg("1", "c", "nice weather today", 1, chat_id="g2"),
            msg("2", "b", "Settings > Beta", 10, chat_id="g2", reply_to_id="1"),
            msg("2", "b", "Settings > Beta", 10, chat_id="g1", reply_to_id="1"),
        ],
        implicit=False,
    )
    assert [(p.chat_id, p.question_id) for p in found] == [("g1", "1")]


def test_memory_window_forgets_old_questions() -> None:
    """A reply to a question older than max_tracked messages is not paired."""
    stream = [msg("q", "a", "How do I export my data?", 0)]
    stream += [msg(f"n{i}", "c", f"note {i}", 1 + i) for i in range(50)]
    stream.append(msg("r", "b", "Settings > Export", 60, reply_to_id="q"))
    assert pairs(stream, max_tracked=100, implicit=False) != []
    assert pairs(stream, max_tracked=20, implicit=False) == []


def test_pairing_is_deterministic() -> None:
    """The same stream gives the same pairs, in the same order."""
    stream = [
        msg("1", "a", "How do I export my data?", 0),
        msg("2", "b", "Settings > Export", 5, reply_to_id="1"),
        msg("3", "c", "Can I add my spouse to the policy", 6),
        msg("4", "d", "@Carol yes", 9),
        msg("5", "b", "as CSV", 20),
    ]
    assert pairs(stream) == pairs(stream)
    assert len(pairs(stream)) == 2


def test_config_rejects_bad_values() -> None:
    """A negative window or an empty memory is an input error naming the field."""
    with pytest.raises(InputError) as info:
        PairingConfig(merge_window=-1)
    assert info.value.field == "merge_window"
    with pytest.raises(InputError) as info:
        PairingConfig(max_tracked=0)
    assert info.value.field == "max_tracked"


# -- helpers ------------------------------------------------------------------------


def test_is_harvestable() -> None:
    """Text from a member is harvestable; bots, service, empty, media-only are not."""
    cases = [
        msg("1", "a", "hello"),
        msg("1", "a", "caption", has_media=True),
        msg("1", "a", "hi", is_bot=True),
        msg("1", "a", "joined", is_service=True),
        msg("1", "a", "", has_media=True),
        msg("1", "a", " \n"),
    ]
    assert [is_harvestable(m) for m in cases] == [True, True, False, False, False, False]


def test_role_of_prefers_configured_roles() -> None:
    """Configured roles win over source role names; unknown names mean member."""
    m = msg("1", "b", "hi", author_roles=("Moderator",))
    assert role_of(m, {"b": Role.EXPERT}) == Role.EXPERT
    assert role_of(m) == Role.MODERATOR
    assert role_of(msg("1", "b", "hi", author_roles=("Booster",))) == Role.MEMBER


def test_score_order_role_then_method_then_position() -> None:
    """Experts beat members, replies beat threads beat links, earlier beats later."""
    assert score_answer(Role.EXPERT, PairMethod.IMPLICIT, 5) > score_answer(
        Role.MEMBER, PairMethod.REPLY, 0
    )
    assert (
        score_answer(Role.MEMBER, PairMethod.REPLY, 9)
        > score_answer(Role.MEMBER, PairMethod.THREAD, 0)
        > score_answer(Role.MEMBER, PairMethod.IMPLICIT, 0)
    )
    assert score_answer(Role.MEMBER, PairMethod.REPLY, 0) > score_answer(
        Role.MEMBER, PairMethod.REPLY, 1
    )


# -- precision: exchanges, acks, several askers, topics --------------------------------


def test_a_clarifying_exchange_is_one_pair() -> None:
    """Question, "which URL?", the asker's reply, the fix: one pair, question → fix."""
    found = pairs(
        [
            msg("1", "a", "web login broken after the update, anyone else?", 0),
            msg("2", "b", "which URL are you using?", 60, reply_to_id="1"),
            msg("3", "a", "https://x.example/login, it shows 404", 120, reply_to_id="2"),
            msg(
                "4",
                "b",
                "The route moved to /auth/login, update the proxy rule.",
                400,
                reply_to_id="3",
            ),
        ]
    )
    assert summary(found) == [("1", ("4",), "reply")]


def test_acks_and_follow_up_questions_leave_the_answer() -> None:
    """ "looking into it" and the helper's own question are not part of the answer."""
    found = pairs(
        [
            msg("1", "a", "Is the sync server down?", 0),
            msg("2", "b", "looking into it", 30, reply_to_id="1"),
            msg("3", "b", "The EU node ran out of disk; it is back now.", 90),
            msg("4", "b", "did you restart the app?", 100),
        ]
    )
    assert summary(found) == [("1", ("3",), "reply")]


def test_the_askers_reply_to_a_helper_is_not_an_answer() -> None:
    """Roles are not reversed when the helper's follow-up question gets a reply."""
    found = pairs(
        [
            msg("1", "a", "Can I self-host on a Raspberry Pi?", 0),
            msg("2", "b", "Yes, the arm64 image runs on a Pi 4.", 60, reply_to_id="1"),
            msg("3", "b", "which Pi model do you have?", 70),
            msg("4", "a", "a Pi 4 with 4 GB", 150, reply_to_id="3"),
        ]
    )
    assert summary(found) == [("1", ("2",), "reply")]


@pytest.mark.parametrize(
    ("question", "rebuke", "answer"),
    [
        ("how do I uninstall google earth?", "Alice: i told you", "Alice: sudo apt-get remove x"),
        ("怎么卸载谷歌地球？", "张三：我已经说过了", "张三：运行 sudo apt-get remove x"),
    ],
)
def test_a_rebuke_is_not_harvested_as_the_answer(question: str, rebuke: str, answer: str) -> None:
    """ "I told you" said to an asker makes no pair; an answer that repeats the
    instruction still does."""
    asker = "z" if rebuke.startswith("张三") else "a"
    assert pairs([msg("1", asker, question, 0), msg("2", "b", rebuke, 30)]) == []
    found = pairs([msg("1", asker, question, 0), msg("2", "b", answer, 30)])
    assert summary(found) == [("1", ("2",), "implicit")]


def test_one_message_mentioning_several_askers_answers_each() -> None:
    """ "@ann @bob …" answers both open questions."""
    found = pairs(
        [
            msg("1", "a", "where is the changelog for 2.0?", 0),
            msg("2", "b", "is there a list of what changed in 2.0?", 30),
            msg("3", "c", "@Alice @Bob the changelog: https://x.example/2.0", 90),
        ]
    )
    assert sorted(summary(found)) == [("1", ("3",), "implicit"), ("2", ("3",), "implicit")]
    assert {p.answer_text for p in found} == {"the changelog: https://x.example/2.0"}


def test_small_talk_questions_get_no_pairs() -> None:
    """A reply to "how is everyone doing?" is not an answer."""
    found = pairs(
        [
            msg("1", "a", "how is everyone doing today?", 0),
            msg("2", "b", "pretty good, just upgraded to 2.0", 30, reply_to_id="1"),
        ]
    )
    assert found == []


def test_an_implicit_answer_in_another_language_is_not_linked() -> None:
    """The demo's wrong pair: an English answer after a Chinese question is not its answer."""
    roles = {"g": Role.MODERATOR}
    stream = [
        msg("1", "k", "How long does a redemption take to reach my bank?", 0),
        msg("2", "m", "定投频率选每周还是每月？", 960),
        msg("3", "g", "Domestic funds pay out by T+2 to T+4; QDII takes around T+7.", 1020),
    ]
    found = pair_all(stream, PairingConfig(), roles)
    assert [(p.question_id, p.answer_ids) for p in found] == [("1", ("3",))]


def test_an_announcement_topic_yields_no_pairs() -> None:
    """Comments under a Telegram topic's announcement are not answers to it."""
    topic = {"thread_id": "10", "reply_to_id": None, "is_topic_root": True}
    found = pairs(
        [
            msg("10", "a", "Announcements", 0, is_service=True),
            msg("11", "a", "Version 3.0 is out! Faster sync and a new editor.", 5, **topic),
            msg("12", "b", "great news!", 40, **topic),
            msg("13", "c", "love the new editor, when does mobile get it", 50, **topic),
            msg("14", "d", "the new editor is really nice to write in", 60, **topic),
        ]
    )
    assert found == []


def test_a_topic_with_several_askers_is_not_one_question() -> None:
    """Once another member asks in a Telegram topic, later posts do not answer its first."""
    topic = {"thread_id": "10", "reply_to_id": None, "is_topic_root": True}
    found = pairs(
        [
            msg("10", "a", "Help", 0, is_service=True),
            msg("11", "a", "How do I move my vault to a new phone?", 5, **topic),
            msg("12", "b", "why did my tags disappear?", 400, **topic),
            msg("13", "c", "the weather is great today for a walk", 900, **topic),
        ]
    )
    assert found == []


def test_precision_off_keeps_the_old_chain() -> None:
    """The baseline (precision off) still pairs the clarifying question."""
    stream = [
        msg("1", "a", "web login broken after the update, anyone else?", 0),
        msg(
            "2",
            "b",
            "which URL are you using, the one on port 8080 or the proxy?",
            60,
            reply_to_id="1",
        ),
    ]
    assert summary(pairs(stream, precision=False)) == [("1", ("2",), "reply")]
    assert pairs(stream) == []
