"""Grounded answers and confidence: retrieval evidence, calibration on held-out pairs, the model."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.answering import DEFAULT_CALIBRATION, Hit, PairIndex, Prepared, calibrate, decide
from bot.answering.calibrate import held_out_examples
from bot.answering.confidence import evidence_of
from tests.trainer.builders import TOPICS

FEE_EN = TOPICS["fee"][0]


@dataclass(frozen=True)
class Generated:
    text: str
    mean_logprob: float
    finished: bool = True


def _prepared(hits: list[Hit], probability: float, *, live: bool = True) -> Prepared:
    return Prepared(
        community_id=1,
        question="How much is the fee per year?",
        hits=hits,
        probability=probability,
        messages=[],
        target=("base", "adapter") if live else None,
        model_version_id=7 if live else None,
        min_confidence=0.4,
        abstain_mode="notice",
        shown=3,
    )


FEE_HIT = Hit(1, "What is the management fee?", FEE_EN, 3.0, 0.9, 0.8)


def test_a_clear_match_is_answered_from_the_pair_whatever_the_model_says() -> None:
    """Strong retrieval and a garbled generation: the approved answer, cited, not the garble."""
    got = decide(_prepared([FEE_HIT], 0.9), Generated("zzkq 基 fee fee qq", -4.0))
    assert (got.mode, got.text, got.abstained, got.sources) == ("retrieval", FEE_EN, False, [1])
    assert got.confidence == pytest.approx(0.9)


def test_a_generation_that_agrees_is_given_and_raises_confidence() -> None:
    """The model says what the pair says: its words, surer than retrieval alone."""
    said = "The management fee is 1.5% per year, charged monthly!"
    got = decide(_prepared([FEE_HIT], 0.6), Generated(said, -0.2))
    assert (got.mode, got.text, got.abstained) == ("model", said, False)
    assert got.confidence > 0.6


def test_weak_retrieval_and_an_unsure_model_abstain_with_a_notice() -> None:
    """Little evidence either way: the notice in the asker's language, sources still listed."""
    got = decide(_prepared([FEE_HIT], 0.1), Generated("Something else entirely.", -3.0))
    assert (got.abstained, got.text.startswith("I'm not sure"), got.sources) == (True, True, [1])


def test_a_sure_model_answers_what_retrieval_does_not_cover() -> None:
    """No similar question: the model's own certainty decides."""
    got = decide(_prepared([], 0.0), Generated("Open the app and tap Help.", -0.05))
    assert (got.mode, got.abstained) == ("model", False)
    assert got.confidence == pytest.approx(0.95, abs=0.01)


def test_nothing_retrieved_and_no_model_is_silence_or_a_notice() -> None:
    """Before any model and with no hit there is nothing to say."""
    got = decide(_prepared([], 0.0, live=False), None)
    assert (got.mode, got.abstained, got.confidence) == ("none", True, 0.0)


def _community_index() -> PairIndex:
    triples = []
    for en_answer, zh_answer, en_questions, zh_questions in TOPICS.values():
        triples += [(len(triples) + 1, q, en_answer) for q in en_questions]
        triples += [(len(triples) + 1, q, zh_answer) for q in zh_questions]
    return PairIndex([(i + 1, q, a) for i, (_, q, a) in enumerate(triples)])


def test_held_out_pairs_give_covered_and_uncovered_examples() -> None:
    """Held out alone a paraphrase is still covered; held out with its answer's pairs it is not."""
    examples = held_out_examples(_community_index(), sample=40)
    rights = [right for _, right in examples]
    assert True in rights and False in rights
    covered = [e.consensus for e, right in examples if right]
    uncovered = [e.consensus for e, right in examples if not right]
    assert sum(covered) / len(covered) > sum(uncovered) / len(uncovered)


def test_calibration_separates_covered_from_uncovered_questions() -> None:
    """Fitted on held-out pairs: a paraphrase scores above a question nobody answered."""
    index = _community_index()
    fitted = calibrate(index)
    assert fitted.examples >= 40 and fitted != DEFAULT_CALIBRATION
    covered = fitted.probability(evidence_of(index.search("How high is the yearly fee", k=5)))
    never = fitted.probability(evidence_of(index.search("Can I buy bitcoin with my fee", k=5)))
    assert covered > never


def test_too_few_pairs_keep_the_default_calibration() -> None:
    """A new community with a handful of pairs uses the default calibration."""
    index = PairIndex([(1, "What is the fee?", FEE_EN), (2, "管理费是多少？", "1.5%")])
    assert calibrate(index) == DEFAULT_CALIBRATION
