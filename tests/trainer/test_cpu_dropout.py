"""LoRA dropout on CPUs: the cheaper mask is still inverted dropout with probability p."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainer.local.cpu_dropout import mask_dropout, use_cpu_dropout


def test_mask_dropout_drops_p_scales_the_rest_and_is_identity_in_eval() -> None:
    """Half a million elements: the dropped share is p (±0.3 %), the kept ones are scaled
    by 1/(1-p), the gradient is the same mask, eval mode and p=0 change nothing, and a
    seed makes the mask reproducible."""
    x = torch.ones(500, 1000, requires_grad=True)
    drop = mask_dropout(0.1)
    drop.train()
    torch.manual_seed(3)
    y = drop(x)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.003
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.9))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d(sum)/dx is the scaled mask itself
    torch.manual_seed(3)
    assert torch.equal(drop(x), y)
    drop.eval()
    assert drop(x) is x
    assert mask_dropout(0.0).train()(x) is x
    with pytest.raises(ValueError, match="dropout probability"):
        mask_dropout(1.0)


def test_use_cpu_dropout_swaps_the_lora_dropouts_of_a_peft_model(tiny_base: Path) -> None:
    """Every LoRA layer's nn.Dropout becomes the mask dropout (same p, same mode); the
    model's outputs in eval mode are unchanged; a second call swaps nothing."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    peft_model = get_peft_model(
        model,
        LoraConfig(task_type="CAUSAL_LM", r=4, lora_dropout=0.05, target_modules="all-linear"),
    )
    before = [
        m
        for m in peft_model.modules()
        if isinstance(getattr(m, "lora_dropout", None), torch.nn.ModuleDict)
    ]
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    peft_model.eval()
    reference = peft_model(input_ids=ids).logits
    assert use_cpu_dropout(peft_model) == len(before) > 0
    assert use_cpu_dropout(peft_model) == 0
    for layer in before:
        swapped = layer.lora_dropout["default"]
        assert type(swapped).__name__ == "MaskDropout" and swapped.p == 0.05
        assert not swapped.training
    assert torch.equal(peft_model(input_ids=ids).logits, reference)
    peft_model.train()
    assert all(layer.lora_dropout["default"].training for layer in before)
