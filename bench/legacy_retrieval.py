"""Today's retrieval path before bot.answering (the baseline bench/retrieval.py times against).

A copy of ``trainer/retrieval.py`` as it was: every question loads all approved pairs as ORM
objects to check a content-keyed cache, and BM25 is rank_bm25 with Lucene's idf.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from bot.answering.tokens import tokenize
from trainer.snapshot import approved_pairs

__all__ = ["LegacyIndex", "legacy_index_for"]


def _bm25(docs: list[list[str]]) -> Any:
    from rank_bm25 import BM25Okapi

    class LuceneBM25(BM25Okapi):  # type: ignore[misc]
        def _calc_idf(self, nd: dict[str, int]) -> None:
            for word, freq in nd.items():
                self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))

    return LuceneBM25(docs)


class LegacyIndex:
    """rank_bm25 over (pair id, question, answer) triples."""

    def __init__(self, pairs: Sequence[tuple[int, str, str]]) -> None:
        self.pairs = list(pairs)
        self.docs = [tokenize(q) for _, q, _ in self.pairs]
        self.bm25 = _bm25(self.docs) if any(self.docs) else None

    def search(self, query: str, k: int = 3) -> list[int]:
        terms = tokenize(query)
        if self.bm25 is None or not terms:
            return []
        scores = self.bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        return [self.pairs[i][0] for i in order if scores[i] > 0]


_CACHE: dict[int, tuple[tuple[int, ...], LegacyIndex]] = {}


def legacy_index_for(session: Session, community_id: int) -> LegacyIndex:
    pairs = approved_pairs(session, community_id)
    triples = [(p.id or 0, p.question_text, p.answer_text) for p in pairs]
    key = tuple(hash(t) for t in triples)
    cached = _CACHE.get(community_id)
    if cached is not None and cached[0] == key:
        return cached[1]
    index = LegacyIndex(triples)
    _CACHE[community_id] = (key, index)
    return index
