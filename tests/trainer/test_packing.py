"""TRL's padding-free batches, as the trainer builds them: no padding, no attention across
examples, loss only on the answers and their end-of-turn token."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.trainer.builders import qa_split
from trainer.chat_format import IGNORE_INDEX, tokenize_example


@pytest.fixture(scope="module")
def examples(tiny_base: Path) -> list[Any]:
    """Five tokenized examples (English and Chinese, two very short)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    train, _ = qa_split()
    short = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in (("fee?", "1.5%"), ("分红？", "六月。"))
    ]
    return [tokenize_example(tokenizer, e, 256) for e in [train[0], *short, train[5], train[30]]]


@pytest.fixture(scope="module")
def batch(examples: list[Any], tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The first training batch TRL's SFTTrainer builds, configured as ``train_lora`` does."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.local.callbacks import hf_types
    from trainer.local.sft import LocalTrainConfig, _arguments, _dataset, _row_tokens

    cfg = LocalTrainConfig(base_model=str(tiny_base), batch_size=len(examples), device="cpu")
    args = _arguments(
        cfg,
        tmp_path_factory.mktemp("packing"),
        has_valid=False,
        steps=1,
        use_cuda=False,
        bf16=False,
        row_tokens=_row_tokens(examples, cfg.batch_size),
        accumulate=1,
    )
    trainer = hf_types().Trainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_base),
        args=args,
        train_dataset=_dataset(examples),
        processing_class=AutoTokenizer.from_pretrained(tiny_base),
    )
    return next(iter(trainer.get_train_dataloader()))


def _segments(batch: Any) -> list[tuple[int, int]]:
    starts = [i for i, p in enumerate(batch["position_ids"][0].tolist()) if p == 0]
    return list(itertools.pairwise([*starts, batch["input_ids"].shape[1]]))


def test_a_batch_is_one_row_without_padding_and_answer_only_labels(
    examples: list[Any], batch: Any, tiny_base: Path
) -> None:
    """Every example in one row, nothing else; labels exactly on the answers + end of turn."""
    from transformers import AutoTokenizer

    eos = AutoTokenizer.from_pretrained(tiny_base).eos_token_id
    ids = batch["input_ids"][0].tolist()
    labels = batch["labels"][0].tolist()
    assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch
    segments = _segments(batch)
    assert sorted(ids[lo:hi] for lo, hi in segments) == sorted(e.input_ids for e in examples)
    by_ids = {tuple(e.input_ids): e for e in examples}
    for lo, hi in segments:
        expected = list(by_ids[tuple(ids[lo:hi])].labels)
        assert labels[lo:hi] == expected
        answer = [t for t in expected if t != IGNORE_INDEX]
        assert answer and answer[-1] == eos  # the end-of-turn token is trained on


@pytest.mark.parametrize("attn", ["sdpa", "sdpa_packed"])
@pytest.mark.parametrize("boundaries", ["cu_seq_lens", "positions only"])
def test_packed_logits_equal_each_example_alone(
    batch: Any, tiny_base: Path, attn: str, boundaries: str
) -> None:
    """Nothing leaks across packed examples: transformers' SDPA builds a block-diagonal mask
    from the restarting positions, fanqa's ``sdpa_packed`` (the training default) attends
    within each example from TRL's ``cu_seq_lens_q`` (or from the positions alone)."""
    import torch
    from transformers import AutoModelForCausalLM

    from trainer.local.packed_attention import register

    register()
    model = AutoModelForCausalLM.from_pretrained(tiny_base, attn_implementation=attn).eval()
    torch.manual_seed(1)
    extra = {}
    if boundaries == "cu_seq_lens":
        extra = {k: batch[k] for k in ("cu_seq_lens_q", "cu_seq_lens_k", "max_length_q")}
        extra["max_length_k"] = batch["max_length_k"]
    with torch.no_grad():  # random-init weights are small; make the attention pattern matter
        for p in model.parameters():
            p.mul_(4.0)
        ids, positions = batch["input_ids"], batch["position_ids"]
        packed = model(input_ids=ids, position_ids=positions, use_cache=False, **extra).logits[0]
        for lo, hi in _segments(batch):
            alone = model(input_ids=ids[:, lo:hi], use_cache=False).logits[0]
            torch.testing.assert_close(packed[lo:hi], alone)
        leaky = model(input_ids=ids, use_cache=False).logits[0]
        lo, hi = _segments(batch)[1]
        assert not torch.allclose(leaky[lo:hi], packed[lo:hi])


def test_packed_attention_trains_like_the_block_diagonal_mask(batch: Any, tiny_base: Path) -> None:
    """Same loss and same LoRA-relevant gradients as transformers' dense block-diagonal mask."""
    import torch
    from transformers import AutoModelForCausalLM

    from trainer.local.packed_attention import register

    register()
    grads = {}
    losses = {}
    for attn in ("sdpa", "sdpa_packed"):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(tiny_base, attn_implementation=attn)
        inputs = {k: v for k, v in batch.items() if k != "seq_idx"}
        loss = model(**inputs, use_cache=False).loss
        loss.backward()
        losses[attn] = loss.item()
        grads[attn] = model.model.layers[0].self_attn.q_proj.weight.grad.clone()
    assert losses["sdpa_packed"] == pytest.approx(losses["sdpa"], rel=1e-5)
    torch.testing.assert_close(grads["sdpa_packed"], grads["sdpa"], rtol=1e-4, atol=1e-6)


def test_packed_attention_with_a_padded_batch_is_plain_sdpa(tiny_base: Path) -> None:
    """A padded batch (a 2D attention mask, as in batched generation) takes SDPA's own path."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.local.packed_attention import register

    register()
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    tokenizer.padding_side = "left"
    enc = tokenizer(["分红什么时候发？", "How do I change the password on the app?"], padding=True)
    inputs = {k: torch.tensor(v) for k, v in enc.items()}
    assert not bool(inputs["attention_mask"].all())
    logits = {}
    for attn in ("sdpa", "sdpa_packed"):
        model = AutoModelForCausalLM.from_pretrained(tiny_base, attn_implementation=attn).eval()
        with torch.no_grad():
            logits[attn] = model(**inputs, use_cache=False).logits
    real = inputs["attention_mask"].bool()
    torch.testing.assert_close(logits["sdpa_packed"][real], logits["sdpa"][real])


@pytest.mark.parametrize("batch_size", [3, 8])
def test_rows_hold_batch_size_examples_on_average(tiny_base: Path, batch_size: int) -> None:
    """As many packed rows (optimizer steps) as a padded run has batches: the row length is the
    shortest for which TRL's best-fit decreasing packing needs no more rows than that."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl.data_utils import pack_dataset

    from trainer.local.sft import _row_tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    train, _ = qa_split()
    examples = [tokenize_example(tokenizer, e, 256) for e in train]
    size = _row_tokens(examples, batch_size)
    ids = Dataset.from_dict({"input_ids": [e.input_ids for e in examples]})
    batches = -(-len(examples) // batch_size)
    assert len(pack_dataset(ids, size, "bfd")) == batches
    assert len(pack_dataset(ids, size - max(1, size // 200), "bfd")) > batches
    assert size >= max(len(e.input_ids) for e in examples)
