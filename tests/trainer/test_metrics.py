"""Tests of StepMetrics, the results CSV and the answer-token metrics."""

from __future__ import annotations

import math
from pathlib import Path

from trainer.metrics import (
    StepMetrics,
    answer_token_metrics,
    append_results_csv,
    parse_results_csv,
    read_results_csv,
    write_results_csv,
)


def test_results_csv_round_trips(tmp_path: Path) -> None:
    """Rows written (and appended) read back equal, empty cells as None."""
    rows = [
        StepMetrics(step=1, train_loss=2.5, train_mean_token_accuracy=0.25, tokens_seen=120),
        StepMetrics(
            step=2,
            train_loss=2.0,
            valid_loss=2.2,
            valid_mean_token_accuracy=0.3,
            valid_sequence_accuracy=0.0,
            epoch=0.5,
            learning_rate=1e-3,
        ),
    ]
    path = write_results_csv(tmp_path / "results.csv", rows[:1])
    append_results_csv(path, rows[1])
    assert read_results_csv(path) == rows


def test_openai_column_names_old_and_new_are_understood() -> None:
    """Old (train_accuracy / valid_accuracy) and new OpenAI columns map to the same fields."""
    old = "step,train_loss,train_accuracy,valid_loss,valid_accuracy\n1,2.4,0.12,2.3,0.14\n"
    new = (
        "step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,"
        "full_valid_loss,full_valid_mean_token_accuracy\n1,2.4,0.12,,,2.3,0.14\n"
    )
    expected = [
        StepMetrics(
            step=1,
            train_loss=2.4,
            train_mean_token_accuracy=0.12,
            valid_loss=2.3,
            valid_mean_token_accuracy=0.14,
        )
    ]
    assert parse_results_csv(old) == expected
    assert parse_results_csv(new) == expected


def test_answer_token_metrics_counts_runs_as_answers() -> None:
    """Token accuracy over labelled tokens; an answer counts only if all its tokens are right."""
    labels = [[-100, 5, 6, -100, -100, 7, 8], [-100, 1, 2, 3, -100, -100, -100]]
    preds = [[0, 5, 6, 0, 0, 7, 9], [0, 1, 2, 3, 0, 0, 0]]
    nll = [[9.0, 1.0, 1.0, 9.0, 9.0, 2.0, 2.0], [9.0, 0.5, 0.5, 0.5, 9.0, 9.0, 9.0]]
    actual = answer_token_metrics(preds, nll, labels)
    expected = {
        "loss": 7.5 / 7,
        "mean_token_accuracy": 6 / 7,
        "sequence_accuracy": 2 / 3,
        "n_tokens": 7.0,
        "n_answers": 3.0,
    }
    assert actual == expected


def test_answer_token_metrics_without_labels_is_nan() -> None:
    """No labelled token gives NaN metrics, not a division error."""
    actual = answer_token_metrics([[1, 2]], [[0.0, 0.0]], [[-100, -100]])
    assert (math.isnan(actual["loss"]), actual["n_tokens"]) == (True, 0.0)
