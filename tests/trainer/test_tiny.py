"""Tests of the tiny random-init model and its bilingual tokenizer."""

from __future__ import annotations

from pathlib import Path

from tests.trainer.builders import all_texts
from trainer.tiny import EOS_TOKEN, init_tiny_model


def test_tiny_model_reloads_with_auto_classes(tiny_base: Path) -> None:
    """The saved folder loads as a Llama causal LM with a ChatML tokenizer via Auto classes."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    n_params = sum(p.numel() for p in model.parameters())
    assert type(model).__name__ == "LlamaForCausalLM"
    assert 100_000 < n_params < 1_000_000
    assert model.config.vocab_size == len(tokenizer)
    assert (
        tokenizer.eos_token,
        tokenizer.pad_token is not None,
        tokenizer.bos_token is not None,
    ) == (
        EOS_TOKEN,
        True,
        True,
    )
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert rendered == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_tokenizer_round_trips_chinese_and_english(tiny_base: Path) -> None:
    """Byte-level BPE decodes mixed Chinese / English / emoji exactly; one token per hanzi."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    text = "怎么重置密码？ How do I reset my password? 🙂"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert [tokenizer.decode([i]) for i in ids[:4]] == ["怎", "么", "重", "置"]


def test_init_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    """Two inits with the same seed give identical weights and vocab; another seed differs."""
    from safetensors.torch import load_file

    texts = all_texts()
    a = init_tiny_model(tmp_path / "a", texts, vocab_size=500, hidden=32, seed=3)
    b = init_tiny_model(tmp_path / "b", texts, vocab_size=500, hidden=32, seed=3)
    c = init_tiny_model(tmp_path / "c", texts, vocab_size=500, hidden=32, seed=4)
    wa, wb, wc = (load_file(p / "model.safetensors") for p in (a, b, c))
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()
    assert all(wa[k].equal(wb[k]) for k in wa) is True
    assert wa["model.embed_tokens.weight"].equal(wc["model.embed_tokens.weight"]) is False
