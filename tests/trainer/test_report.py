"""Tests of the markdown + PNG training report."""

from __future__ import annotations

from pathlib import Path

from trainer.gate import GatePolicy, decide
from trainer.metrics import StepMetrics
from trainer.report import write_report


def test_report_writes_table_and_png(tmp_path: Path) -> None:
    """The markdown has the verdict and one row per metric; the PNG is a real PNG."""
    live = {"loss": 6.7, "chrf": 5.0, "sequence_accuracy": 0.0}
    cand = {"loss": 0.2, "chrf": 60.0, "sequence_accuracy": 0.6, "question_gain": 0.7}
    decision = decide(cand, live, GatePolicy(floors={"question_gain": 0.1}))
    steps = [StepMetrics(step=i, train_loss=5.0 / i) for i in range(1, 6)]
    steps[-1] = StepMetrics(step=5, train_loss=1.0, valid_loss=1.2)
    md, png = write_report(tmp_path, decision, cand, live, steps)
    text = md.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# Evaluation gate: **promoted**"
    assert "| answer loss ↓ | 6.7 | 0.2 | +97.0% | primary | pass |" in text
    assert "| question gain ↑ | — | 0.7 | — | floor | pass |" in text
    assert "Training: 5 steps, final train loss 1, final valid loss 1.2." in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_names_the_base_model_when_nothing_was_live(tmp_path: Path) -> None:
    """A first model is compared with the bare base model, and the table says so."""
    base = {"loss": 7.6}
    cand = {"loss": 0.2}
    decision = decide(cand, base, GatePolicy())
    md, _ = write_report(tmp_path, decision, cand, base, [], reference="base")
    assert "| metric | base | candidate | change | role | check |" in md.read_text("utf-8")
