"""Calibrate retrieval confidence on held-out pairs: each sampled approved pair is held out of
the index in turn and its question asked twice.

- held out alone: the other pairs may still cover it (the group answered it before, in other
  words); the example is positive when the best hit's answer is the held-out pair's answer;
- held out with every pair that gives the same answer: nothing covers it any more, so
  whatever is retrieved is wrong (a negative example, the "never answered" case).

A logistic regression over the evidence (``bot.answering.confidence.Evidence``) fitted on
these examples is the community's ``Calibration``; too few examples keep the default.
"""

from __future__ import annotations

import random

from bot.answering.confidence import (
    DEFAULT_CALIBRATION,
    SAME_ANSWER,
    Calibration,
    Evidence,
    agreement,
    evidence_of,
)
from bot.answering.index import PairIndex

__all__ = ["MIN_EXAMPLES", "SEARCH_K", "calibrate", "held_out_examples"]

SEARCH_K = 5  # hits the evidence is computed over
MIN_EXAMPLES = 40  # fewer held-out examples (or one class only) keep the default calibration
_ROUNDS = 4  # how often "every pair with the same answer" is widened


def held_out_examples(
    index: PairIndex, sample: int = 200, seed: int = 0
) -> list[tuple[Evidence, bool]]:
    """(evidence, right?) for up to ``sample`` pairs, each held out (see the module docstring)."""
    rows = list(range(len(index.pairs)))
    random.Random(seed).shuffle(rows)
    examples: list[tuple[Evidence, bool]] = []
    for row in rows[:sample]:
        pid, question, answer = index.pairs[row]
        vector = index.vectors[row] if index.vectors is not None else None
        hits = index.search(question, k=SEARCH_K, exclude={pid}, vector=vector)
        if hits:
            right = agreement(hits[0].answer, [answer]) >= SAME_ANSWER
            examples.append((evidence_of(hits), right))
        hidden = {pid}
        for _ in range(_ROUNDS):
            hits = index.search(question, k=SEARCH_K, exclude=hidden, vector=vector)
            same = {h.pair_id for h in hits if agreement(h.answer, [answer]) >= SAME_ANSWER}
            if not same:
                break
            hidden |= same
        else:
            continue  # could not hide every pair with its answer: no clean negative
        if hits:
            examples.append((evidence_of(hits), False))
    return examples


def calibrate(index: PairIndex, sample: int = 200, seed: int = 0) -> Calibration:
    """The index's calibration, fitted on held-out pairs (the default when too few)."""
    examples = held_out_examples(index, sample, seed)
    labels = {right for _, right in examples}
    if len(examples) < MIN_EXAMPLES or len(labels) < 2:
        return DEFAULT_CALIBRATION
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit([e.vector() for e, _ in examples], [int(r) for _, r in examples])
    return Calibration(
        weights=tuple(float(w) for w in model.coef_[0]),
        bias=float(model.intercept_[0]),
        examples=len(examples),
    )
