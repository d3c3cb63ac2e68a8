"""How sure an answer is (0–1), from retrieval evidence and the model's own certainty.

- with a live model: ``certainty * (1 - similarity + support)``, clipped to 0–1, where
  ``certainty`` is ``exp(mean token logprob)`` of the generation (halved when it hit the
  token limit), ``similarity`` the best retrieved pair's BM25 similarity and ``support`` the
  best ``similarity_i * agreement_i`` over the retrieved pairs, ``agreement_i`` being the
  character-trigram Dice overlap of the generation with pair i's answer.
- before any live model: ``similarity`` alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.answering.index import Hit

__all__ = ["agreement", "confidence_of", "support_of"]


def agreement(text: str, references: Sequence[str]) -> float:
    """The best character-trigram Dice overlap of ``text`` with any reference (0–1)."""
    mine = _trigrams(text)
    best = 0.0
    for reference in references:
        theirs = _trigrams(reference)
        if mine and theirs:
            best = max(best, 2 * len(mine & theirs) / (len(mine) + len(theirs)))
    return best


def _trigrams(text: str) -> set[str]:
    flat = "".join(text.lower().split())
    return {flat[i : i + 3] for i in range(len(flat) - 2)} or ({flat} if flat else set())


def support_of(text: str, hits: Sequence[Hit]) -> float:
    """The best ``similarity * agreement`` of ``text`` with the retrieved pairs' answers."""
    return max((h.similarity * agreement(text, [h.answer]) for h in hits), default=0.0)


def confidence_of(
    similarity: float,
    mean_logprob: float | None,
    support: float | None = None,
    finished: bool = True,
) -> float:
    """The documented confidence formula (see the module docstring)."""
    similarity = max(0.0, min(1.0, similarity))
    if mean_logprob is None:
        return similarity
    backing = similarity if support is None else support
    certainty = math.exp(min(0.0, mean_logprob)) * (1.0 if finished else 0.5)
    return max(0.0, min(1.0, certainty * (1.0 - similarity + backing)))
