"""User-written regular expressions, compiled with RE2: linear time, so none can stall.

A community's question patterns come from its moderators. Python's ``re`` backtracks:
``(a+)+$`` takes seconds on 25 characters and doubles per character. RE2 (google-re2)
matches in time linear in the text and refuses what needs backtracking (backreferences,
look-arounds); ``check_pattern`` says so, naming the field, when the pattern is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import re2

from harvest.errors import InputError

__all__ = [
    "MAX_PATTERN",
    "LinearPattern",
    "check_pattern",
    "compile_linear",
    "re2_options",
    "usable_patterns",
]

MAX_PATTERN = 500  # characters in one pattern


class LinearPattern(Protocol):
    """What harvesting uses of a compiled pattern."""

    def search(self, text: str) -> Any: ...


def re2_options(ignore_case: bool = False) -> Any:
    """RE2 options: errors raised (and named by the caller), never logged to stderr."""
    options = re2.Options()
    options.log_errors = False  # the error is raised (and named) here, not logged to stderr
    options.case_sensitive = not ignore_case
    return options


def _compile(source: str, ignore_case: bool, field: str) -> LinearPattern:
    if not isinstance(source, str) or not source.strip():
        raise InputError("an empty pattern would match every message", field=field)
    if len(source) > MAX_PATTERN:
        raise InputError(f"a pattern is at most {MAX_PATTERN} characters", field=field)
    try:
        compiled: LinearPattern = re2.compile(source, re2_options(ignore_case))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InputError(
            f"invalid pattern {source!r}: {reason} (RE2 syntax: no backreferences or look-arounds)",
            field=field,
        ) from None
    return compiled


def check_pattern(source: str, *, field: str = "question_patterns") -> None:
    """Raise InputError naming ``field`` when RE2 cannot compile ``source``."""
    _compile(source, True, field)


def compile_linear(
    sources: Iterable[str], *, field: str, ignore_case: bool = True
) -> LinearPattern | None:
    """One RE2 alternation of ``sources`` (None when there are none); bad ones name ``field``."""
    items = list(sources)
    for source in items:
        _compile(source, ignore_case, field)
    if not items:
        return None
    return _compile("|".join(f"(?:{s})" for s in items), ignore_case, field)


def usable_patterns(sources: Iterable[str]) -> tuple[str, ...]:
    """``sources`` without the ones RE2 refuses (stored before patterns were validated)."""
    usable = []
    for source in sources:
        try:
            check_pattern(source)
        except InputError:
            continue
        usable.append(source)
    return tuple(usable)
