"""The tokens retrieval matches on: lowercase words, and CJK characters plus their bigrams."""

from __future__ import annotations

import re

__all__ = ["tokenize"]

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lowercase words, plus character unigrams and bigrams of every CJK run."""
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


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]
