"""A tiny random-init sentence-transformers model, built locally (no hub)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trainer.builders import TOPICS


def build_tiny_encoder(folder: Path) -> Path:
    """A 2-layer BERT with a BPE tokenizer trained on the test corpus, mean pooled."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    from trainer.tiny import PAD_TOKEN, train_tokenizer

    texts = [q for topic in TOPICS.values() for qs in topic[2:] for q in qs]
    tokenizer = train_tokenizer(texts, vocab_size=400)
    tokenizer.pad_token = PAD_TOKEN
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    raw = folder / "raw"
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    word = Transformer(str(raw), max_seq_length=64)
    pooling = Pooling(word.get_embedding_dimension(), "mean")
    model = SentenceTransformer(modules=[word, pooling], device="cpu")
    out = folder / "encoder"
    model.save(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("encoder"))
