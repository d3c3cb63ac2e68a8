"""What the engine decides: a pair is new, grew, closed, is reopened or dropped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from harvest.model import PairedAnswer

__all__ = ["Decision", "DecisionKind", "Fed", "PairKey", "final_pairs", "pair_key"]

# (chat id, question message id, first answer message id): a pair's identity everywhere.
PairKey = tuple[str, str, str]


class DecisionKind(StrEnum):
    """``new``: a pair to store now; ``update``: its answer grew or a message of it was
    edited; ``close``: it can no longer grow (what a batch import stores); ``reopen``: an
    approved pair changed and goes back to review; ``drop``: it leaves every dataset."""

    NEW = "new"
    UPDATE = "update"
    CLOSE = "close"
    REOPEN = "reopen"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision about the pair ``key``; ``pair`` is its content now (None for a drop)."""

    kind: DecisionKind
    key: PairKey
    pair: PairedAnswer | None = None
    reason: str = ""


class Fed(NamedTuple):
    """What one message did: the decisions it caused and whether it reads as a question."""

    decisions: list[Decision]
    is_question: bool


def pair_key(pair: PairedAnswer) -> PairKey:
    """The identity of ``pair``: chat, question and first answer message."""
    return (pair.chat_id, pair.question_id, pair.answer_ids[0])


def final_pairs(decisions: Iterable[Decision]) -> list[PairedAnswer]:
    """The pairs a decision stream ends with, in the order they were first decided.

    Folding ``new`` / ``update`` / ``drop`` (what the live bot stores as it goes) gives the
    same set as the ``close`` decisions (what an import stores at the end).
    """
    live: dict[PairKey, PairedAnswer] = {}
    for decision in decisions:
        if decision.kind is DecisionKind.DROP:
            live.pop(decision.key, None)
        elif decision.pair is not None:
            live[decision.key] = decision.pair
    return list(live.values())
