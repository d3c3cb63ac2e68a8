"""Split text into Discord-sized messages on paragraph, line or word boundaries."""

from __future__ import annotations

__all__ = ["MAX_MESSAGE", "split_message"]

MAX_MESSAGE = 2000  # Discord's limit on a message's content, in characters
_BREAKS = ("\n\n", "\n", " ")


def _cut(text: str, limit: int) -> int:
    """Where to end the next chunk: the last paragraph, line or word break that fits."""
    for sep in _BREAKS:
        at = text.rfind(sep, 0, limit + 1)
        if at > limit // 4:  # a break too early would leave tiny chunks; try a finer one
            return at
    return limit  # one very long word (a URL, CJK text without spaces): cut hard


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """``text`` as chunks of at most ``limit`` characters, none empty, breaks preferred.

    Separators at a cut are dropped; joining the chunks with a newline keeps every word.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    chunks: list[str] = []
    while len(rest) > limit:
        at = _cut(rest, limit)
        head, rest = rest[:at].rstrip(), rest[at:].lstrip()
        if head:
            chunks.append(head)
    if rest:
        chunks.append(rest)
    return chunks
