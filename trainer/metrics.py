"""Per-step training metrics and the results CSV, shaped like OpenAI's fine-tuning results file."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS_COLUMNS",
    "StepMetrics",
    "answer_token_metrics",
    "append_results_csv",
    "eval_prediction_metrics",
    "parse_results_csv",
    "read_results_csv",
    "shifted_predictions",
    "write_results_csv",
]


@dataclass(frozen=True, slots=True)
class StepMetrics:
    """Metrics of one optimizer step; validation fields are None on steps without an evaluation.

    ``valid_sequence_accuracy`` is the share of validation answers whose every token (end of
    turn included) is the argmax under teacher forcing. ``tokens_seen`` counts real
    (non-padding) tokens processed so far.
    """

    step: int
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    valid_sequence_accuracy: float | None = None
    epoch: float | None = None
    learning_rate: float | None = None
    tokens_seen: int | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        """A plain dict, e.g. to store as JSON."""
        return asdict(self)

    @classmethod
    def from_train_log(cls, step: int, logs: Mapping[str, Any]) -> StepMetrics:
        """The row of a step from the HF Trainer's training log of that step."""
        return cls(
            step=step,
            train_loss=logs.get("loss"),
            train_mean_token_accuracy=logs.get("mean_token_accuracy"),
            epoch=logs.get("epoch"),
            learning_rate=logs.get("learning_rate"),
            tokens_seen=logs.get("tokens_seen"),
        )

    def with_eval_log(self, logs: Mapping[str, Any]) -> StepMetrics:
        """This row plus the validation metrics of an HF Trainer evaluation log."""
        return replace(
            self,
            valid_loss=logs.get("eval_token_loss"),
            valid_mean_token_accuracy=logs.get("eval_mean_token_accuracy"),
            valid_sequence_accuracy=logs.get("eval_sequence_accuracy"),
        )


_IGNORE = -100  # the label of tokens that are not trained on

RESULTS_COLUMNS = tuple(f.name for f in fields(StepMetrics))

# Column names other writers use (OpenAI's results file over the years, Azure) → ours.
_ALIASES = {
    "train_accuracy": "train_mean_token_accuracy",
    "training_token_accuracy": "train_mean_token_accuracy",
    "training_loss": "train_loss",
    "valid_accuracy": "valid_mean_token_accuracy",
    "validation_token_accuracy": "valid_mean_token_accuracy",
    "validation_loss": "valid_loss",
    "validation_sequence_accuracy": "valid_sequence_accuracy",
    "valid_mean_sequence_accuracy": "valid_sequence_accuracy",
    "full_valid_loss": "valid_loss",
    "full_valid_mean_token_accuracy": "valid_mean_token_accuracy",
    "elapsed_tokens": "tokens_seen",
    "lr": "learning_rate",
}


