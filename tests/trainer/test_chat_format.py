"""Tests of chat rendering and answer-only label masking."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harvest.errors import InputError
from tests.trainer.builders import example
from trainer.chat_format import IGNORE_INDEX, render, tokenize_example, tokenize_examples

QA = example("怎么重置密码？", "在登录页点忘记密码。")

QA_TEMPLATE = (
    "{% for m in messages %}{% if m.role == 'user' %}Q: {{ m.content }}\n"
    "{% elif m.role == 'assistant' %}A: {{ m.content }}{{ eos_token }}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}A: {% endif %}"
)


@pytest.fixture(scope="module")
def tokenizer(tiny_base: Path) -> Any:
    """The tiny model's tokenizer."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_base)


def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_labels_cover_only_the_answer_and_end_of_turn(tokenizer: Any) -> None:
    """Prompt tokens are -100; the answer tokens and <|im_end|> carry labels; nothing follows."""
    prompt = render(tokenizer, QA["messages"][:-1], add_generation_prompt=True)
    answer_ids = _ids(tokenizer, "在登录页点忘记密码。")
    prompt_ids = _ids(tokenizer, prompt)
    actual = tokenize_example(tokenizer, QA, max_len=512)
    assert actual.input_ids == prompt_ids + answer_ids + [tokenizer.eos_token_id]
    assert actual.labels == [IGNORE_INDEX] * len(prompt_ids) + answer_ids + [tokenizer.eos_token_id]
    labelled = [t for t in actual.labels if t != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == "在登录页点忘记密码。<|im_end|>"


def test_builtin_chatml_is_used_without_a_template(tokenizer: Any) -> None:
    """A tokenizer without a chat template renders ChatML with its eos as the end of turn."""
    bare = copy.deepcopy(tokenizer)
    bare.chat_template = None
    actual = render(bare, QA["messages"])
    expected = (
        "<|im_start|>system\nYou answer questions of the FanFund community.<|im_end|>\n"
        "<|im_start|>user\n怎么重置密码？<|im_end|>\n"
        "<|im_start|>assistant\n在登录页点忘记密码。<|im_end|>\n"
    )
    assert actual == expected


def test_other_templates_and_every_assistant_turn_are_labelled(tokenizer: Any) -> None:
    """With a non-ChatML template, each assistant turn (weight ≠ 0) is labelled with its eos."""
    custom = copy.deepcopy(tokenizer)
    custom.chat_template = QA_TEMPLATE
    convo = {
        "messages": [
            {"role": "user", "content": "fee?"},
            {"role": "assistant", "content": "1.5%", "weight": 0},
            {"role": "user", "content": "dividend?"},
            {"role": "assistant", "content": "June"},
        ]
    }
    actual = tokenize_example(custom, convo, max_len=512)
    labelled = [t for t in actual.labels if t != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == "June<|im_end|>"
    convo["messages"][1].pop("weight")
    labelled = [t for t in tokenize_example(custom, convo, 512).labels if t != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == "1.5%<|im_end|>June<|im_end|>"


def test_long_prompt_is_cut_from_the_left_and_the_answer_kept(tokenizer: Any) -> None:
    """A long question loses its start; the whole answer and its end of turn survive."""
    long_q = example("password " * 200 + "怎么重置？", "在登录页点忘记密码。")
    full = tokenize_example(tokenizer, long_q, max_len=10_000)
    actual = tokenize_example(tokenizer, long_q, max_len=64)
    n_answer = sum(1 for t in full.labels if t != IGNORE_INDEX)
    assert (len(actual.input_ids), actual.truncated) == (64, True)
    assert actual.input_ids == full.input_ids[-64:]
    assert actual.labels[-n_answer:] == full.labels[-n_answer:]


def test_long_answer_is_cut_from_the_right_keeping_half_for_the_prompt(tokenizer: Any) -> None:
    """An answer longer than max_len keeps the prompt (up to half) and the answer's beginning."""
    long_a = example("fee?", "fee " * 300)
    full = tokenize_example(tokenizer, long_a, max_len=10_000)
    n_prompt = full.labels.index(next(t for t in full.labels if t != IGNORE_INDEX))
    actual = tokenize_example(tokenizer, long_a, max_len=64)
    assert actual.input_ids == full.input_ids[:64]
    assert n_prompt < 32


def test_dataset_counts_truncations_and_tokens(tokenizer: Any) -> None:
    """tokenize_examples reports how many examples were truncated and the token totals."""
    data = [QA, example("password " * 200, "ok"), QA]
    actual = tokenize_examples(tokenizer, data, max_len=64)
    assert actual.n_truncated == 1
    assert actual.n_tokens == sum(len(e.input_ids) for e in actual.examples)
    assert actual.n_label_tokens == sum(e.n_label_tokens for e in actual.examples)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"messages": [{"role": "user", "content": "q"}]}, "messages[0]"),
        ({"messages": [{"role": "bot", "content": "q"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
        ({"messages": []}, "messages"),
    ],
)
def test_malformed_examples_name_line_and_field(tokenizer: Any, bad: Any, field: str) -> None:
    """A malformed example raises InputError naming its 1-based line and the field."""
    with pytest.raises(InputError) as info:
        tokenize_examples(tokenizer, [QA, bad], max_len=64, source="train.jsonl")
    assert (info.value.source, info.value.line, info.value.field) == ("train.jsonl", 2, field)
