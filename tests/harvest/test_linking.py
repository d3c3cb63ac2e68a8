"""Implicit reply links in hand-written English and Chinese conversations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harvest.errors import InputError
from harvest.linking import ImplicitLinker, LinkerConfig, name_aliases
from harvest.model import ChatMessage, Role

T0 = datetime(2024, 5, 1, 20, 0, tzinfo=UTC)


def msg(mid: str, author: str, text: str, t: float = 0, **kw: Any) -> ChatMessage:
    """A message by ``author`` (whose display name is the id unless given)."""
    fields: dict[str, Any] = {
        "platform": "discord",
        "chat_id": "general",
        "message_id": mid,
        "author_id": author,
        "author_name": author,
        "text": text,
        "sent_at": T0 + timedelta(seconds=t),
    }
    fields.update(kw)
    return ChatMessage(**fields)


def links(messages: list[ChatMessage], linker: ImplicitLinker | None = None) -> list[str | None]:
    """What the linker says each message replies to."""
    linker = linker or ImplicitLinker()
    return [linker.feed(m) for m in messages]


def test_at_mention_links_to_that_speakers_latest_message() -> None:
    """ "@name" replies to the named member's latest message."""
    got = links(
        [
            msg("1", "caco", "has someone installed ubuntu on lvm with xfs?", 0),
            msg("2", "megax", "hello friends", 10),
            msg("3", "oerheks", "@caco you need xfsprogs in the live system", 20),
        ]
    )
    assert got == [None, None, "1"]


def test_leading_name_with_colon_or_comma_links() -> None:
    """ "name: …" and "name, …" address a recent speaker, ignoring case."""
    got = links(
        [
            msg("1", "Futurama140", "where do I put the dri section", 0),
            msg("2", "quibbler", "FUTURAMA140: at the end of xorg.conf", 10),
            msg("3", "ghost", "unrelated chatter here", 400),
            msg("4", "eepberries", "ghost, what was that about", 410),
        ]
    )
    assert got == [None, "1", None, "3"]


def test_name_at_the_end_links() -> None:
    """A recent speaker's name among the last words addresses them."""
    got = links(
        [
            msg("1", "Gremuchnik", "I don't like Unity, what else can I use", 0),
            msg("2", "ArNezT", "how do I repair group settings", 10),
            msg("3", "OttScorp", "try LXDE Gremuchnik :-)", 20),
        ],
        ImplicitLinker(LinkerConfig(regular_min_answers=99)),
    )
    assert got == [None, None, "1"]


def test_partial_nick_links_to_the_unique_match() -> None:
    """A truncated nick followed by a colon finds the one speaker it starts."""
    got = links(
        [
            msg("1", "Futurama140", "where do I put the dri section", 0),
            msg("2", "quibbler", "futur: at the end of xorg.conf", 10),
        ]
    )
    assert got == [None, "1"]


def test_display_name_with_spaces_and_first_name() -> None:
    """A two-word display name is addressed in full or by its first word."""
    linker = ImplicitLinker()
    got = links(
        [
            msg("1", "u1", "Can I add my spouse to the policy", 0, author_name="Alice Wang"),
            msg("2", "u2", "Alice Wang: yes, at renewal", 10, author_name="Bob"),
            msg("3", "u3", "alice, the form is on the website", 20, author_name="Carol"),
        ],
        linker,
    )
    assert got == [None, "1", "1"]


def test_chinese_name_prefix_and_mention() -> None:
    """ "张三：…" and "@李四 …" address Chinese display names."""
    got = links(
        [
            msg("1", "u1", "这个基金可以随时赎回吗", 0, author_name="张三"),
            msg("2", "u2", "请问重疾险的等待期是多久", 5, author_name="李四"),
            msg("3", "u3", "张三：可以，T+1 到账", 20, author_name="王五"),
            msg("4", "u3", "@李四 一般是90天", 30, author_name="王五"),
        ]
    )
    assert got == [None, None, "1", "2"]


