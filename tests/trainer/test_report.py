"""Tests of the markdown + PNG report of a round (candidates side by side)."""

from __future__ import annotations

from pathlib import Path

from trainer.gate import GatePolicy, decide
from trainer.metrics import StepMetrics
from trainer.report import Column, write_report


def test_report_writes_table_and_png(tmp_path: Path) -> None:
    """The markdown has the verdict, the reasons and one row per metric; the PNG is a PNG."""
    live = {"loss": 6.7, "chrf": 5.0, "sequence_accuracy": 0.0}
    cand = {"loss": 0.2, "chrf": 60.0, "sequence_accuracy": 0.6, "question_gain": 0.7}
    decision = decide(cand, live, GatePolicy(primary_metric="chrf", floors={"question_gain": 0.1}))
    steps = [StepMetrics(step=i, train_loss=5.0 / i) for i in range(1, 6)]
    steps[-1] = StepMetrics(step=5, train_loss=1.0, valid_loss=1.2)
    md, png = write_report(
        tmp_path, [Column("tiny", cand, decision, steps)], live, best=0, promoted=True
    )
    text = md.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# Evaluation gate: **promoted**"
    assert "| metric | live | candidate |" in text
    assert "| chrF ↑ | 5 | 60 |" in text and "| answer loss ↓ | 6.7 | 0.2 |" in text
    assert "| question gain ↑ | — | 0.7 |" in text and "| gate | | pass |" in text
    assert "Training: 5 steps, final train loss 1." in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_shows_every_candidate_side_by_side(tmp_path: Path) -> None:
    """Two candidates: one column each after the reference, each with its verdict; the kept
    one is marked."""
    base = {"chrf": 4.0, "question_gain": 0.0}
    small, large = {"chrf": 30.0, "question_gain": 0.4}, {"chrf": 41.0, "question_gain": 0.5}
    policy = GatePolicy(primary_metric="chrf", floors={"question_gain": 0.45})
    columns = [
        Column("small", small, decide(small, base, policy)),
        Column("large", large, decide(large, base, policy)),
    ]
    md, _ = write_report(tmp_path, columns, base, best=1, promoted=True, reference="base")
    text = md.read_text("utf-8")
    assert "| metric | base | candidate 1 | candidate 2 |" in text
    assert "| chrF ↑ | 4 | 30 | 41 |" in text and "| gate | | FAIL | pass |" in text
    assert "**candidate 2: large (kept)** — passed" in text