def _cell(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def write_results_csv(path: str | Path, steps: Iterable[StepMetrics]) -> Path:
    """Write (replace) a results CSV with a header row; empty cells for missing values."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(RESULTS_COLUMNS)
        for step in steps:
            writer.writerow([_cell(getattr(step, c)) for c in RESULTS_COLUMNS])
    return out


def append_results_csv(path: str | Path, step: StepMetrics) -> None:
    """Append one row, writing the header first when the file is new or empty."""
    out = Path(path)
    new = not out.exists() or out.stat().st_size == 0
    with out.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(RESULTS_COLUMNS)
        writer.writerow([_cell(getattr(step, c)) for c in RESULTS_COLUMNS])


def _number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    value = float(text)
    return None if math.isnan(value) else value


def parse_results_csv(text: str) -> list[StepMetrics]:
    """Parse results CSV text; known aliases are mapped, unknown columns ignored.

    When a file has both a column and its alias (e.g. ``valid_loss`` and ``full_valid_loss``),
    a non-empty value of our own name wins.
    """
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        values: dict[str, float | None] = {}
        for name, cell in raw.items():
            if name is None:
                continue
            key = name.strip()
            target = key if key in RESULTS_COLUMNS else _ALIASES.get(key)
            if target is None:
                continue
            value = _number(cell)
            if value is not None and (target == key or values.get(target) is None):
                values[target] = value
        if values.get("step") is None:
            continue
        tokens = values.get("tokens_seen")
        rows.append(
            StepMetrics(
                step=int(values.pop("step") or 0),
                tokens_seen=None if tokens is None else int(tokens),
                **{k: v for k, v in values.items() if k != "tokens_seen"},
            )
        )
    return rows


def read_results_csv(path: str | Path) -> list[StepMetrics]:
    """Read a results CSV written by us or by an OpenAI-compatible fine-tuning service."""
    return parse_results_csv(Path(path).read_text(encoding="utf-8"))


def answer_token_metrics(predictions: Any, nll: Any, labels: Any) -> dict[str, float]:
    """Loss, token and sequence accuracy over answer tokens, from arrays aligned to ``labels``.

    ``predictions[i]`` / ``nll[i]`` are the argmax and the negative log-likelihood of the
    model's prediction *for* ``labels[i]`` (already shifted); -100 labels are ignored. Each
    maximal run of labelled tokens in a row is one answer for the sequence accuracy.
    """
    import numpy as np

    labels = np.atleast_2d(np.asarray(labels))
    predictions = np.asarray(predictions).reshape(labels.shape)
    nll = np.asarray(nll, dtype=np.float64).reshape(labels.shape)
    mask = labels != -100
    n_tokens = int(mask.sum())
    if n_tokens == 0:
        nan = float("nan")
        return {
            "loss": nan,
            "mean_token_accuracy": nan,
            "sequence_accuracy": nan,
            "n_tokens": 0.0,
            "n_answers": 0.0,
        }
    correct = (predictions == labels) & mask
    answers = right = 0
    for row_mask, row_correct in zip(mask, correct, strict=True):
        # a run starts where the mask turns on; it is right when no token in it is wrong
        starts = np.flatnonzero(row_mask & ~np.concatenate(([False], row_mask[:-1])))
        run_id = np.cumsum(np.isin(np.arange(row_mask.size), starts)) - 1
        wrong = np.zeros(starts.size, dtype=bool)
        np.logical_or.at(wrong, run_id[row_mask], ~row_correct[row_mask])
        answers += starts.size
        right += int((~wrong).sum())
    return {
        "loss": float(nll[mask].sum() / n_tokens),
        "mean_token_accuracy": float(correct.sum() / n_tokens),
        "sequence_accuracy": float(right / answers),
        "n_tokens": float(n_tokens),
        "n_answers": float(answers),
    }


def eval_prediction_metrics(prediction: Any) -> dict[str, float]:
    """``compute_metrics`` for the HF Trainer fed by ``shifted_predictions`` (logged as eval_*)."""
    preds, nll = prediction.predictions
    metrics = answer_token_metrics(preds, nll, prediction.label_ids)
    return {
        "token_loss": metrics["loss"],
        "mean_token_accuracy": metrics["mean_token_accuracy"],
        "sequence_accuracy": metrics["sequence_accuracy"],
    }


def shifted_predictions(logits: Any, labels: Any) -> tuple[Any, Any]:
    """Argmax and NLL of the prediction *for* each label position; position 0 gets -100 / 0.

    Works on a (rows, T, V) logits tensor and (rows, T) labels; used by evaluation here and
    by the Trainer's eval loop (``preprocess_logits_for_metrics``), so only (rows, T) is kept.
    """
    import torch
    import torch.nn.functional as F

    logits = logits[0] if isinstance(logits, tuple) else logits
    shifted = logits[..., :-1, :]
    target = labels[..., 1:]
    nll = F.cross_entropy(
        shifted.reshape(-1, shifted.size(-1)).float(),
        target.reshape(-1),
        ignore_index=_IGNORE,
        reduction="none",
    ).view(target.shape)
    first = torch.zeros_like(labels[..., :1])
    preds = torch.cat([first + _IGNORE, shifted.argmax(-1)], dim=-1)
    return preds, torch.cat([first.float(), nll], dim=-1)
