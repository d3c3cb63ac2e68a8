"""BM25 retrieval over a community's approved questions (Chinese and English alike)."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from trainer.snapshot import approved_pairs

__all__ = ["Hit", "PairIndex", "index_for", "tokenize"]

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lowercase words, plus character unigrams and bigrams of every CJK run."""
    tokens: list[str] = []
    position = 0
    for match in _CJK_RUN.finditer(text):
        tokens += _words(text[position : match.start()])
        run = match.group()
        tokens += list(run)
        tokens += [run[i : i + 2] for i in range(len(run) - 1)]
        position = match.end()
    tokens += _words(text[position:])
    return tokens


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved pair; ``similarity`` is the BM25 score over the pair's own self-score (0–1)."""

    pair_id: int
    question: str
    answer: str
    score: float
    similarity: float


def _bm25(docs: list[list[str]]) -> Any:
    """BM25Okapi with Lucene's idf, ``log(1 + (N - n + 0.5) / (n + 0.5))``: always positive.

    rank_bm25's own idf goes negative for a term in more than half the documents, so a new
    community with one or two approved pairs would never find anything.
    """
    from rank_bm25 import BM25Okapi

    class LuceneBM25(BM25Okapi):  # type: ignore[misc]
        def _calc_idf(self, nd: dict[str, int]) -> None:
            for word, freq in nd.items():
                self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))

    return LuceneBM25(docs)


class PairIndex:
    """A BM25Okapi index of (pair id, question, answer) triples."""

    def __init__(self, pairs: Sequence[tuple[int, str, str]]) -> None:
        self.pairs = list(pairs)
        self.docs = [tokenize(q) for _, q, _ in self.pairs]
        self.bm25 = _bm25(self.docs) if any(self.docs) else None
        self._self: dict[int, float] = {}

    def _self_score(self, i: int) -> float:
        if i not in self._self:
            assert self.bm25 is not None
            self._self[i] = float(self.bm25.get_batch_scores(self.docs[i], [i])[0])
        return self._self[i]

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The ``k`` best pairs with a positive score, best first."""
        terms = tokenize(query)
        if self.bm25 is None or not terms:
            return []
        scores = self.bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        hits = []
        for i in order:
            if scores[i] <= 0:
                break
            own = self._self_score(i)
            similarity = min(1.0, float(scores[i]) / own) if own > 0 else 0.0
            pid, question, answer = self.pairs[i]
            hits.append(Hit(pid, question, answer, float(scores[i]), similarity))
        return hits


_CACHE: dict[int, tuple[tuple[int, ...], PairIndex]] = {}
_LOCK = threading.Lock()


def index_for(session: Session, community_id: int) -> PairIndex:
    """The index of the community's approved, non-deleted pairs (rebuilt when they change)."""
    pairs = approved_pairs(session, community_id)
    triples = [(p.id or 0, p.question_text, p.answer_text) for p in pairs]
    key = tuple(hash((pid, q, a)) for pid, q, a in triples)
    with _LOCK:
        cached = _CACHE.get(community_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        index = PairIndex(triples)
        _CACHE[community_id] = (key, index)
        return index