def test_addressed_member_answers_back_without_naming() -> None:
    """After being addressed, a member's unaddressed reply links to that message."""
    got = links(
        [
            msg("1", "subodh", "can photoshop CS2 be installed in ubuntu?", 0),
            msg("2", "eepberries", "subodh: you can try it with wine", 30),
            msg("3", "cooldude", "gimp is good enough", 40),
            msg("4", "subodh", "ok, what is the command for that", 250),
        ]
    )
    assert got == [None, "1", None, "2"]


def test_addressing_back_links_to_the_message_sent_to_me() -> None:
    """Addressing someone who talked to me links to what they told me."""
    got = links(
        [
            msg("1", "groob", "how do I keep grub updated from both systems?", 0),
            msg("2", "corba", "groob, install grub customizer in os2", 30),
            msg("3", "corba", "it also changes fonts and backgrounds", 40),
            msg("4", "groob", "corba: thanks, that won't be automated though?", 90),
        ]
    )
    assert got == [None, "1", "2", "2"]


def test_quick_follow_up_continues_own_message() -> None:
    """A follow-up soon after links to the author's own message; a late one starts anew."""
    config = LinkerConfig(continuation_seconds=60, regular_min_answers=99)
    got = links(
        [
            msg("1", "janat08", "I can't find my windows partition", 0),
            msg("2", "janat08", "which i think is ntfs", 30),
            msg("3", "janat08", "anyway, good night", 500),
        ],
        ImplicitLinker(config),
    )
    assert got == [None, "1", None]


def test_regular_answerer_answers_unanswered_question() -> None:
    """An expert's unaddressed message right after an open question answers it."""
    stream = [
        msg("1", "asker", "请问手续费是多少", 0),
        msg("2", "expert", "申购费0.15%，持有满7天免赎回费", 30),
    ]
    assert links(stream, ImplicitLinker(roles={"expert": Role.EXPERT})) == [None, "1"]
    assert links(stream, ImplicitLinker()) == [None, None]


def test_answered_question_is_not_linked_again() -> None:
    """A question someone already answered is not taken by the next-message rule."""
    linker = ImplicitLinker(roles={"mod": Role.MODERATOR})
    got = links(
        [
            msg("1", "asker", "Is there a way to pin the docker image version", 0),
            msg("2", "helper", "asker: use the image digest", 10),
            msg("3", "mod", "Release notes are pinned in the channel", 40),
        ],
        linker,
    )
    assert got == [None, "1", None]


def test_members_become_regular_by_answering() -> None:
    """After enough answers a member's next message answers an open question."""
    config = LinkerConfig(regular_min_answers=1)
    got = links(
        [
            msg("1", "a", "How do I enable the debug log?", 0),
            msg("2", "helper", "a: set LOG_LEVEL=debug", 10),
            msg("3", "b", "Why does the build fail on Windows", 400),
            msg("4", "helper", "long paths; enable them in the registry", 420),
        ],
        ImplicitLinker(config),
    )
    assert got == [None, "1", None, "3"]


def test_explicit_reply_topic_root_and_service_messages() -> None:
    """Explicit replies pass through; topic roots and service messages link nowhere."""
    got = links(
        [
            msg("10", "a", "topic created", 0, is_service=True),
            msg("11", "a", "How do I claim?", 1, reply_to_id="10", is_topic_root=True),
            msg("12", "b", "Claims > New claim", 20, reply_to_id="11"),
        ]
    )
    assert got == [None, None, "11"]


def test_unknown_name_does_not_link() -> None:
    """A name that has not spoken recently addresses nobody."""
    got = links(
        [
            msg("1", "a", "anyone using beagle here?", 0),
            msg("2", "b", "ActionParsnip: what about locate", 500),
        ],
        ImplicitLinker(LinkerConfig(regular_min_answers=99)),
    )
    assert got == [None, None]


