"""A tiny random-init Llama model and a byte-level BPE tokenizer trained on a corpus (offline)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trainer.chat_format import BUILTIN_CHATML_TEMPLATE

__all__ = [
    "BOS_TOKEN",
    "CHATML_TEMPLATE",
    "EOS_TOKEN",
    "IM_START",
    "PAD_TOKEN",
    "init_tiny_model",
    "train_tokenizer",
]

BOS_TOKEN = "<|begin_of_text|>"
PAD_TOKEN = "<|pad|>"
IM_START = "<|im_start|>"
EOS_TOKEN = "<|im_end|>"  # end of turn and end of sequence

_CJK_CHAR = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"

# ChatML with <|im_end|> as eos (see trainer.chat_format).
CHATML_TEMPLATE = BUILTIN_CHATML_TEMPLATE


def train_tokenizer(texts: Iterable[str], *, vocab_size: int = 2000) -> Any:
    """Train a byte-level BPE tokenizer (Chinese, English, any script) wrapped for transformers."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [PAD_TOKEN, BOS_TOKEN, IM_START, EOS_TOKEN]
    tok = Tokenizer(models.BPE())
    # Each CJK character is its own pre-token (a tiny corpus cannot learn good Chinese word
    # merges, and paraphrases share characters, not phrases); the rest is GPT-2 byte-level BPE.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CJK_CHAR), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # The chat markup ("user", "assistant", newlines) is part of every training sequence.
    corpus = [*texts, "system\nuser\nassistant\n"]
    tok.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[IM_START],
        chat_template=CHATML_TEMPLATE,
        model_max_length=2048,
        padding_side="right",
    )


def init_tiny_model(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 2000,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    seed: int = 0,
) -> Path:
    """Save a random-init LlamaForCausalLM and its tokenizer in ``out_dir``; deterministic per seed.

    The result loads with ``AutoModelForCausalLM`` / ``AutoTokenizer.from_pretrained(out_dir)``
    like any hub model. The tokenizer's vocabulary is at most ``vocab_size``; the model's
    embedding matrix has exactly as many rows as the tokenizer has tokens.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
