"""Tests of local greedy generation with a merged LoRA adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.trainer.conftest import Run
from trainer.inference import LocalGenerator, merge_adapter

pytestmark = pytest.mark.slow


def _prompt(example: dict[str, Any]) -> list[dict[str, Any]]:
    return example["messages"][:-1]


def test_trained_model_answers_a_training_question_and_stops(
    real_run: Run, qa: Any, tiny_base: Path
) -> None:
    """Greedy generation reproduces a learned answer and stops at the end-of-turn token."""
    train, _ = qa
    gen = LocalGenerator(tiny_base, real_run.result.adapter_dir).generate(_prompt(train[0]), 64)
    assert (gen.text, gen.finished) == (train[0]["messages"][-1]["content"], True)
    assert gen.mean_logprob > -0.5
    assert gen.tokens < 64


def test_generation_is_cut_at_max_new_tokens(tiny_base: Path, qa: Any) -> None:
    """A random model that never says eos stops after max_new_tokens, marked unfinished."""
    train, _ = qa
    gen = LocalGenerator(tiny_base).generate(_prompt(train[0]), max_new_tokens=5)
    assert (gen.tokens, gen.finished) == (5, False)


def test_models_are_loaded_once_per_base_and_adapter(real_run: Run, tiny_base: Path) -> None:
    """Two generators for the same (base, adapter) share one model; another adapter does not."""
    a = LocalGenerator(tiny_base, real_run.result.adapter_dir)
    b = LocalGenerator(tiny_base, real_run.result.adapter_dir)
    c = LocalGenerator(tiny_base)
    assert (a.model is b.model, a.model is c.model) == (True, False)


def test_batched_generation_equals_one_by_one(real_run: Run, qa: Any, tiny_base: Path) -> None:
    """Left-padded batch generation gives the same answers as generating each alone."""
    _, holdout = qa
    gen = LocalGenerator(tiny_base, real_run.result.adapter_dir)
    prompts = [_prompt(e) for e in holdout[:4]]
    batched = [g.text for g in gen.generate_batch(prompts, 48)]
    assert batched == [gen.generate(p, 48).text for p in prompts]


def test_merged_export_matches_the_adapter(real_run: Run, tiny_base: Path, tmp_path: Path) -> None:
    """merge_adapter writes a plain model whose logits equal base + LoRA."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    merged_dir = merge_adapter(tiny_base, real_run.result.adapter_dir, tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    peft = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_base), real_run.result.adapter_dir
    ).eval()
    ids = torch.tensor([[2, 10, 20, 30, 40, 3]])
    with torch.no_grad():
        diff = (merged(input_ids=ids).logits - peft(input_ids=ids).logits).abs().max().item()
    assert diff < 1e-4
