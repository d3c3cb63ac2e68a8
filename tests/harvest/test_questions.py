"""Question detection on real-looking English and Chinese group chat."""

from __future__ import annotations

import pickle

import pytest

from harvest.errors import InputError
from harvest.questions import (
    DEFAULT,
    PATTERN_NAMES,
    QuestionConfig,
    asks_addressee,
    detect_language,
    is_question,
)

# (text, is it a question?) as seen in fund / insurance / game / open-source groups.
TABLE: list[tuple[str, bool]] = [
    # English questions
    ("How do I redeem my fund units before the cut-off?", True),
    ("how to switch from the growth plan to the dividend plan", True),
    ("anyone know if the claim form can be submitted online", True),
    ("Does anyone else get a crash when loading the raid boss map", True),
    ("Is there a way to pin the docker image version in the helm chart", True),
    ("Can I add my spouse to the policy after it starts", True),
    ("what is the expense ratio of the index fund", True),
    ("Why does the build fail on Windows only", True),
    ("where do I find the policy number", True),
    ("which version should I install for python 3.12", True),
    ("who knows the patch schedule for season 4", True),
    ("when will the dividend be paid out", True),
    ("any idea why pip keeps resolving the old version", True),
    ("help, my account got locked after the update", True),
    ("ok so how long does a withdrawal usually take", True),
    ("I wonder whether the critical illness rider covers cancer relapse", True),
    ("bob: is the new release compatible with arm64", True),
    ("I can't figure out how to enable the debug log", True),
    ("What's the difference between term and whole life", True),
    ("Could someone explain the lock-up period", True),
    ("got error 403 on login, need help", True),
    ("hi all, is it safe to update the mod pack mid-season", True),
    ("Has anyone tried the new co-op mode yet", True),
    ("Does the policy cover dental?", True),
    ("is it normal that the app asks for my ID again", True),
    ("Who else is grinding the event tonight", True),
    ("I'd like to know the cut-off time for redemptions", True),
    ("please advise on how to claim", True),
    # English non-questions
    ("thanks!", False),
    ("ok", False),
    ("I know how to fix this, give me a minute", False),
    ("Here's how to enable it: Settings > Advanced > Debug", False),
    ("See https://example.com/faq?lang=en&page=2 for details", False),
    ("What a great update!", False),
    ("The fund's NAV dropped 2% today", False),
    ("When I run the installer it just closes", False),
    ("lol that boss fight was brutal", False),
    ("Merged the PR, release goes out tomorrow", False),
    ("Thanks for the help, it works now", False),
    ("How cool is that!", False),
    ("Do the backup first, then upgrade", False),
    ("I already figured out what was wrong", False),
    ("That's why you should read the changelog", False),
    ("my withdrawal has been pending for 3 days", False),
    ("Can't wait for the new season!", False),
    ("you can redeem anytime after 7 days", False),
    ("v2.3 is out, changelog in the pinned post", False),
    ("The raid resets on Tuesday", False),
    # Chinese questions
    ("这个基金可以随时赎回吗", True),
    ("请问重疾险的等待期是多久", True),
    ("怎么把定投改成每周扣款", True),
    ("为什么我的收益显示是负的", True),
    ("有没有人知道新版本什么时候更新", True),
    ("理赔需要准备哪些材料", True),
    ("这个装备能不能交易", True),
    ("可不可以同时买两份医疗险", True),
    ("手续费是多少", True),
    ("请教一下大佬们，编译报错要怎么处理", True),
    ("那我的保单呢", True),
    ("老师，这只基金还值得持有么", True),
    ("这个插件是否支持最新版", True),
    ("副本掉落率怎么样", True),
    ("求助：更新后游戏闪退", True),
    ("有人用过这个插件没", True),
    ("这个怎么弄啊", True),
    ("基金净值什么时候更新", True),
    ("求推荐一款好用的记账软件", True),
    ("明天几点开始", True),
    ("要不要加仓", True),
    # Chinese non-questions
    ("谢谢", False),
    ("好的，收到", False),
    ("我知道怎么弄了，谢谢大家", False),
    ("今天基金涨了不少！", False),
    ("我在开会呢，晚点回复", False),
    ("明天再说吧", False),
    ("教大家如何快速领取新手礼包", False),
    ("无论如何先备份数据", False),
    ("没什么，随便看看", False),
    ("已经修复了，下个版本发布", False),
    ("就这么办", False),
    ("我也不知道为什么", False),
    ("好吧", False),
    ("谁都可以参加", False),
    ("这个版本有bug", False),
    ("我还没", False),
]

MUST_PASS: list[tuple[str, bool]] = [
    ("How do I redeem my fund units before the cut-off?", True),
    ("这个基金可以随时赎回吗", True),
    ("请问重疾险的等待期是多久", True),
    ("anyone know if the claim form can be submitted online", True),
    ("See https://example.com/faq?lang=en&page=2 for details", False),
    ("谢谢", False),
    ("ok", False),
    ("I know how to fix this, give me a minute", False),
    ("我知道怎么弄了，谢谢大家", False),
    ("What a great update!", False),
    ("为什么？", True),
    ("这个能用吗？", True),
    # asked in a statement's words, without a "?"
    ("hi, just wanted to know what is the command to see my wireless driver", True),
    ("wanna know which driver i am using", True),
    ("我只是想知道怎么看无线网卡驱动", True),
    ("I know what the command is", False),
    ("is xubuntu supported here", True),
    ("are nvidia drivers available for 9.04", True),
    ("xubuntu is supported here", False),
    ("are all installed now", False),
    ("is fine now, thanks", False),
]


