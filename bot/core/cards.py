"""A new pair's review card: the text moderators react ✅ / ❌ on (pure formatting)."""

from __future__ import annotations

import re

__all__ = ["review_card"]

_CARD_Q, _CARD_A = 200, 400
_HASH_NUMBER = re.compile(r"#(?=\d)")


def _snippet(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    flat = _HASH_NUMBER.sub("＃", flat)  # the card names exactly one pair: #id
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def review_card(
    pair_id: int,
    question: str,
    answer: str,
    chat_title: str = "",
    answerer: str = "",
    confidence: str = "",
    status: str = "pending",
) -> str:
    """The card of pair ``pair_id``; a reaction on it counts because its id is tracked.

    ``confidence``: the harvest engine's confidence and rule, e.g. ``0.82 · reply``;
    ``status``: e.g. ``approved by classifier v3 (0.97)`` for a pair approved on its own.
    """
    where = f" · {chat_title}" if chat_title else ""
    who = f" — {answerer}" if answerer else ""
    sure = f"confidence {confidence}\n" if confidence else ""
    return (
        f"📝 #{pair_id} {status}{where}\n"
        f"Q: {_snippet(question, _CARD_Q)}\n"
        f"A: {_snippet(answer, _CARD_A)}{who}\n"
        f"{sure}"
        f"✅ approve · ❌ reject · /edit {pair_id} …"
    )
