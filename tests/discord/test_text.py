"""Splitting long texts into Discord-sized messages."""

from __future__ import annotations

import pytest

from bot.discord_bot.text import split_message


def test_short_text_is_one_message() -> None:
    """Text within the limit comes back whole (trimmed); empty text gives no message."""
    assert (split_message("  hello  "), split_message("   ")) == (["hello"], [])


def test_splits_on_paragraphs_then_lines_then_words() -> None:
    """The cut falls on the last paragraph break that fits, else a line break, else a space."""
    assert split_message("aaaa bbbb\n\ncccc", limit=10) == ["aaaa bbbb", "cccc"]
    assert split_message("aaaa\nbbbb cccc", limit=10) == ["aaaa", "bbbb cccc"]
    assert split_message("aaaa bbbb cccc", limit=10) == ["aaaa bbbb", "cccc"]


def test_no_chunk_exceeds_the_limit_and_no_word_is_lost() -> None:
    """2,000-character chunks of a long mixed text keep every word in order."""
    text = "\n\n".join(f"第{i}段 " + " ".join(f"word{j}" for j in range(i * 37)) for i in range(30))
    chunks = split_message(text)
    assert all(0 < len(c) <= 2000 for c in chunks) and len(chunks) > 1
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    """A URL or CJK run without spaces is cut at the limit."""
    assert split_message("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    with pytest.raises(ValueError):
        split_message("x", limit=0)