def test_table_accuracy_is_at_least_90_percent() -> None:
    """The detector agrees with the hand labels on at least 90% of the table."""
    wrong = [(text, want) for text, want in TABLE if is_question(text) != want]
    accuracy = 1 - len(wrong) / len(TABLE)
    assert len(TABLE) >= 40
    assert accuracy >= 0.9, wrong


@pytest.mark.parametrize(("text", "expected"), MUST_PASS)
def test_must_pass_cases(text: str, expected: bool) -> None:
    """Key questions and non-questions are classified right."""
    assert is_question(text) == expected


def test_table_covers_both_languages_and_both_labels() -> None:
    """The accuracy table is balanced enough to mean something."""
    langs = {(detect_language(text), want) for text, want in TABLE}
    assert langs == {("en", True), ("en", False), ("zh", True), ("zh", False)}


def test_question_mark_inside_url_alone_is_not_a_question() -> None:
    """A query string in a link does not make a message a question."""
    assert is_question("docs: https://example.com/search?q=redeem") is False


def test_full_width_question_mark_counts() -> None:
    """A Chinese full-width question mark marks a question."""
    assert is_question("收益怎么算的？") is True


def test_guarded_statement_with_question_mark_is_question() -> None:
    """A question mark overrides the "I know how" statement guard."""
    assert is_question("I know how to install it, but where is the config?") is True


def test_min_length_rejects_short_text() -> None:
    """Texts shorter than min_length are never questions."""
    assert is_question("why?", QuestionConfig(min_length=5)) is False
    assert is_question("why?") is True


def test_empty_and_punctuation_only_are_not_questions() -> None:
    """Empty text or bare punctuation is not a question."""
    assert [is_question(t) for t in ("", "   ", "???", "？！")] == [False, False, False, False]


def test_extra_pattern_marks_community_phrase() -> None:
    """A community can add its own question phrase."""
    config = QuestionConfig(extra_patterns=(r"^\s*!faq\b",))
    assert (is_question("!faq withdrawals", config), is_question("!faq withdrawals")) == (
        True,
        False,
    )


def test_disabled_pattern_is_ignored() -> None:
    """Disabling the question-mark rule leaves only the wording rules."""
    config = QuestionConfig(disabled_patterns=frozenset({"question_mark"}))
    assert is_question("it works now?", config) is False
    assert is_question("how do I start?", config) is True


@pytest.mark.parametrize(
    "text",
    [
        "/start how do I begin?",
        "/help@fanqa_bot what can you do?",
        "!controls | threexk have you NOT seen the guides online!?",
        "!play how far i'll go?",
    ],
)
def test_a_command_to_a_bot_is_not_a_question(text: str) -> None:
    """Commands ask the bot, not the members; the guard can be switched off."""
    assert is_question(text) is False
    assert is_question(text, QuestionConfig(disabled_patterns=frozenset({"bot_command"})))


@pytest.mark.parametrize("text", ["/etc/fstab is broken, why?", "how do I use /start?"])
def test_a_path_or_a_command_inside_the_text_is_no_bot_command(text: str) -> None:
    assert is_question(text) is True


def test_extra_non_question_overrides_wording() -> None:
    """A community can mark a recurring phrase as a statement."""
    config = QuestionConfig(extra_non_questions=(r"^今日问答",))
    assert is_question("今日问答：如何选择基金", config) is False
    assert is_question("今日问答：如何选择基金") is True


def test_unknown_disabled_pattern_is_rejected() -> None:
    """A misspelt pattern name is an input error naming the field."""
    with pytest.raises(InputError) as info:
        QuestionConfig(disabled_patterns=frozenset({"question_marks"}))
    assert info.value.field == "disabled_patterns"


def test_invalid_extra_pattern_is_rejected() -> None:
    """A broken regular expression is an input error naming the field."""
    with pytest.raises(InputError) as info:
        QuestionConfig(extra_patterns=("(unclosed",))
    assert info.value.field == "extra_patterns"


def test_every_builtin_pattern_can_be_disabled() -> None:
    """Each listed pattern name is accepted by the config."""
    config = QuestionConfig(disabled_patterns=frozenset(PATTERN_NAMES))
    assert is_question("请问这个怎么用？", config) is False


def test_config_survives_pickling() -> None:
    """A config sent to another process detects the same way."""
    config = QuestionConfig(extra_patterns=(r"^!faq",), min_length=2)
    copy = pickle.loads(pickle.dumps(config))
    assert (copy, is_question("!faq fees", copy)) == (config, True)


def test_config_is_comparable_and_default_is_shared() -> None:
    """Two equal configs compare equal; the default is the documented one."""
    assert QuestionConfig() == DEFAULT
    assert QuestionConfig(min_length=3) == DEFAULT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请问 docker compose 怎么用", "zh"),
        ("How do I use docker compose", "en"),
        ("I love 火锅", "en"),
        ("这个 bug 修好了吗", "zh"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    """Han characters outnumbering Latin words means Chinese."""
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arooni-mobile: Have you tried making an ad hoc connection?", True),
        ("gwydionwaters, are you using ext2 or ext3?", True),
        ("lukus001: Is your repositories updated?", True),
        ("did you try it already?", True),
        ("张三：你装了 dkms 没有？", True),
        ("你是不是没开 root 权限？", True),
        ("gwydionwaters, do you know how to search with grep?", False),
        ("can you use rsync with a windows machine?", False),
        ("do you need root to run wireshark?", False),
        ("edbian, do I execute that as dexter(user) or root?", False),
        ("你们谁知道怎么装驱动？", False),
    ],
)
def test_a_question_about_its_addressee(text: str, expected: bool) -> None:
    """Questions about the one they are said to (their setup, what they did) are told
    apart from questions that ask them, or anyone, for knowledge."""
    assert asks_addressee(text) is expected
