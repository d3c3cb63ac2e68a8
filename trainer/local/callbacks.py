"""TRL's trainer and the callbacks ``train_lora`` hangs on it, imported on first use.

``Results`` merges a step's train and eval logs into one ``StepMetrics`` row, appended to
``results.csv`` as training goes (and handed to ``on_step``); ``Stop`` polls ``should_stop``
after each optimizer step and stops with a checkpoint.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.metrics import StepMetrics, append_results_csv, read_results_csv, write_results_csv

__all__ = ["hf_types"]


@dataclass(frozen=True)
class _HF:
    Trainer: Any
    Results: Any
    Stop: Any
    Printer: Any


@functools.cache
def hf_types() -> _HF:
    """TRL's trainer and our callbacks, imported on first use so importing this stays light."""
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl.trainer.sft_trainer import SFTTrainer

    class Results(TrainerCallback):
        """Merges the train and eval logs of a step into one StepMetrics row."""

        def __init__(
            self,
            path: Path,
            *,
            on_step: Callable[[StepMetrics], None] | None,
            resume_step: int | None,
        ) -> None:
            self.path, self.on_step = path, on_step
            self.pending: StepMetrics | None = None
            self.main = True
            kept = read_results_csv(path) if resume_step is not None and path.exists() else []
            self.history = [r for r in kept if resume_step is not None and r.step <= resume_step]

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.main = bool(state.is_world_process_zero)
            if self.main:  # rows after the resumed checkpoint are recomputed
                write_results_csv(self.path, self.history)

        def on_log(
            self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any
        ) -> None:
            logs = logs or {}
            if "loss" in logs:
                logs = {**logs, "tokens_seen": logs.get("num_tokens")}
                self.flush()
                self.pending = StepMetrics.from_train_log(state.global_step, logs)
                if not control.should_evaluate:
                    self.flush()
            elif "eval_token_loss" in logs:
                same = self.pending is not None and self.pending.step == state.global_step
                row = self.pending if same else StepMetrics(step=state.global_step)
                self.pending = row.with_eval_log(logs)  # type: ignore[union-attr]
                self.flush()

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.flush()

        def flush(self) -> None:
            row, self.pending = self.pending, None
            if row is None:
                return
            self.history.append(row)
            if self.main:
                append_results_csv(self.path, row)
                if self.on_step is not None:
                    self.on_step(row)

        def last_with_valid(self) -> StepMetrics | None:
            return next((r for r in reversed(self.history) if r.valid_loss is not None), None)

    class Stop(TrainerCallback):
        """Polls ``should_stop`` after each optimizer step; stops with a checkpoint."""

        def __init__(self, should_stop: Callable[[], bool] | None) -> None:
            self.should_stop, self.stopped = should_stop, False

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.should_stop is not None and self.should_stop():
                self.stopped = True
                control.should_training_stop = True
                control.should_save = True

    return _HF(SFTTrainer, Results, Stop, PrinterCallback)
