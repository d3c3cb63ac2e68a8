"""A community's retrieval index: BM25 (bm25s) over question tokens, optionally fused with
dense embeddings (sentence-transformers) by reciprocal rank; what each found pair's evidence
means is in :mod:`bot.answering.hits`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.answering.hits import Hit
from bot.answering.tokens import content_tokens, tokenize

if TYPE_CHECKING:
    from bot.answering.confidence import Calibration
    from bot.answering.dense import Encoder

__all__ = ["RRF_K", "PairIndex"]

RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)
_POOL = 50  # how many candidates each retriever contributes to the fusion


def _bm25() -> Any:
    import bm25s

    return bm25s.BM25(method="lucene")  # Lucene's idf is never negative


class PairIndex:
    """The index of (pair id, question, answer) triples."""

    def __init__(
        self, pairs: Sequence[tuple[int, str, str]], encoder: Encoder | None = None
    ) -> None:
        self.pairs = list(pairs)
        self.encoder = encoder
        self._position: dict[int, int] | None = None
        self.calibration: Calibration | None = None  # set by the retriever once fitted
        docs = [tokenize(q) for _, q, _ in self.pairs]
        self.bm25: Any = None
        self.self_scores = np.zeros(len(self.pairs), dtype=np.float32)
        if any(docs):
            self.bm25 = _bm25()
            self.bm25.index(docs, show_progress=False)
            self._derive()
        self.vectors = encoder.encode([q for _, q, _ in self.pairs]) if encoder else None

    def _derive(self) -> None:
        """Self-scores (each question as its own query, unique tokens) and document counts."""
        scores = self.bm25.scores
        n = int(scores["num_docs"])
        self.self_scores = np.bincount(
            scores["indices"], weights=scores["data"], minlength=n
        ).astype(np.float32)
        self.df = np.diff(scores["indptr"])

    def _idf(self, df: int) -> float:
        n = len(self.pairs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self,
        query: str,
        k: int = 3,
        exclude: Collection[int] = (),
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The ``k`` best pairs, best first (BM25 alone, or fused with dense retrieval);
        pairs whose id is in ``exclude`` are left out (calibration holds pairs out);
        ``vector`` is the query's embedding when it is already known."""
        terms = list(dict.fromkeys(tokenize(query)))
        if not self.pairs or (not terms and self.vectors is None):
            return []
        scores = self._bm25_scores(terms)
        hidden = [self.position[p] for p in exclude if p in self.position]
        scores[hidden] = 0.0
        ranked = _top(scores, _POOL if self.vectors is not None else k)
        ranked = [i for i in ranked if scores[i] > 0]
        cosines = None
        if self.vectors is not None and self.encoder is not None:
            if vector is None:
                vector = self.encoder.encode([query])[0]
            cosines = self.vectors @ vector
            cosines[hidden] = -np.inf
            shown = [i for i in _top(cosines, _POOL + len(hidden)) if i not in set(hidden)]
            ranked = _fuse([ranked, shown[:_POOL]])
        return [self._hit(i, terms, scores, cosines) for i in ranked[:k]]

    @property
    def position(self) -> dict[int, int]:
        """Pair id → row in the index."""
        if self._position is None:
            self._position = {pid: i for i, (pid, _, _) in enumerate(self.pairs)}
        return self._position

    def _bm25_scores(self, terms: list[str]) -> np.ndarray:
        if self.bm25 is None:
            return np.zeros(len(self.pairs), dtype=np.float32)
        ids = self.bm25.get_tokens_ids(terms)
        if not ids:
            return np.zeros(len(self.pairs), dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)

    def _hit(self, i: int, terms: list[str], scores: np.ndarray, cosines: np.ndarray | None) -> Hit:
        own = float(self.self_scores[i])
        score = float(scores[i])
        similarity = min(1.0, score / own) if own > 0 else 0.0
        pid, question, answer = self.pairs[i]
        dense = float(cosines[i]) if cosines is not None else None
        coverage = self._coverage(i, content_tokens(terms))
        return Hit(pid, question, answer, score, similarity, coverage, dense)

    def _coverage(self, i: int, terms: list[str]) -> float:
        """The share of the query's idf mass that document ``i`` contains."""
        if not terms:
            return 0.0
        vocab = self.bm25.vocab_dict if self.bm25 is not None else {}
        indptr = self.bm25.scores["indptr"] if self.bm25 is not None else None
        indices = self.bm25.scores["indices"] if self.bm25 is not None else None
        total = found = 0.0
        for term in terms:
            tid = vocab.get(term)
            if tid is None or indptr is None or indices is None:
                total += self._idf(0)
                continue
            start, end = int(indptr[tid]), int(indptr[tid + 1])
            weight = self._idf(end - start)
            total += weight
            column = indices[start:end]
            at = int(np.searchsorted(column, i))
            if at < len(column) and column[at] == i:
                found += weight
        return found / total if total > 0 else 0.0

    def save(self, folder: Path, meta: dict[str, Any]) -> None:
        """Write the index (bm25s files, pairs, self-scores, vectors) and ``meta`` to ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.bm25 is not None:
            self.bm25.save(str(folder / "bm25"), show_progress=False)
        np.save(folder / "self_scores.npy", self.self_scores)
        if self.vectors is not None:
            np.save(folder / "vectors.npy", self.vectors)
        with (folder / "pairs.json").open("w", encoding="utf-8") as fh:
            json.dump(self.pairs, fh, ensure_ascii=False)
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, encoder: Encoder | None = None) -> PairIndex:
        """An index written by ``save`` (raises OSError / ValueError when it is not there)."""
        import bm25s

        index = cls.__new__(cls)
        with (folder / "pairs.json").open(encoding="utf-8") as fh:
            index.pairs = [(int(p), str(q), str(a)) for p, q, a in json.load(fh)]
        index.encoder = encoder
        index._position = None
        index.calibration = None
        index.self_scores = np.load(folder / "self_scores.npy")
        index.bm25 = None
        if (folder / "bm25").is_dir():
            index.bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
            index.df = np.diff(index.bm25.scores["indptr"])
        vectors = folder / "vectors.npy"
        index.vectors = np.load(vectors) if encoder is not None and vectors.exists() else None
        if encoder is not None and index.vectors is None:
            index.vectors = encoder.encode([q for _, q, _ in index.pairs])
        return index


def _top(values: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` largest values, best first, ties by index."""
    if len(values) == 0 or k <= 0:
        return []
    k = min(k, len(values))
    part = np.argpartition(-values, k - 1)[:k]
    return sorted(part.tolist(), key=lambda i: (-float(values[i]), i))


def _fuse(rankings: Sequence[Sequence[int]]) -> list[int]:
    """Reciprocal rank fusion: ``sum 1 / (RRF_K + rank)`` over the rankings, best first."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, i in enumerate(ranking, start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(fused, key=lambda i: (-fused[i], i))
