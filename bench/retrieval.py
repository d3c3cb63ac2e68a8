"""Retrieval at scale: per-question p50/p95 of bot.answering against today's path, same run.

A fresh SQLite database gets one community with ``--pairs`` approved bilingual pairs (synthetic
questions over a large vocabulary, a fifth in Chinese). Then, per question (as ``answer`` does:
a session, the community's index, a top-3 search):

- ``ours``: ``Retriever.index_for`` (one version row per question, index in memory) + bm25s;
- ``baseline``: today's path (bench/legacy_retrieval.py): all approved pairs loaded as ORM
  objects per question to validate the cache, then rank_bm25 (``--baseline-questions`` of them,
  it is slow);
- ``build_s`` / ``load_s``: building the index from the database, and a new process loading
  the persisted one (what a one-shot ``fanqa ask`` does);
- ``snapshot_s``: ``trainer.snapshot.build_snapshot`` of all pairs.

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_SYLLABLES = ["ba", "ko", "ri", "me", "tan", "su", "lo", "vi", "den", "ra", "pu", "xe", "mo"]
_CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def _vocabulary(rng: random.Random, n: int) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _question(rng: random.Random, words: list[str], zh: bool) -> str:
    if zh:
        return "".join(rng.choice(_CJK) for _ in range(rng.randint(6, 14))) + "？"
    picked = [words[min(len(words) - 1, int(rng.paretovariate(1.1)) - 1)] for _ in range(2)]
    picked += rng.sample(words, rng.randint(4, 8))
    rng.shuffle(picked)
    return " ".join(picked) + "?"


def _paraphrase(rng: random.Random, question: str) -> str:
    """Drop and reorder a few of the question's words (characters for Chinese)."""
    if " " not in question:
        chars = list(question.rstrip("？"))
        del chars[rng.randrange(len(chars))]
        return "".join(chars)
    parts = question.rstrip("?").split()
    parts.pop(rng.randrange(len(parts)))
    rng.shuffle(parts)
    return " ".join(parts)


def _populate(engine: Any, n: int, rng: random.Random) -> tuple[int, list[str]]:
    from sqlalchemy import insert

    from storage.db import session_scope
    from storage.models import PairStatus, QAPair
    from storage.repo import get_or_create_community

    words = _vocabulary(rng, 20000)
    with session_scope(engine) as session:
        cid = get_or_create_community(session, "bench").id or 0
    questions = []
    rows = []
    for i in range(n):
        q = _question(rng, words, zh=i % 5 == 0)
        questions.append(q)
        rows.append(
            {
                "community_id": cid,
                "source_key": f"bench:{i}",
                "question_text": q,
                "answer_text": f"answer {i}: " + " ".join(rng.sample(words, 12)),
                "status": PairStatus.APPROVED,
                "content_hash": f"{i:064x}",
                "split": "holdout" if i % 50 == 0 else "train",
            }
        )
    with session_scope(engine) as session:
        for start in range(0, n, 10000):
            session.execute(insert(QAPair), rows[start : start + 10000])
    return cid, questions


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_pct(values, 0.50), 3),
        "p95_ms": round(_pct(values, 0.95), 3),
        "mean_ms": round(statistics.fmean(values), 3),
        "n": len(values),
    }


def _time_per_question(engine: Any, cid: int, queries: list[str], index_for: Any) -> list[float]:
    from storage.db import session_scope

    times = []
    for query in queries:
        started = time.perf_counter()
        with session_scope(engine) as session:
            index_for(session, cid).search(query, k=3)
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--baseline-questions", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    ns = parser.parse_args()

    from bench.legacy_retrieval import legacy_index_for
    from bot.answering import Retriever
    from storage import make_engine, upgrade
    from storage.db import session_scope
    from trainer.snapshot import build_snapshot

    rng = random.Random(ns.seed)
    with tempfile.TemporaryDirectory(prefix="fanqa-retrieval-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        started = time.perf_counter()
        cid, questions = _populate(engine, ns.pairs, rng)
        populate_s = time.perf_counter() - started
        queries = [_paraphrase(rng, rng.choice(questions)) for _ in range(ns.questions)]

        index_dir = Path(tmp) / "index"
        retriever = Retriever(index_dir=index_dir)
        started = time.perf_counter()
        with session_scope(engine) as session:
            retriever.index_for(session, cid)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        with session_scope(engine) as session:
            Retriever(index_dir=index_dir).index_for(session, cid)
        load_s = time.perf_counter() - started
        ours = _time_per_question(engine, cid, queries, retriever.index_for)

        baseline_queries = queries[: ns.baseline_questions + 1]
        baseline = _time_per_question(engine, cid, baseline_queries, legacy_index_for)
        baseline_build_ms = baseline.pop(0)  # the first call builds rank_bm25's index

        started = time.perf_counter()
        with session_scope(engine) as session:
            snap = build_snapshot(session, cid, Path(tmp) / "snapshot")
            n_snapshot = snap.n_train + snap.n_holdout
        snapshot_s = time.perf_counter() - started

    ours_s, base_s = _summary(ours), _summary(baseline)
    print(
        json.dumps(
            {
                "approved_pairs": ns.pairs,
                "populate_s": round(populate_s, 2),
                "ours": ours_s | {"build_s": round(build_s, 2), "load_s": round(load_s, 2)},
                "baseline": base_s | {"build_s": round(baseline_build_ms / 1000.0, 2)},
                "p95_speedup": round(base_s["p95_ms"] / ours_s["p95_ms"], 1),
                "goal_p95_under_20ms": ours_s["p95_ms"] < 20.0,
                "snapshot": {"pairs": n_snapshot, "seconds": round(snapshot_s, 2)},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
