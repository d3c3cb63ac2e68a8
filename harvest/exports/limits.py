"""Limits on what an export may put in the database: a message text's size."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "TRUNCATION_MARKER", "truncate_text"]

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
TRUNCATION_MARKER = " …[truncated]"


def truncate_text(text: str, max_bytes: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_bytes`` of UTF-8 (marker included), and whether it was.

    Cuts on a character boundary, so Chinese text never ends in half a character.
    """
    if len(text) * 4 <= max_bytes:  # fast path: even all 4-byte characters fit
        return text, False
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, False
    room = max(0, max_bytes - len(TRUNCATION_MARKER.encode("utf-8")))
    return data[:room].decode("utf-8", errors="ignore") + TRUNCATION_MARKER, True
