"""Reading what a fine-tuning service reports: result files, metric events, model suffixes."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from trainer.metrics import StepMetrics, parse_results_csv

__all__ = ["decode_result_file", "event_metrics", "model_suffix", "parse_result_file"]

_STEP_MESSAGE = re.compile(r"\bstep\s+(\d+)\s*/\s*(\d+)", re.IGNORECASE)
_LOSS_MESSAGE = re.compile(r"\btrain(?:ing)?[ _]loss\s*[=:]\s*([0-9.eE+-]+)")


def decode_result_file(raw: bytes | str) -> str:
    """The CSV text of a result file: OpenAI base64-encodes it, other servers may not."""
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        decoded = base64.b64decode(b"".join(data.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return data.decode("utf-8", errors="replace")
    return decoded if "step" in decoded.split("\n", 1)[0] else data.decode("utf-8", "replace")


def parse_result_file(raw: bytes | str) -> list[StepMetrics]:
    """Per-step metrics of a result file, old or new column names (see trainer.metrics)."""
    return parse_results_csv(decode_result_file(raw))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def event_metrics(
    message: str, data: Mapping[str, Any] | None
) -> tuple[StepMetrics, int | None] | None:
    """The step row and total steps a metrics event reports, or None for other events.

    Uses the event's ``data`` (``step``, ``total_steps``, ``train_loss``, …, any column name
    the result file knows) and falls back to the message ("Step 3/30: training loss=0.41").
    """
    data = dict(data or {})
    step, total = _number(data.get("step")), _number(data.get("total_steps"))
    found = _STEP_MESSAGE.search(message)
    if step is None and found:
        step, total = float(found.group(1)), float(found.group(2))
    if step is None:
        return None
    values = {k: v for k, v in data.items() if k not in ("step", "total_steps")}
    if "train_loss" not in values and (loss := _LOSS_MESSAGE.search(message)):
        values["train_loss"] = loss.group(1)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["step", *values])
    writer.writerow(
        [int(step), *("" if _number(v) is None else _number(v) for v in values.values())]
    )
    parsed = parse_results_csv(buffer.getvalue())
    if not parsed:
        return None
    return parsed[0], None if total is None else int(total)


def model_suffix(name: str, fallback: str, max_len: int = 40) -> str:
    """A model-name suffix from a community name: lower-case ASCII letters, digits, dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    suffix = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:max_len].strip("-")
    return suffix or fallback
