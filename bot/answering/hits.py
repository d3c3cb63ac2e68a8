"""A retrieved pair and the evidence that it matches.

``bot.answering.index`` finds them, ``bot.answering.confidence`` turns their evidence into a
probability. ``Hit.similarity`` is the pair's BM25 score over that pair's own self-score (1 =
the question matches an approved question exactly); ``Hit.coverage`` the share of the
question's idf mass the pair's question contains (a question about something nobody
answered keeps its unknown words, and scores low); ``Hit.dense`` the cosine of the
embeddings when dense retrieval is on.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Hit"]


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved pair and the evidence that it matches (see the module docstring)."""

    pair_id: int
    question: str
    answer: str
    score: float
    similarity: float
    coverage: float = 0.0
    dense: float | None = None
