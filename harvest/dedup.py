"""Text normalisation and content hashes that make re-asked questions and re-imports dedup."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from harvest.memo import memo_text

__all__ = ["content_hash", "normalize_text", "text_hash"]

_SPACES = re.compile(r"\s+")
# \x1f counts as whitespace, so normalisation turns it into a space: no normalised text
# holds it, and ("a b", "c") can never hash like ("a", "b c").
_SEPARATOR = "\x1f"


def _is_edge_junk(char: str) -> bool:
    """Punctuation (any script) and whitespace, which do not change what was asked."""
    return char.isspace() or unicodedata.category(char).startswith("P")


@memo_text  # a question answered several times is hashed with each answer
def normalize_text(text: str) -> str:
    """Canonical form for comparing texts.

    NFKC (full-width letters, digits and punctuation become half-width: ``ＡＢＣ１２３？`` →
    ``ABC123?``; the ideographic space becomes a space), casefold, whitespace runs
    collapsed to one space, punctuation stripped from both ends (``"吗？？"`` → ``"吗"``).
    Punctuation inside the text is kept: ``"A/C类"`` and ``"AC类"`` stay different.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    collapsed = _SPACES.sub(" ", folded)
    start, end = 0, len(collapsed)
    while start < end and _is_edge_junk(collapsed[start]):
        start += 1
    while end > start and _is_edge_junk(collapsed[end - 1]):
        end -= 1
    return collapsed[start:end]


def text_hash(text: str) -> str:
    """SHA-256 hex of the normalised text."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def content_hash(question: str, answer: str) -> str:
    """SHA-256 hex of a normalised question → answer pair.

    Equal for the same pair re-imported, or re-typed with other spacing, case, character
    width or trailing punctuation; the order of question and answer matters.
    """
    joined = normalize_text(question) + _SEPARATOR + normalize_text(answer)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()
