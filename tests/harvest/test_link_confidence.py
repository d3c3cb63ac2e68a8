"""A learned implicit link's probability in the pair's confidence: carried as a signal, the
confidence the geometric mean of the engine's score and that probability; reply-button
and rules-linked pairs unchanged."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from harvest.engine.scoring import PairFeatures, score_pair
from harvest.model import ChatMessage, PairedAnswer, PairMethod
from harvest.pairing import PairingConfig, pair_all
from harvest.reply_model import LearnedLinker
from tests.harvest.test_engine import _features as engine_features
from tests.harvest.test_reply_model import msg

CHAT = [
    msg("1", "alice", "how do I mount a usb disk on the command line?", 0),
    msg("2", "carol", "does anyone know why my wifi drops every hour?", 20),
    msg("3", "dave", "good morning all", 30),
    msg("4", "bob", "alice: use pmount /dev/sdb1 /media/usb", 60),
]


def _features(**kw: object) -> PairFeatures:
    """An implicit pair's features, as the learned linker leaves them."""
    implicit: dict[str, object] = {
        "method": PairMethod.IMPLICIT,
        "link_reason": "learned",
        "answer_kind": "code",
        "delay_seconds": 60.0,
    }
    return engine_features(**(implicit | kw))


def _pair_of(pairs: list[PairedAnswer], question: str, answer: str) -> PairedAnswer:
    found = [p for p in pairs if p.question_id == question and answer in p.answer_ids]
    assert len(found) == 1, pairs
    return found[0]


def _link_probabilities(chat: list[ChatMessage]) -> dict[str, float | None]:
    """What a learned linker fed ``chat`` says of its decision on each message."""
    linker = LearnedLinker()
    out: dict[str, float | None] = {}
    for m in chat:
        linker.feed(m)
        out[m.message_id] = linker.last_confidence
    return out


@pytest.mark.parametrize("prob", [0.05, 0.5, 0.9, 1.0])
def test_the_confidence_is_the_geometric_mean_of_score_and_link_probability(prob: float) -> None:
    """With ``link_prob`` the value is sqrt(engine score × probability); both are signals."""
    alone = score_pair(_features(), "q", "a")
    linked = score_pair(_features(link_prob=prob), "q", "a")
    assert linked.value == pytest.approx(math.sqrt(alone.value * prob), abs=1e-4)
    signals = dict(linked.signals)
    assert signals["link_prob"] == prob
    assert signals["engine_confidence"] == alone.value
    assert linked.rule == alone.rule == "implicit:learned"
    assert dict(alone.signals).keys() == signals.keys() - {"link_prob", "engine_confidence"}


def test_a_probability_on_a_reply_button_pair_changes_nothing() -> None:
    """Only an implicit link's probability counts: a reply's score is the engine's alone."""
    reply = _features(method=PairMethod.REPLY, link_reason="reply")
    assert score_pair(replace(reply, link_prob=0.2), "q", "a") == score_pair(reply, "q", "a")


def test_a_learned_implicit_pair_carries_its_link_probability() -> None:
    """The answer linked by the learned linker: its probability for that link is a signal
    (shown by ``fanqa pairs show``) and the confidence its geometric mean with the score."""
    pairs = pair_all(CHAT, PairingConfig(learned_linking=True))
    pair = _pair_of(pairs, "1", "4")
    assert pair.method is PairMethod.IMPLICIT
    assert pair.confidence is not None
    signals = pair.confidence.as_json()["signals"]
    assert isinstance(signals, dict)
    expected = _link_probabilities(CHAT)["4"]
    assert expected is not None and 0.0 < expected <= 1.0
    assert signals["link_prob"] == round(expected, 4)
    engine = signals["engine_confidence"]
    assert pair.confidence.value == round(math.sqrt(engine * signals["link_prob"]), 4)
    assert pair.confidence.value != engine


def test_rules_linked_and_reply_button_pairs_have_no_link_probability() -> None:
    """The rules' linker has no probability; a reply button under learned linking neither."""
    rules = _pair_of(pair_all(CHAT), "1", "4")
    assert rules.method is PairMethod.IMPLICIT and rules.confidence is not None
    assert "link_prob" not in dict(rules.confidence.signals)
    assert "engine_confidence" not in dict(rules.confidence.signals)
    replied = [*CHAT[:3], msg("4", "bob", "use pmount /dev/sdb1 /media/usb", 60, reply_to_id="1")]
    for config in (PairingConfig(), PairingConfig(learned_linking=True)):
        pair = _pair_of(pair_all(replied, config), "1", "4")
        assert pair.method is PairMethod.REPLY and pair.confidence is not None
        signals = dict(pair.confidence.signals)
        assert "link_prob" not in signals and "engine_confidence" not in signals
    plain = _pair_of(pair_all(replied), "1", "4")
    learned = _pair_of(pair_all(replied, PairingConfig(learned_linking=True)), "1", "4")
    assert plain.confidence == learned.confidence


def test_an_answer_in_several_messages_takes_the_highest_probability() -> None:
    """The answerer's follow-up joins the answer: the pair's ``link_prob`` is the highest of
    the linker's probabilities for its decisions on the answer's messages."""
    chat = [*CHAT, msg("5", "bob", "then open /media/usb in the file manager", 70)]
    pair = _pair_of(pair_all(chat, PairingConfig(learned_linking=True)), "1", "4")
    assert pair.answer_ids == ("4", "5") and pair.confidence is not None
    probs = _link_probabilities(chat)
    first, follow_up = probs["4"], probs["5"]
    assert first is not None and follow_up is not None and first != follow_up
    signals = dict(pair.confidence.signals)
    assert signals["link_prob"] == round(max(first, follow_up), 4)
