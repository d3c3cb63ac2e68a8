"""A community's pair classifier learns from moderators' decisions and round-trips as bytes."""

from __future__ import annotations

import pytest

from harvest.errors import InputError
from harvest.learner import LabelledPair, PairClassifier
from harvest.model import PairMethod

GOOD = [
    ("How do I reset my password?", "Settings → Account → Reset password, then check your mail."),
    ("Where is the export button?", "File → Export; pick Markdown or PDF."),
    ("基金赎回几天到账？", "一般T+1确认，T+2到T+4到账。"),
    ("Can I sync two laptops?", "Yes, enable WebDAV sync on both and point them at one folder."),
    ("What is the API rate limit?", "600 requests per minute per token."),
    ("怎么把字体调大", "设置 → 外观 → 字号，拖到 18 左右。"),
]
BAD = [
    ("How do I reset my password?", "lol my cat walked on the keyboard"),
    ("Where is the export button?", "went hiking this weekend, it was great"),
    ("基金赎回几天到账？", "同事都在聊黄金，我还是老老实实定投"),
    ("Can I sync two laptops?", "my cat walked on the keyboard again"),
    ("What is the API rate limit?", "the weather is great for hiking"),
    ("怎么把字体调大", "最近在看基金年报，挺有意思"),
]


def decisions() -> list[LabelledPair]:
    """Approved answers and rejected chit-chat, as moderators decided them."""
    good = [LabelledPair(q, a, PairMethod.REPLY, 2.5, 1, True) for q, a in GOOD]
    bad = [LabelledPair(q, a, PairMethod.IMPLICIT, 1.5, 1, False) for q, a in BAD]
    return good + bad


def test_learns_to_rank_answers_over_chit_chat() -> None:
    """After the decisions, a new answer scores above new chit-chat, both in [0, 1]."""
    clf = PairClassifier.fit(decisions())
    answer = LabelledPair("How do I export to PDF?", "File → Export → PDF.", PairMethod.REPLY, 2.5)
    chat = LabelledPair(
        "How do I export to PDF?", "my cat likes the keyboard", PairMethod.IMPLICIT, 1.5
    )
    good, bad = clf.confidences([answer, chat])
    assert 0.0 <= bad < good <= 1.0
    assert clf.decisions == len(GOOD) + len(BAD)


def test_round_trips_as_versioned_bytes() -> None:
    """A stored classifier scores exactly like the fitted one."""
    clf = PairClassifier.fit(decisions())
    again = PairClassifier.from_bytes(clf.to_bytes())
    probe = decisions()[:3]
    assert again.confidences(probe) == clf.confidences(probe)
    assert again.version == clf.version == 1


def test_needs_both_outcomes() -> None:
    """Only approvals teach nothing: a clear error, not a constant model."""
    only_good = [p for p in decisions() if p.approved]
    with pytest.raises(InputError) as info:
        PairClassifier.fit(only_good)
    assert info.value.field == "decisions"


def test_rejects_other_formats() -> None:
    """Bytes that are not a classifier of this version are refused."""
    with pytest.raises(InputError):
        PairClassifier.from_bytes(b'{"format": "something-else"}')
    with pytest.raises(InputError):
        PairClassifier.from_bytes(b"not json")


def test_the_engine_scores_with_a_communitys_classifier() -> None:
    """Plugged in as the engine's scorer, the classifier's confidence is the pair's."""
    from datetime import UTC, datetime, timedelta

    from harvest.learner import learned_scorer
    from harvest.model import ChatMessage
    from harvest.pairing import Pairer

    clf = PairClassifier.fit(decisions())
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    stream = [
        ChatMessage("telegram", "g", "1", "a", "A", "How do I export to PDF?", t0),
        ChatMessage(
            "telegram", "g", "2", "b", "B", "File → Export → PDF.", t0 + timedelta(seconds=30), "1"
        ),
    ]
    pairer = Pairer(scorer=learned_scorer(clf))
    found = [p for m in stream for p in pairer.feed(m)] + pairer.flush()
    assert len(found) == 1
    confidence = found[0].confidence
    assert confidence is not None
    expected = clf.confidence(
        LabelledPair("How do I export to PDF?", "File → Export → PDF.", PairMethod.REPLY, 2.5)
    )
    assert confidence.value == round(expected, 4)
    assert confidence.rule == "reply+classifier"


def test_one_pair_scores_exactly_as_in_a_batch() -> None:
    """The per-pair path the engine uses gives the batch's value, Chinese and emoji too."""
    clf = PairClassifier.fit(decisions())
    texts = ["How do I export to PDF?", "基金赎回几天到账？", "ok 💯 Ünïcode", "", "File → Export"]
    probe = [
        LabelledPair(q, a, method, 2.5)
        for q in texts
        for a in texts
        for method in (PairMethod.REPLY, PairMethod.IMPLICIT)
    ]
    batch = clf.confidences(probe)
    assert [round(clf.confidence(p), 12) for p in probe] == [round(c, 12) for c in batch]
