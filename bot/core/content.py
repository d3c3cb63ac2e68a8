"""What the bot posts is cleaned and capped: no invisible controls, never over a platform's limit.

Zero-width characters and bidi controls can hide or reorder text (a "trojan source" answer, a
review card that reads differently from what it approves); they are stripped, except the
zero-width joiner inside an emoji sequence (👩‍💻). Lengths count UTF-16 code units, which is
how Telegram counts its 4,096 limit; Discord's 2,000 characters are never more units than
that, so one measure serves both.
"""

from __future__ import annotations

import unicodedata

__all__ = ["CUT_MARKER", "INVISIBLE", "cap", "clean", "outgoing", "utf16_len"]

CUT_MARKER = "… [cut]"
_ZWJ = "\u200d"
# Zero-width space / non-joiner, word joiner, invisible operators, BOM, Mongolian vowel
# separator; LRM / RLM / ALM; the bidi embeddings, overrides and isolates.
INVISIBLE = frozenset(
    "\u200b\u200c\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"
    "\u200e\u200f\u061c"
    "\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069"
)


def _emoji_like(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or 0x1F000 <= ord(ch) <= 0x1FAFF or ch == "\ufe0f"


def clean(text: str) -> str:
    """``text`` without zero-width and bidi-control characters (an emoji's ZWJ kept)."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in INVISIBLE:
            continue
        if ch == _ZWJ:
            before = out[-1] if out else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if not (before and after and _emoji_like(before) and _emoji_like(after)):
                continue
        out.append(ch)
    return "".join(out)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (a character outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def cap(text: str, limit: int, marker: str = CUT_MARKER) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, ending in ``marker`` when cut."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - utf16_len(marker)
    used, end = 0, 0
    for i, ch in enumerate(text):
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > budget:
            break
        used, end = used + width, i + 1
    return text[:end].rstrip() + marker


def outgoing(text: str, limit: int) -> str:
    """What the bot may post: cleaned, then capped to the platform's ``limit``."""
    return cap(clean(text), limit)
