"""Tests of the evaluation gate's decision rules (pure, no model)."""

from __future__ import annotations

import math

import pytest

from harvest.errors import GateRejected
from trainer.gate import DEFAULT_POLICY, GatePolicy, choose, decide
from trainer.summary import RunSummary

LIVE = {
    "loss": 2.0,
    "perplexity": 7.39,
    "mean_token_accuracy": 0.5,
    "sequence_accuracy": 0.1,
    "chrf": 40.0,
    "question_gain": 0.3,
    "n": 20,
}


def test_lower_loss_beyond_the_margin_promotes() -> None:
    """A 5 % lower loss passes a 2 % margin."""
    actual = decide({**LIVE, "loss": 1.9}, LIVE)
    assert actual.promote is True
    assert actual.rows[0].metric == "loss"
    assert actual.rows[0].improvement == pytest.approx(0.05)


def test_improvement_below_the_margin_rejects() -> None:
    """A 1 % lower loss does not pass a 2 % margin, and the reason says so."""
    actual = decide({**LIVE, "loss": 1.98}, LIVE)
    assert actual.promote is False
    assert actual.reasons[0].endswith("rejected")


def test_higher_is_better_metrics_as_primary() -> None:
    """chrF as primary: higher passes, lower fails."""
    policy = GatePolicy(primary_metric="chrf", margin=0.1)
    assert decide({**LIVE, "chrf": 45.0}, LIVE, policy).promote is True
    assert decide({**LIVE, "chrf": 43.0}, LIVE, policy).promote is False


def test_floors_apply_whatever_the_live_model_scores() -> None:
    """Better than live but under a floor (min chrF, max loss, min question gain) is rejected."""
    better = {**LIVE, "loss": 1.0, "chrf": 20.0, "question_gain": 0.01}
    assert decide(better, LIVE, GatePolicy(floors={"chrf": 30})).promote is False
    assert decide(better, LIVE, GatePolicy(floors={"loss": 0.5})).promote is False
    assert decide(better, LIVE, GatePolicy(floors={"question_gain": 0.1})).promote is False
    assert decide(better, LIVE, GatePolicy(floors={"chrf": 10, "loss": 1.5})).promote is True


def test_guards_block_a_regression_elsewhere() -> None:
    """A better loss with a 20 % chrF drop is rejected when chrF is guarded."""
    worse_chrf = {**LIVE, "loss": 1.5, "chrf": 32.0}
    assert decide(worse_chrf, LIVE).promote is True
    assert decide(worse_chrf, LIVE, GatePolicy(guards=("chrf",))).promote is False


def test_missing_or_nan_primary_metric_rejects() -> None:
    """A candidate whose primary metric is missing or NaN is never promoted."""
    assert decide({"chrf": 50.0}, LIVE).promote is False
    assert decide({**LIVE, "loss": math.nan}, LIVE).promote is False


def test_zero_live_value_counts_any_improvement() -> None:
    """Against a live chrF of 0, any positive chrF is an (infinite) relative improvement."""
    actual = decide({"chrf": 5.0}, {"chrf": 0.0}, GatePolicy(primary_metric="chrf"))
    assert (actual.promote, actual.rows[0].improvement) == (True, math.inf)


def test_no_live_model_only_checks_floors() -> None:
    """With nothing deployed the candidate is promoted if it meets the floors."""
    assert decide(LIVE, None).promote is True
    assert decide(LIVE, None, GatePolicy(floors={"chrf": 50})).promote is False


def test_a_round_that_promoted_nothing_raises_gate_rejected() -> None:
    """The run's summary names the kept candidate's failed checks and its model id."""
    live = {"chrf": 40.0, "question_gain": 0.5}
    decision = decide({"chrf": 40.1, "question_gain": 0.5}, live, DEFAULT_POLICY)
    summary = RunSummary(best=0, promoted=False)
    cand = summary.candidate(0, "tiny")
    cand.gate, cand.model_version_id = decision.as_dict(), 7
    with pytest.raises(GateRejected, match=r"run 3: .* best tiny: chrf 40\.1 vs live 40") as info:
        summary.raise_if_rejected(run_id=3)
    assert info.value.model_id == 7
    RunSummary(best=0, promoted=True).raise_if_rejected()  # promoted: nothing raised


def test_unknown_metric_in_policy_is_refused() -> None:
    """A policy naming an unknown metric fails at construction."""
    with pytest.raises(ValueError, match="unknown gate metric"):
        GatePolicy(primary_metric="bleu")


def test_gate_module_does_not_import_torch() -> None:
    """The gate is pure: importing it in a fresh interpreter loads no torch/transformers."""
    import subprocess
    import sys

    code = (
        "import sys, trainer.gate, trainer.report, trainer.local;"
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_one_default_policy_on_metrics_every_backend_measures() -> None:
    """The default gate decides on chrF (0–100) and question_gain: a hosted model has both."""
    hosted_live = {"chrf": 40.0, "question_gain": 0.5}
    local_candidate = {"chrf": 45.0, "question_gain": 0.6, "loss": 0.3}
    assert decide(local_candidate, hosted_live, DEFAULT_POLICY).promote is True
    assert (
        decide({"chrf": 45.0, "question_gain": 0.1}, hosted_live, DEFAULT_POLICY).promote is False
    )


def test_choose_keeps_the_best_candidate_that_passed() -> None:
    """Best primary metric among those that passed; none passed → the best, not promoted."""
    live = {"chrf": 40.0, "question_gain": 0.5}
    cands = [
        {"chrf": 44.0, "question_gain": 0.5},
        {"chrf": 60.0, "question_gain": 0.01},  # best chrF, but ignores the question
        {"chrf": 48.0, "question_gain": 0.6},
    ]
    decisions = [decide(c, live, DEFAULT_POLICY) for c in cands]
    assert choose(cands, decisions, DEFAULT_POLICY) == (2, True)
    rejected = [decide(c, {"chrf": 90.0}, DEFAULT_POLICY) for c in cands]
    assert choose(cands, rejected, DEFAULT_POLICY) == (1, False)
    assert choose([], [], DEFAULT_POLICY) == (None, False)
