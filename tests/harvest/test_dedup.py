"""Normalisation and content hashes used to deduplicate questions and pairs."""

from __future__ import annotations

import pytest

from harvest.dedup import content_hash, normalize_text, text_hash


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  ＡＢＣ１２３　基金？？ ", "abc123 基金"),
        ("Hello,\n\t World!!!", "hello, world"),
        ("“定投”怎么做？", "定投”怎么做"),
        ("A/C类份额", "a/c类份额"),
        ("...", ""),
        ("ǅ straße", "dž strasse"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    """NFKC, casefold, collapsed whitespace, punctuation stripped only at the ends."""
    assert normalize_text(text) == expected


def test_text_hash_ignores_surface_differences() -> None:
    """Width, case, spacing and trailing punctuation do not change the hash."""
    assert text_hash("ＱＤＩＩ 基金限购了吗？") == text_hash("qdii  基金限购了吗")


def test_text_hash_is_sha256_hex() -> None:
    """The hash is 64 lower-case hex digits."""
    digest = text_hash("x")
    assert (len(digest), set(digest) <= set("0123456789abcdef")) == (64, True)


def test_content_hash_equal_for_same_pair() -> None:
    """The same pair typed differently hashes the same."""
    assert content_hash("赎回几天到账？", "T+2 到账。") == content_hash("赎回几天到账", "t+2 到账")


def test_content_hash_distinguishes_order_and_split() -> None:
    """Swapping question and answer, or moving words between them, changes the hash."""
    base = content_hash("a b", "c")
    assert (base == content_hash("c", "a b"), base == content_hash("a", "b c")) == (False, False)


def test_separator_cannot_be_smuggled() -> None:
    """A separator character inside a text is normalised to a space, so splits stay apart."""
    smuggled = content_hash("a\x1fb", "c")
    assert (smuggled == content_hash("a", "b c"), smuggled == content_hash("a b", "c")) == (
        False,
        True,
    )
