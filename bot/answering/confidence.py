"""How sure an answer is (0–1): retrieval evidence, calibrated, and the model's agreement.

Retrieval evidence of the best hit (``Evidence``): its ``similarity`` (BM25 score over the
pair's self-score), its ``coverage`` (share of the question's idf mass it holds: a question
about something nobody answered keeps unknown words), ``consensus`` (share of the top hits'
BM25 score held by pairs with the same answer: the group answered it the same way several
times) and ``margin`` (how far the best hit with a *different* answer trails it).
``Calibration`` maps them to the probability that the best hit's answer is right, a logistic
regression fitted on held-out pairs (``bot.answering.calibrate``).

With a live model: ``agree`` is the character-trigram Dice overlap of the generation with
the best hit's answer and ``certainty`` ``exp(mean token logprob)`` (halved when it hit the
token limit). A generation that agrees raises the confidence as a second, independent
witness: ``1 - (1 - p) * (1 - certainty * agree)``; one that disagrees is worth
``certainty * (1 - p)`` alone (strong retrieval evidence vetoes it, with none the model's own
certainty decides).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.hits import Hit

__all__ = [
    "DEFAULT_CALIBRATION",
    "SAME_ANSWER",
    "Calibration",
    "Evidence",
    "agreement",
    "certainty_of",
    "evidence_of",
    "with_generation",
]

SAME_ANSWER = 0.6  # trigram Dice at or above which two answers count as the same answer


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


@dataclass(frozen=True, slots=True)
class Evidence:
    """What retrieval says about its best hit (see the module docstring); all 0–1."""

    similarity: float = 0.0
    coverage: float = 0.0
    consensus: float = 0.0
    margin: float = 0.0

    def vector(self) -> list[float]:
        return [self.similarity, self.coverage, self.consensus, self.margin]


def evidence_of(hits: Sequence[Hit]) -> Evidence:
    """The evidence of ``hits`` (best first); nothing retrieved is no evidence."""
    if not hits:
        return Evidence()
    best = hits[0]
    same = [agreement(h.answer, [best.answer]) >= SAME_ANSWER for h in hits]
    total = sum(max(h.score, 0.0) for h in hits)
    consensus = (
        sum(max(h.score, 0.0) for h, s in zip(hits, same, strict=True) if s) / total
        if total > 0
        else 0.0
    )
    rival = max((h.score for h, s in zip(hits, same, strict=True) if not s), default=0.0)
    margin = 1.0 - rival / best.score if best.score > 0 else 0.0
    return Evidence(min(1.0, best.similarity), min(1.0, best.coverage), consensus, max(0.0, margin))


@dataclass(frozen=True, slots=True)
class Calibration:
    """A logistic regression over ``Evidence.vector()``: P(the best hit's answer is right)."""

    weights: tuple[float, ...]
    bias: float
    examples: int = 0  # how many held-out examples it was fitted on (0: the default)

    def probability(self, evidence: Evidence) -> float:
        if evidence == Evidence():
            return 0.0
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))


# Fitted by ``python bench/abstention.py --fit`` on the demo group's approved pairs, each held
# out in turn (bot.answering.calibrate); used until a community has enough pairs of its own.
DEFAULT_CALIBRATION = Calibration(weights=(2.589, 1.53, 2.277, 1.672), bias=-3.722)


def certainty_of(mean_logprob: float, finished: bool = True) -> float:
    """``exp(mean token logprob)``, halved when the generation hit the token limit."""
    return math.exp(min(0.0, mean_logprob)) * (1.0 if finished else 0.5)


def with_generation(probability: float, certainty: float, agree: float) -> tuple[float, bool]:
    """(confidence, whether the generation agrees with the retrieved answer)."""
    if agree >= SAME_ANSWER:
        return 1.0 - (1.0 - probability) * (1.0 - certainty * agree), True
    return certainty * (1.0 - probability), False
