"""The RE2 screen in front of the engine's word lists never changes a match."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import harvest.answer_kinds
import harvest.engine.exchanges
import harvest.question_rules
from harvest.questions import QuestionConfig, _build_detector
from harvest.screened import Screened, screen_source, screened

ROOT = Path(__file__).resolve().parents[2]
MODULES = (harvest.answer_kinds, harvest.engine.exchanges, harvest.question_rules)

# Where RE2 and Python's re part ways: Unicode spaces and letters next to \b, \s, \w, \d;
# a trailing newline before $; upper case; a lone surrogate RE2 cannot encode.
EDGES = [
    "can't\u3000help",  # ideographic space between the words
    "can't\xa0help you",
    "can't\u2028help",
    "I can\u2019t help",
    "éthanks",  # a Unicode letter before the word
    "thanks\u4e2d",
    "中thanks",
    "THANKS!",
    "Same here",
    "the same",
    "that depends\n",
    "that depends on your gpu\n",
    "看情况吧\n",
    "看你的显卡吧",
    "I'm not sure",
    "not\u2003sure",
    "it doesn\u2019t work",
    "how is everyone doing?",
    "how is ｅｖｅｒｙｏｎｅ doing?",
    "off-topic",
    "off\u00a0topic",
    "hang on",
    "ＨＡＮＧ ＯＮ",
    "\ud800 can't help",
    "",
    "١٢٣ errors",  # Arabic-Indic digits
    "K\u212a kelvin sign",
    "so\u3000how do i fix it",  # question words apart by Unicode spaces, no mark
    "anyone\u3000know a good editor",
    "i wonder\u2003if this works",
    "does\xa0anybody use zsh here",
]


def _patterns() -> list[tuple[str, Screened]]:
    found = []
    for module in MODULES:
        for name, value in vars(module).items():
            if isinstance(value, Screened):
                found.append((f"{module.__name__}.{name}", value))
    return found


def _texts() -> list[str]:
    """Every text of the fixture exports and label files, and the edge cases."""
    texts = list(EDGES)
    for path in sorted((ROOT / "tests" / "fixtures").rglob("*.json")):
        try:
            texts.extend(_strings(json.loads(path.read_text(encoding="utf-8"))))
        except (UnicodeDecodeError, json.JSONDecodeError):  # the malformed-input fixtures
            continue
    return texts


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def test_the_slow_word_lists_are_screened_and_every_screen_compiles() -> None:
    names = {name.rsplit(".", 1)[1] for name, _ in _patterns()}
    assert {"_DECLINE", "_REACTION_EN", "_ETIQUETTE", "SMALL_TALK", "_TROUBLE"} <= names
    assert all(p.screen is not None for _, p in _patterns())


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=lambda v: str(v)[:40])
def test_a_screened_pattern_finds_exactly_what_re_finds(name: str, pattern: Screened) -> None:
    texts = _texts()
    assert len(texts) > 500
    for text in texts:
        want = pattern.exact.search(text)
        got = pattern.search(text)
        assert (got is None) == (want is None), (name, text)
        if want is not None:
            assert got is not None and got.span() == want.span()


@pytest.mark.parametrize(
    "config",
    [
        QuestionConfig(),
        QuestionConfig(disabled_patterns=frozenset({"question_mark"}), min_length=2),
    ],
    ids=["default", "no-mark"],
)
def test_the_question_detector_decides_as_without_screens(
    config: QuestionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = _texts() + [t.lower() + suffix for t in EDGES for suffix in ("", " how", " or not")]
    screened_detector = _build_detector(config)
    with monkeypatch.context() as patch:
        patch.setattr(Screened, "possible", lambda self, text: True)
        plain = _build_detector(config)
        want = [plain(t) for t in texts]
    assert [screened_detector(t) for t in texts] == want
    assert any(want) and not all(want)


def test_the_screen_widens_what_re2_reads_narrowly() -> None:
    assert screen_source(r"(?<!the\s)same\b") == "same"
    assert screen_source(r"a(?=b(c)d)e") == "ae"
    assert screen_source(r"x$") == r"x(?:$|\n)"
    assert screen_source(r"[^\s]") == r"[^\s]"  # RE2's narrower \s widens a negated class
    assert screen_source(r"[\s-]") == r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ-]"
    assert screen_source(r"[\u4e00-\u9fff]{,3}") == r"[\x{4e00}-\x{9fff}]{0,3}"
    assert screen_source(r"\d\Z") == r"[\d\p{Nd}]\z"


def test_an_unscreenable_pattern_still_matches_through_re() -> None:
    repeated = screened(r"(\w)\1")  # a back-reference: RE2 refuses it
    assert repeated.screen is None
    assert repeated.search("a book") is not None
    assert repeated.search("abc") is None


def test_a_pattern_screened_later_is_not_answered_from_the_last_scan() -> None:
    first = screened(r"\bhello\b")
    assert first.search("hello world") is not None  # scanned: the latest text is cached
    later = screened(r"\bworld\b")
    assert later.search("hello world") is not None
    assert later.search("hello there") is None


def test_search_match_and_sub_agree_with_re() -> None:
    exact = re.compile(r"\bno\s+idea\b", re.IGNORECASE)
    fast = screened(r"\bno\s+idea\b", re.IGNORECASE)
    for text in ("No idea, sorry", "I have no\u3000idea", "nonidea", "no ideas", "idea: no"):
        assert bool(fast.search(text)) == bool(exact.search(text)), text
        assert bool(fast.match(text)) == bool(exact.match(text)), text
        assert fast.sub("?", text) == exact.sub("?", text), text
