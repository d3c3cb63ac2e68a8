"""Tests of padding-free packing: no padding, no attention across examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.trainer.builders import qa_split
from trainer.chat_format import IGNORE_INDEX, tokenize_example
from trainer.local.collate import PackedCollator, group_by_tokens, native_packing_supported


@pytest.fixture(scope="module")
def examples(tiny_base: Path) -> list[Any]:
    """Six tokenized examples of different lengths (English and Chinese, two short ones)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    train, _ = qa_split()
    short = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in (("fee?", "1.5%"), ("分红？", "六月。"))
    ]
    return [
        tokenize_example(tokenizer, e, 256)
        for e in [train[0], *short, train[5], train[13], train[30]]
    ]


def _model(tiny_base: Path, attn: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_base, attn_implementation=attn).eval()
    torch.manual_seed(1)
    with torch.no_grad():  # random-init weights are small; make the attention pattern matter
        for p in model.parameters():
            p.mul_(4.0)
    return model


def _locate(batch: dict[str, Any], ids: list[int]) -> tuple[int, int]:
    """(row, offset) where an example starts in a packed batch."""
    for r, row in enumerate(batch["input_ids"].tolist()):
        for o in range(len(row) - len(ids) + 1):
            if row[o : o + len(ids)] == ids and batch["position_ids"][r, o].item() == 0:
                return r, o
    raise AssertionError("example not found in the batch")


def test_one_row_concatenates_with_restarting_positions(examples: list[Any]) -> None:
    """One row, no padding; positions restart per example; each example's first label is -100."""
    batch = PackedCollator(one_row=True, explicit_mask=False)(examples)
    lengths = [len(e.input_ids) for e in examples]
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    assert batch["input_ids"][0].tolist() == [t for e in examples for t in e.input_ids]
    assert batch["position_ids"][0].tolist() == [p for n in lengths for p in range(n)]
    assert [batch["labels"][0, s].item() for s in starts] == [IGNORE_INDEX] * len(examples)
    assert ("attention_mask" in batch, batch["use_cache"]) == (False, False)
    assert batch["num_real_tokens"] == sum(lengths)


def test_binned_rows_are_as_long_as_the_longest_example(examples: list[Any]) -> None:
    """Without FlashAttention rows are bin-packed to the longest example; filler has no labels."""
    batch = PackedCollator(pad_token_id=0)(examples)
    lengths = [len(e.input_ids) for e in examples]
    rows, width = batch["input_ids"].shape
    labelled = sum(sum(1 for t in e.labels[1:] if t != IGNORE_INDEX) for e in examples)
    assert (width, rows < len(examples)) == (max(lengths), True)
    assert int((batch["labels"] != IGNORE_INDEX).sum()) == labelled
    assert batch["num_real_tokens"] == sum(lengths)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("one_row", [False, True])
def test_packed_logits_and_loss_equal_each_example_alone(
    tiny_base: Path, examples: list[Any], attn: str, explicit: bool, one_row: bool
) -> None:
    """Packed (native or explicit 4D mask, one row or bins) logits and loss match each alone."""
    import torch

    if not explicit and not native_packing_supported():
        pytest.skip("this transformers cannot infer packed masks; the collator uses a 4D mask")
    model = _model(tiny_base, attn)
    batch = PackedCollator(one_row=one_row, explicit_mask=explicit)(examples)
    batch.pop("num_real_tokens")
    with torch.no_grad():
        packed = model(**batch)
        alone = [
            model(input_ids=torch.tensor([e.input_ids]), labels=torch.tensor([e.labels]))
            for e in examples
        ]
    worst = 0.0
    for e, out in zip(examples, alone, strict=True):
        row, lo = _locate(batch, e.input_ids)
        got = packed.logits[row, lo : lo + len(e.input_ids)]
        worst = max(worst, (got - out.logits[0]).abs().max().item())
    counts = [sum(1 for t in e.labels[1:] if t != IGNORE_INDEX) for e in examples]
    weighted = sum(out.loss.item() * n for out, n in zip(alone, counts, strict=True)) / sum(counts)
    assert worst < 1e-4
    assert abs(packed.loss.item() - weighted) < 1e-4


def test_without_position_restarts_examples_would_leak(
    tiny_base: Path, examples: list[Any]
) -> None:
    """Control: the same row without position ids attends across examples (so the test can fail)."""
    import torch

    model = _model(tiny_base, "sdpa")
    batch = PackedCollator(one_row=True, explicit_mask=False)(examples)
    n0 = len(examples[0].input_ids)
    with torch.no_grad():
        leaky = model(input_ids=batch["input_ids"], use_cache=False).logits[0, n0:]
        alone = model(input_ids=torch.tensor([examples[1].input_ids])).logits[0]
    assert (leaky[: alone.shape[0]] - alone).abs().max().item() > 1e-3


def test_group_by_tokens_respects_the_budget() -> None:
    """Groups keep order, stay within the budget, and an oversized example stands alone."""
    actual = group_by_tokens([5, 4, 3, 20, 1, 1], max_tokens=10)
    assert actual == [[0, 1], [2], [3], [4, 5]]
