"""Replies are told apart: answers, acks, clarifying and counter-questions, small talk."""

from __future__ import annotations

import pytest

from harvest.answer_kinds import AnswerKind, answer_kind, is_answer, starts_new_topic
from harvest.questions import is_question, is_small_talk
from tests.harvest.test_pairing import msg, pairs


@pytest.mark.parametrize(
    "text",
    [
        "same here",
        "same question here",
        "^same question",
        "+1",
        "+1 this works for me too",
        "looking into it",
        "pinging @dev_tom",
        "good question",
        "following, I want to know too",
        "同问",
        "同问+1",
        "谢谢",
        "收到",
        "坐等大佬回答",
        "不太确定，我之前好像看过类似的",
        "great news, congrats team!",
        "👀",
        "np ottscorp",
        "no problem",
        "you're welcome :)",
        "hehe",
        "good luck!",
        "不客气",
    ],
)
def test_acknowledgements_are_acks(text: str) -> None:
    """Agreement, thanks, waiting and hedges carry no answer."""
    assert answer_kind(text) == AnswerKind.ACK


@pytest.mark.parametrize(
    "text",
    [
        "plese keep it on-channel",
        "anyway, all this windows stuff is off topic",
        "take it to #ubuntu-offtopic",
        "Please watch your language and topic to help keep this channel family friendly.",
        "Please don't ask to ask a question, simply ask the question (all on ONE line, so "
        "others can read and follow it easily). If anyone knows the answer they will most "
        "likely reply. :-)",
        "ranting here isn't going to help it work, sorry",
        "请勿刷屏，有问题直接问",
        "注意言辞，这里是技术群",
    ],
)
def test_chat_etiquette_notices_are_no_answers(text: str) -> None:
    """A notice on how to behave in the chat (off topic, language, asking to ask, taking
    it elsewhere), a moderator's or a bot's, answers no question."""
    assert answer_kind(text) == AnswerKind.ACK


@pytest.mark.parametrize(
    "text",
    [
        "yo're with integrated graphics, sorry i can't help you :/",
        "That I'm not sure about unfortunately.  Perhaps someone else knows?  I've never "
        "used that fail2ban filter.",
        "I didn't forget you, just hang on with me for a second",
        "抱歉，这个我帮不了你",
        "这个问题别人可能知道",
        "thats all i can think of",
        "maybe somebody else will know...",
        "hmm never tried that",
        "我就知道这么多了",
        "这个我也没用过",
    ],
)
def test_declining_to_answer_is_no_answer(text: str) -> None:
    """ "Sorry, I can't help you", "someone else may know", "hang on": the answerer
    declines or defers, the question stays unanswered."""
    assert answer_kind(text) == AnswerKind.ACK


@pytest.mark.parametrize(
    "text",
    [
        "i told you",
        "mandrix: you tell us",
        "some people already helped you out, youve gotta do some of the work by yourself.",
        "if it works, don't knock it",
        "no hard feelings :)",
        "我已经说过了",
        "自己去百度一下",
        "能用就行",
    ],
)
def test_rebukes_are_no_answers(text: str) -> None:
    """ "I told you", "you tell us", "do the work yourself": a rebuke (or a shrug) instead
    of an answer leaves the question unanswered."""
    assert answer_kind(text) == AnswerKind.ACK


@pytest.mark.parametrize(
    "text",
    [
        "i told you: sudo apt-get install build-essential",
        "I never tried it, but try gnome-do instead",
        "我说过了，运行 sudo update-grub 就行",
        "told you before, it is the gnome session",
        "上面说过了，重启一下就好",
    ],
)
def test_a_rebuke_with_the_answer_still_answers(text: str) -> None:
    """A rebuke that repeats the instruction still answers."""
    assert answer_kind(text) == AnswerKind.ANSWER


@pytest.mark.parametrize(
    "text", ["ok", "Okey.", "okey...", "nubbe: okay", "i see", "嗯嗯", "明白了"]
)
def test_a_bare_acknowledgement_is_no_answer(text: str) -> None:
    """ "ok" on its own acknowledges; it answers no question ("yes" / "no" can)."""
    assert answer_kind(text) == AnswerKind.ACK


@pytest.mark.parametrize("text", ["yes", "nubbe: no", "sure", "ok, run sudo update-grub"])
def test_a_bare_yes_or_no_still_answers(text: str) -> None:
    """A yes / no answers a yes-no question; "ok" with an instruction answers."""
    assert answer_kind(text) == AnswerKind.ANSWER


@pytest.mark.parametrize(
    "text",
    [
        "I can't help much, but sudo modprobe -r iwlwifi fixes it for most people",
        "hold on, run sudo update-grub first",
        "the off-by-one is in line 40, use range(n + 1)",
    ],
)
def test_declining_with_a_pointer_stays_an_answer(text: str) -> None:
    """A decline that still carries an instruction or command answers."""
    assert answer_kind(text) == AnswerKind.ANSWER


