"""The tokens retrieval matches on: English (and other Latin-script) words, lowercased, stemmed
(Snowball, through PyStemmer) and without stop words; Chinese (every CJK run) as characters
plus character bigrams, since Chinese has no spaces and paraphrases share characters.

``content_tokens`` are the ones that carry meaning for coverage: words and CJK bigrams (a
single common character such as 的 or 基 says little about what is asked).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["STOP_WORDS", "content_tokens", "tokenize"]

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

_STOP = """
a an and are as at be but by for if in into is it no not of on or such that the their then
there these they this to was will with i me my you your we our do does did am can could should
would what how when where which who whom why any just so have has had get got its im ive hi
hello pls please whats
"""
STOP_WORDS = frozenset(_STOP.split())  # English function words (question words included)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    stemmed: str = _stemmer().stemWord(word)
    return stemmed


def tokenize(text: str) -> list[str]:
    """Stemmed words without stop words, plus character unigrams and bigrams of CJK runs."""
    tokens: list[str] = []
    position = 0
    for match in _CJK_RUN.finditer(text):
        tokens += _words(text[position : match.start()])
        run = match.group()
        tokens += list(run)
        tokens += [run[i : i + 2] for i in range(len(run) - 1)]
        position = match.end()
    tokens += _words(text[position:])
    return tokens


def content_tokens(tokens: list[str]) -> list[str]:
    """The tokens coverage counts: all but single CJK characters (unless that is all)."""
    kept = [t for t in tokens if not (len(t) == 1 and _CJK_RUN.match(t))]
    return kept or tokens


def _words(text: str) -> list[str]:
    words = (w.lower() for w in _WORD.findall(text))
    return [_stem(w) if w.isascii() else w for w in words if w not in STOP_WORDS]
