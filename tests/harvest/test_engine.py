"""The one harvest engine: decisions live and batch agree, edits re-decided, scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.demo import DEMO_EXPORT
from harvest.engine import (
    DecisionKind,
    HarvestEngine,
    PairFeatures,
    StoredPair,
    answer_kind,
    decide_delete,
    decide_edit,
    final_pairs,
    score_pair,
)
from harvest.exports import iter_messages, read_export
from harvest.model import ChatMessage, PairMethod, Role
from harvest.pairing import pair_all

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SOURCES = [
    DEMO_EXPORT,
    FIXTURES / "telegram" / "forum.json",
    FIXTURES / "telegram" / "forum_announcements.json",
    FIXTURES / "discord" / "folder",
]
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def msg(mid: str, author: str, text: str, t: float = 0, **kw: object) -> ChatMessage:
    return ChatMessage(
        "telegram", "g1", mid, author, author.capitalize(), text, T0 + timedelta(seconds=t), **kw
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_live_decisions_fold_to_the_batch_pairs(source: Path) -> None:
    """Folding new / update / drop decisions (what the live bot stores as messages arrive)
    gives exactly the pairs an import stores from the close decisions."""
    engine = HarvestEngine()
    decisions = []
    for message in iter_messages(read_export(source)):
        decisions.extend(engine.feed(message).decisions)
    decisions.extend(engine.flush())
    live = [d for d in decisions if d.kind is not DecisionKind.CLOSE]
    closed = [d.pair for d in decisions if d.kind is DecisionKind.CLOSE]
    batch = pair_all(iter_messages(read_export(source)))
    assert sorted(map(repr, final_pairs(live))) == sorted(map(repr, closed))
    assert sorted(map(repr, closed)) == sorted(map(repr, batch)) and batch


def test_a_question_over_two_messages_keeps_both_lines_and_grows_live() -> None:
    """The asker's two lines are one question; the answer is decided new at once and
    updated when its author adds a line."""
    engine = HarvestEngine()
    for m in (
        msg("1", "alice", "My redemption was 5 days ago."),
        msg("2", "alice", "When will the money arrive?", 20),
    ):
        assert engine.feed(m).decisions == []
    first = engine.feed(msg("3", "bob", "QDII funds take up to T+7.", 40, reply_to_id="2"))
    grown = engine.feed(msg("4", "bob", "Check the order page for the date.", 60))
    [new], [update] = first.decisions, grown.decisions
    assert (new.kind, update.kind, new.key) == (DecisionKind.NEW, DecisionKind.UPDATE, update.key)
    assert update.pair is not None and new.pair is not None
    assert new.pair.question_text == "My redemption was 5 days ago.\nWhen will the money arrive?"
    assert (
        update.pair.answer_text == "QDII funds take up to T+7.\nCheck the order page for the date."
    )


def test_recalled_history_lets_a_late_reply_pair() -> None:
    """A restarted engine given the old question (recall) pairs a reply to it."""
    engine = HarvestEngine()
    engine.recall(msg("1", "alice", "How do I switch to weekly DCA?"))
    fed = engine.feed(msg("9", "bob", "Edit the plan and pick Weekly.", 86_400, reply_to_id="1"))
    assert [(d.kind, d.key) for d in fed.decisions] == [(DecisionKind.NEW, ("g1", "1", "9"))]


def test_a_telegram_topic_asks_only_if_its_first_post_does() -> None:
    """An announcement topic's later posts are not answers; a question topic's are."""
    engine = HarvestEngine()
    posts = [
        msg("11", "grace", "Version 2.0 is out today.", 0, thread_id="10", is_topic_root=True),
        msg("12", "alice", "Great news, works well for me", 60, thread_id="10", is_topic_root=True),
        msg("21", "alice", "How do I export statements?", 100, thread_id="20", is_topic_root=True),
        msg("22", "grace", "Statements → Export → PDF.", 160, thread_id="20", is_topic_root=True),
    ]
    decided = [d for m in posts for d in engine.feed(m).decisions] + engine.flush()
    assert {d.key for d in decided} == {("g1", "21", "22")}


def _stored(status: str) -> StoredPair:
    return StoredPair(
        pair_id=7,
        status=status,
        question_id="1",
        question_text="How do I redeem?",
        answer_messages=(("2", "Tap Redeem."), ("3", "It takes T+2.")),
        answer_text="Tap Redeem.\nIt takes T+2.",
    )


def test_an_edit_updates_a_pending_pair_and_reopens_an_approved_one() -> None:
    """Pending: new text, status kept. Approved: back to review, never silently."""
    pending = decide_edit(_stored("pending"), "3", "It takes T+2.", "It takes T+1 now.")
    approved = decide_edit(_stored("approved"), "2", "Tap Redeem.", "Send me your password")
    question = decide_edit(_stored("pending"), "1", "How do I redeem?", "How do I redeem a QDII?")
    assert pending is not None and approved is not None and question is not None
    assert (pending.kind, pending.answer_text) == (
        DecisionKind.UPDATE,
        "Tap Redeem.\nIt takes T+1 now.",
    )
    assert (approved.kind, approved.reason) == (DecisionKind.REOPEN, "edited after approval")
    assert approved.answer_text == "Send me your password\nIt takes T+2."
    assert question.question_text == "How do I redeem a QDII?"
    assert decide_edit(_stored("approved"), "2", "Tap Redeem.", "Tap Redeem.") is None
    assert decide_delete(_stored("approved"), "2").kind is DecisionKind.DROP


def _features(**kw: object) -> PairFeatures:
    base: dict[str, object] = {
        "method": PairMethod.REPLY,
        "link_reason": "reply",
        "answerer_role": Role.MEMBER,
        "asker_role": Role.MEMBER,
        "answer_kind": "statement",
        "question_detected": True,
        "delay_seconds": 30.0,
        "answer_parts": 1,
        "question_parts": 1,
        "position": 0,
    }
    base.update(kw)
    return PairFeatures(**base)  # type: ignore[arg-type]


def test_confidence_ranks_good_pairs_above_doubtful_ones() -> None:
    """An expert's how-to by reply scores above a member's implicit counter-question;
    every score is in [0, 1] and carries its rule and signals."""
    good = score_pair(_features(answerer_role=Role.EXPERT, answer_kind="steps"), "q", "a")
    doubtful = score_pair(
        _features(
            method=PairMethod.IMPLICIT, link_reason="continuation", answer_kind="counter_question"
        ),
        "q",
        "a",
    )
    assert 0.0 <= doubtful.value < 0.5 < good.value <= 1.0
    assert (good.rule, doubtful.rule) == ("reply", "implicit:continuation")
    assert dict(good.signals)["answerer_role"] == "expert"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("see https://example.com/dca", "link"),
        ("do you mean office hours?", "counter_question"),
        ("+1", "ack"),
        ("which URL are you using?", "clarifying"),
        ("同问", "ack"),
        ("1. open the app\n2. tap Redeem", "steps"),
        ("Index funds", "short"),
        ("长期定投没问题，坚持就好，别追涨杀跌", "statement"),
    ],
)
def test_answer_kind(text: str, kind: str) -> None:
    """Answers are classed coarsely for the score, in English and Chinese."""
    assert answer_kind(text) == kind
