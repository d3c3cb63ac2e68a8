"""Dense question embeddings through sentence-transformers (any local folder or hub id)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["Encoder", "encoder_for"]


class Encoder:
    """Unit-length sentence embeddings from a sentence-transformers model."""

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def encoder_for(name: str, device: str | None = None) -> Encoder:
    """The encoder of a sentence-transformers model, loaded once per process."""
    from sentence_transformers import SentenceTransformer

    return Encoder(SentenceTransformer(name, device=device), name)