def test_a_question_back_with_version_numbers_is_one_sentence() -> None:
    """The dots of "libperl5.10" end no sentence: the question back stays one question."""
    text = "is there not a libperl5.10 to go with perl-base5.10 ?"
    assert answer_kind(text) == AnswerKind.CLARIFYING


def test_a_question_back_that_carries_a_link_points_to_an_answer() -> None:
    """ "Does <bug link> sound like your problem?" answers by pointing."""
    text = "Does https://bugs.launchpad.net/ubuntu/+source/wireshark/+bug/321943 sound like it?"
    assert answer_kind(text) == AnswerKind.ANSWER


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("which URL are you using?", AnswerKind.CLARIFYING),
        ("mind to elaborate? what do you type and what happens?", AnswerKind.CLARIFYING),
        ("are you on desktop or mobile?", AnswerKind.CLARIFYING),
        ("do you mean office hours?", AnswerKind.COUNTER_QUESTION),
        ("do you mean the whole vault or a single notebook?", AnswerKind.COUNTER_QUESTION),
        ("你是说同步配置还是外观配置？", AnswerKind.COUNTER_QUESTION),
        ("how is everyone doing?", AnswerKind.SMALL_TALK),
    ],
)
def test_questions_back_are_not_answers(text: str, kind: AnswerKind) -> None:
    """A reply that only asks back is classified by what it asks."""
    assert answer_kind(text) == kind
    assert is_answer(text) is False


def test_a_helpers_own_question_after_answering_is_a_follow_up() -> None:
    """The same question is a follow-up when its author already answered."""
    text = "which Pi model do you have?"
    assert answer_kind(text, follows_answer=True) == AnswerKind.FOLLOW_UP_QUESTION


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "works for me",
        "Ctrl+N, or Cmd+N on macOS",
        "yes, View → Theme → Dark",
        "Yes, install it from addons.mozilla.org. Did you try it already?",
        "谢谢提问！QDII受外汇额度限制，所以会限购。",
        "可以，移动端默认把最近 30 天的笔记缓存在本地。",
        "cool, just run sudo update-grub",
        "thanks, try kooldock",
        "np, use the ppa",
        "zicada, #ubuntu+1",  # a channel's name, no "+1" vote
        "like. not at the same time",  # "the same" is no "same here"
    ],
)
def test_answers_stay_answers(text: str) -> None:
    """Short, polite or mixed answers are answers."""
    assert answer_kind(text) == AnswerKind.ANSWER


@pytest.mark.parametrize(
    "text",
    [
        "I was looking for the link but can't find it",
        "I can't find the 2.0 release notes anywhere",
        "求一个导入印象笔记的方法",
        "有人知道怎么把字体调大",
        "my fail2ban does not seem to be active",
        "i cant get sound to work after the upgrade",
        "i keep getting an error when i boot",
        "isnt there an application in the repos for that",
        "eepberries - can you give me the command for this",
        "我的账号登录不了",
        "我这个基金赎回不了",
    ],
)
def test_questions_without_a_question_mark(text: str) -> None:
    """Requests worded as statements are questions."""
    assert is_question(text) is True


@pytest.mark.parametrize(
    "text",
    ["how is everyone doing today?", "what's up everyone?", "周末有人去爬山吗", "大家最近怎么样"],
)
def test_small_talk_is_not_a_question(text: str) -> None:
    """Chit-chat asks for nothing worth learning, even with a question mark."""
    assert is_small_talk(text) is True
    assert is_question(text) is False


def test_topic_shift_markers() -> None:
    """ "btw" / 顺便 open a new topic; a plain sentence does not."""
    assert [starts_new_topic(t) for t in ("btw the build is live", "顺便说一下", "yes")] == [
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    "text",
    [
        "that won't work, use gksudo",
        "i can't remember",
        "my laptop is fine now",
        "i got it",
        "你这样操作会报错",
        "我已经解决了",
    ],
)
def test_trouble_is_only_ones_own(text: str) -> None:
    """A helper's "that won't work" or a plain first-person remark is no request."""
    assert is_question(text) is False


@pytest.mark.parametrize(
    ("reply", "pairs_up"),
    [
        ("Alice: im unsure, i always use hardware raid", False),
        ("Alice: that depends a lot on your site...", False),
        ("Alice: mind your language", False),
        ("Alice: maybe try in the ubuntu forums", False),
        ("我也不清楚", False),
        ("看情况吧", False),
        ("去论坛问问", False),
        ("Alice: it depends on your terminal, in gnome-terminal it's ctrl+shift+c", True),
        ("看你的版本，18.04 以后直接 sudo apt install mdadm 就行", True),
    ],
)
def test_unsure_it_depends_language_and_forum_replies_make_no_pair(
    reply: str, pairs_up: bool
) -> None:
    """ "im unsure", a bare "that depends…", "mind your language", "try the forums" (我也不
    清楚, 看情况吧, 去论坛问问) answer nothing: the question gets no pair from them; an
    "it depends" that goes on to answer still pairs."""
    found = pairs(
        [
            msg("1", "a", "how do I install grub on a software raid?", 0),
            msg("2", "b", reply, 30, reply_to_id="1"),
        ]
    )
    assert bool(found) is pairs_up
