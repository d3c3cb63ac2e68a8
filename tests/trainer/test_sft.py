"""Tests of the local LoRA trainer (TRL SFTTrainer): learning, artifacts, cancel and resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harvest.errors import TrainingError
from tests.trainer.conftest import Run
from trainer.chat_format import tokenize_examples
from trainer.local.sft import LocalTrainConfig, train_lora
from trainer.metrics import read_results_csv

pytestmark = pytest.mark.slow


def test_lora_run_learns_and_writes_artifacts(real_run: Run) -> None:
    """Loss falls; results.csv, on_step and history agree; the adapter and tokenizer are saved."""
    result = real_run.result
    rows = read_results_csv(result.results_csv)
    first, last = rows[0], rows[-1]
    assert [r.step for r in rows] == list(range(1, result.steps + 1))
    assert rows == real_run.seen == result.history
    assert first.train_loss > 5 * last.train_loss
    assert (last.valid_loss is not None, last.valid_loss < 0.5 * rows[0].train_loss) == (True, True)
    assert result.final == last
    names = {p.name for p in result.adapter_dir.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= names


def test_every_trained_token_is_real(real_run: Run, tiny_base: Path, qa: Any) -> None:
    """Tokens processed = epochs × dataset tokens: packing adds no padding at all."""
    from transformers import AutoTokenizer

    train, _ = qa
    data = tokenize_examples(AutoTokenizer.from_pretrained(tiny_base), train, 512)
    result = real_run.result
    assert result.train_tokens == int(result.epochs) * data.n_tokens
    assert result.tokens_per_second > 0


def _short(cfg: LocalTrainConfig) -> LocalTrainConfig:
    return replace(cfg, epochs=2.0, batch_size=4, save_steps=5, eval_steps=6)


def test_cancel_saves_a_checkpoint_and_resume_finishes_like_an_uninterrupted_run(
    tmp_path: Path, scratch_config: LocalTrainConfig, qa: Any
) -> None:
    """should_stop → TrainingError + checkpoint; resume=True ends where a straight run ends."""
    train, holdout = qa
    cfg = _short(scratch_config)
    straight = train_lora(cfg, train, holdout, tmp_path / "straight")
    stop_at = straight.steps // 3
    assert stop_at >= 2
    polls = iter(range(1000))
    out = tmp_path / "cancelled"
    with pytest.raises(TrainingError, match=f"cancelled at step {stop_at}"):
        train_lora(cfg, train, holdout, out, should_stop=lambda: next(polls) == stop_at - 1)
    assert (out / "checkpoints" / f"checkpoint-{stop_at}").is_dir()
    assert [r.step for r in read_results_csv(out / "results.csv")] == list(range(1, stop_at + 1))
    resumed = train_lora(cfg, train, holdout, out, resume=True)
    steps = list(range(1, straight.steps + 1))
    assert [r.step for r in read_results_csv(out / "results.csv")] == steps
    assert resumed.steps == straight.steps
    assert abs(resumed.history[-1].train_loss - straight.history[-1].train_loss) < 1e-3
    assert abs(resumed.final.valid_loss - straight.final.valid_loss) < 1e-3


def test_bad_base_model_raises_training_error(tmp_path: Path, qa: Any) -> None:
    """A base model that cannot be loaded becomes a TrainingError naming the cause."""
    train, _ = qa
    cfg = LocalTrainConfig(base_model=str(tmp_path / "missing"), device="cpu")
    with pytest.raises(TrainingError, match="local training failed"):
        train_lora(cfg, train, [], tmp_path / "out")
