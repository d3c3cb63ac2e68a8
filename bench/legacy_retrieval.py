"""Today's retrieval path before bot.answering (the baseline bench/retrieval.py times against).

A copy of ``trainer/retrieval.py`` as it was: every question loads all approved pairs as ORM
objects to check a content-keyed cache, and BM25 is rank_bm25 with Lucene's idf.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from trainer.snapshot import approved_pairs

__all__ = ["LegacyIndex", "legacy_index_for", "legacy_search", "old_confidence", "tokenize"]

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Today's tokens: lowercase words, plus character unigrams and bigrams of CJK runs."""
    tokens: list[str] = []
    position = 0
    for match in _CJK_RUN.finditer(text):
        tokens += [w.lower() for w in _WORD.findall(text[position : match.start()])]
        run = match.group()
        tokens += list(run)
        tokens += [run[i : i + 2] for i in range(len(run) - 1)]
        position = match.end()
    tokens += [w.lower() for w in _WORD.findall(text[position:])]
    return tokens


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


def legacy_search(session: Session, community_id: int, query: str, k: int = 3) -> list[Any]:
    """Today's hits as (pair id, question, answer, similarity), best first."""
    index = legacy_index_for(session, community_id)
    terms = tokenize(query)
    if index.bm25 is None or not terms:
        return []
    scores = index.bm25.get_scores(terms)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    hits = []
    for i in order:
        if scores[i] <= 0:
            break
        own = float(index.bm25.get_batch_scores(index.docs[i], [i])[0])
        pid, question, answer = index.pairs[i]
        hits.append((pid, question, answer, min(1.0, float(scores[i]) / own) if own > 0 else 0.0))
    return hits


def old_confidence(similarity: float, generation: Any, text: str, hits: list[Any]) -> float:
    """Today's formula with a live model: ``certainty * (1 - similarity + support)``."""
    from bot.answering.confidence import agreement

    support = max((h[3] * agreement(text, [h[2]]) for h in hits), default=0.0)
    certainty = math.exp(min(0.0, generation.mean_logprob)) * (1.0 if generation.finished else 0.5)
    return max(0.0, min(1.0, certainty * (1.0 - similarity + support)))
