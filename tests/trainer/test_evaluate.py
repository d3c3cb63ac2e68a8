"""Tests of holdout evaluation and of the gate on real vs corrupted training data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.trainer.conftest import Run
from trainer.evaluate import EvalMetrics, evaluate, question_gain
from trainer.gate import DEFAULT_POLICY, GatePolicy, decide
from trainer.inference import LocalGenerator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def evals(tiny_base: Path, qa: Any, real_run: Run, shuffled_run: Run) -> dict[str, EvalMetrics]:
    """Base (live), real-pairs and shuffled-pairs models scored on the same unseen holdout."""
    _, holdout = qa
    models = {
        "base": None,
        "real": real_run.result.adapter_dir,
        "shuffled": shuffled_run.result.adapter_dir,
    }
    return {
        name: evaluate(LocalGenerator(tiny_base, adapter, device="cpu"), holdout, max_new_tokens=48)
        for name, adapter in models.items()
    }


def test_holdout_questions_are_unseen_paraphrases(qa: Any) -> None:
    """The holdout shares answers with training but none of its questions (a fair test set)."""
    train, holdout = qa
    questions = {e["messages"][1]["content"] for e in train}
    answers = {e["messages"][-1]["content"] for e in train}
    assert [e["messages"][1]["content"] in questions for e in holdout] == [False] * len(holdout)
    assert [e["messages"][-1]["content"] in answers for e in holdout] == [True] * len(holdout)


def test_gate_promotes_real_pairs_and_rejects_shuffled_pairs(evals: dict[str, EvalMetrics]) -> None:
    """Same live model, same holdout: real pairs pass the default gate, shuffled answers do not.

    A shuffled set still teaches the answers' wording, so its loss beats a model that never
    saw them (a loss-only gate would promote it); what it cannot learn is which answer goes
    with which question, and the question-gain floor is the check for that.
    """
    real = decide(evals["real"], evals["base"], DEFAULT_POLICY)
    shuffled = decide(evals["shuffled"], evals["base"], DEFAULT_POLICY)
    assert (real.promote, shuffled.promote) == (True, False)
    assert "question_gain" in [r.metric for r in shuffled.rows if r.passed is False]
    loss_only = GatePolicy(primary_metric="loss")
    assert decide(evals["shuffled"], evals["base"], loss_only).promote is True


def test_real_model_answers_unseen_paraphrases(evals: dict[str, EvalMetrics]) -> None:
    """The model trained on real pairs beats base and shuffled on chrF and sequence accuracy."""
    base, real, shuffled = evals["base"], evals["real"], evals["shuffled"]
    assert real.chrf > max(base.chrf, shuffled.chrf)
    assert real.sequence_accuracy > shuffled.sequence_accuracy
    assert real.question_gain > 0.5 > abs(shuffled.question_gain)


def test_metrics_are_consistent(evals: dict[str, EvalMetrics], qa: Any, real_run: Run) -> None:
    """perplexity = exp(loss); one generation per example; loss equals the trainer's valid loss."""
    _, holdout = qa
    real = evals["real"]
    assert real.perplexity == pytest.approx(math.exp(real.loss))
    assert (real.n, len(real.generations)) == (len(holdout), len(holdout))
    assert real.loss == pytest.approx(real_run.result.final.valid_loss, abs=1e-3)
    assert set(real.as_dict()) == {
        "loss",
        "perplexity",
        "mean_token_accuracy",
        "sequence_accuracy",
        "chrf",
        "n",
        "question_gain",
        "exact_match",
        "finished_rate",
        "mean_logprob",
    }


def test_question_gain_is_chance_corrected_and_compares_within_a_script() -> None:
    """Right answers → 1; the same answer for all, or answers of another question → 0;
    an answer in the asker's language but of another topic does not count as following."""
    refs = [
        "Fee is 1.5% per year.",
        "费率每年百分之一点五。",
        "Sell any day in the app.",
        "随时在应用里卖出。",
    ]
    assert question_gain(refs, refs) == 1.0
    assert question_gain(["Fee is 1.5% per year."] * 4, refs) == 0.0
    swapped = [refs[2], refs[3], refs[0], refs[1]]  # right language, wrong topic
    assert question_gain(swapped, refs) == -1.0
    assert question_gain(["x", "y"], ["same", "same"]) is None
