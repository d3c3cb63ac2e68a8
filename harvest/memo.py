"""A bounded memo for pure functions of one message text (the engine asks twice per text)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

__all__ = ["MEMO_MAX_CHARS", "MEMO_SIZE", "memo_text"]

T = TypeVar("T")

# Texts kept per memo, and the longest text memoised: memory stays bounded (a few MB)
# however long the import, and a rare huge message is simply computed again.
MEMO_SIZE = 2048
MEMO_MAX_CHARS = 2000


def memo_text(fn: Callable[[str], T]) -> Callable[[str], T]:
    """``fn`` with its recent results remembered by text; ``fn`` must be pure."""
    cached = lru_cache(maxsize=MEMO_SIZE)(fn)

    def run(text: str) -> T:
        return cached(text) if len(text) <= MEMO_MAX_CHARS else fn(text)

    run.__doc__ = fn.__doc__
    return run