def test_names_too_old_are_not_linked() -> None:
    """A speaker silent for longer than the window is not linked to."""
    got = links(
        [
            msg("1", "a", "How do I enable the debug log?", 0),
            msg("2", "b", "a: set LOG_LEVEL=debug", 2000),
        ],
        ImplicitLinker(LinkerConfig(window_seconds=900)),
    )
    assert got == [None, None]


def test_renamed_speaker_is_addressed_by_new_name_only() -> None:
    """After a rename the old name no longer addresses that member."""
    linker = ImplicitLinker(LinkerConfig(regular_min_answers=99))
    got = links(
        [
            msg("1", "u1", "first message", 0, author_name="mrak_"),
            msg("2", "u1", "Is the mirror down", 400, author_name="mrak"),
            msg("3", "u2", "mrak_: no idea", 800),
            msg("4", "u3", "mrak: works for me", 810),
        ],
        linker,
    )
    assert got == [None, None, None, "2"]


def test_chats_and_threads_keep_separate_state() -> None:
    """A name spoken in another chat or thread addresses nobody here."""
    got = links(
        [
            msg("1", "alice", "How do I restart?", 0, chat_id="c1"),
            msg("2", "bob", "alice: systemctl restart", 10, chat_id="c2"),
            msg("3", "bob", "alice: systemctl restart", 20, chat_id="c1", thread_id="t9"),
            msg("4", "bob", "alice: systemctl restart", 30, chat_id="c1"),
        ]
    )
    assert got == [None, None, None, "1"]


def test_memory_stays_bounded_and_recent_speakers_still_link() -> None:
    """With many speakers the linker prunes old ones and still links recent ones."""
    linker = ImplicitLinker(LinkerConfig(max_speakers=5, recent_messages=8))
    stream = [msg(str(i), f"user{i}", f"hello number {i}", i) for i in range(100)]
    stream.append(msg("100", "late", "user99: welcome", 100))
    stream.append(msg("101", "late2", "user3: welcome", 101))
    got = links(stream, linker)
    assert got[-2:] == ["99", None]


def test_active_chat_survives_many_short_threads() -> None:
    """Conversations are dropped least recently used first, not oldest first."""
    linker = ImplicitLinker(LinkerConfig(max_conversations=2, regular_min_answers=99))
    stream = [msg("1", "alice", "How do I restart the node?", 0)]
    for i in range(5):
        stream.append(msg(f"t{i}", "bot", "thread opened", 1 + i, thread_id=f"t{i}"))
        stream.append(msg(f"m{i}", "carol", f"still here {i}", 1 + i))
    stream.append(msg("9", "bob", "alice: systemctl restart node", 20))
    assert links(stream, linker)[-1] == "1"


def test_last_reason_explains_the_link() -> None:
    """last_reason names the rule behind the latest link."""
    linker = ImplicitLinker(LinkerConfig(regular_min_answers=99))
    reasons = []
    for m in [
        msg("1", "a", "How do I enable the debug log?", 0),
        msg("2", "b", "a: set LOG_LEVEL=debug", 10),
        msg("3", "b", "then restart", 20),
        msg("4", "a", "thanks", 30),
        msg("5", "c", "hi", 40, reply_to_id="1"),
        msg("6", "d", "new topic", 50),
    ]:
        linker.feed(m)
        reasons.append(linker.last_reason)
    assert reasons == [None, "addressed", "continuation", "called", "reply", None]


def test_name_aliases() -> None:
    """Aliases are lower-case: full name, without spaces, bare, first word."""
    assert name_aliases("Alice Wang") == ("alice wang", "alicewang", "alice")
    assert name_aliases("benh`") == ("benh`", "benh")
    assert name_aliases("张三") == ("张三",)
    assert name_aliases("  ") == ()


def test_config_rejects_bad_values() -> None:
    """Negative windows and empty bounds are input errors naming the field."""
    with pytest.raises(InputError) as info:
        LinkerConfig(window_seconds=-1)
    assert info.value.field == "window_seconds"
    with pytest.raises(InputError) as info:
        LinkerConfig(max_speakers=0)
    assert info.value.field == "max_speakers"
