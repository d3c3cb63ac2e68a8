"""Built-in patterns with an RE2 screen in front: the same matches, most texts rejected fast.

The engine's word lists ("can't help", "off topic", "thanks", small talk, …) are long
alternations. Python's ``re`` tries every alternative at every position of every text: 10-20 µs
a search on a chat line, several such searches per message, and live chats (unlike the
import bench's templated texts) repeat few lines for the memo to catch. RE2 (google-re2, which
already guards the moderators' own patterns: ``harvest.linear_regex``) scans with an automaton
in a few µs, but it knows no look-arounds and its ``\\b``, ``\\s``, ``\\w``, ``\\d`` are ASCII.

So each pattern keeps its exact ``re`` form, and a *screen* is derived from it for RE2 that
matches a superset: look-arounds and ``\\b`` dropped, ``\\s`` / ``\\w`` / ``\\d`` widened to their
Unicode classes, ``$`` also before any newline. A text the screen rejects cannot match the
exact pattern; any other text gets the exact search. Where no screen can be built (an RE2
syntax error, a back-reference) every text gets the exact search. ``tests/harvest/
test_screened.py`` checks the superset on real chat lines and on the edge cases above.
"""

from __future__ import annotations

import re
from typing import Any

import re2

from harvest.linear_regex import re2_options

__all__ = ["Screened", "Screens", "screen_source", "screened"]

# Python's Unicode classes as RE2 class contents (a superset: marks count as word characters).
_WIDE = {
    "s": r"\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ",
    "w": r"\w\pL\pN\pM",
    "d": r"\d\p{Nd}",
}
_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")


def _group_end(source: str, start: int) -> int:
    """Index just past the group opening at ``start`` (escapes and classes skipped)."""
    depth = 0
    i = start
    in_class = False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if source[i + 1 : i + 2] == "^":
                i += 1
            if source[i + 1 : i + 2] == "]":  # a ']' first in a class is literal
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced group")


def screen_source(source: str) -> str:
    """RE2 syntax matching every text ``source`` (Python ``re`` syntax) matches, and more."""
    out: list[str] = []
    i = 0
    in_class = negated = False
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                out.append("\\x{" + source[i + 2 : i + 2 + width] + "}")
                i += 2 + width
                continue
            if nxt in _WIDE and not negated:
                out.append(_WIDE[nxt] if in_class else "[" + _WIDE[nxt] + "]")
            elif nxt in "bB" and not in_class:
                pass  # a word boundary only narrows a match
            elif nxt == "Z" and not in_class:
                out.append("\\z")
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            out.append(ch)
            if ch == "]":
                in_class = negated = False
            i += 1
            continue
        if ch == "[":
            in_class = True
            negated = source[i + 1 : i + 2] == "^"
            head = 2 if negated else 1
            if source[i + head : i + head + 1] == "]":
                head += 1
            out.append(source[i : i + head])
            i += head
            continue
        if source.startswith(_LOOKAROUND, i):
            i = _group_end(source, i)  # a look-around only narrows a match
            continue
        if ch == "$":
            out.append(r"(?:$|\n)")
        elif ch == "{" and source[i + 1 : i + 2] == ",":
            out.append("{0")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _flags(pattern: re.Pattern[str]) -> str:
    bits = (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL))
    found = "".join(f for f, bit in bits if pattern.flags & bit)
    return f"(?{found})" if found else ""


class Screens:
    """Screens in one RE2 set: one scan of a text says which of the patterns may match it.

    The engine asks several word lists about the same text in a row (``answer_kind``), so
    the latest text's answer is kept (one entry, replaced whole: safe across threads). The
    module's word lists share one group; a question detector, built per configuration,
    keeps its own (so rebuilding a configuration leaves nothing behind here).
    """

    def __init__(self) -> None:
        self.sources: list[str] = []
        # RE2's own set (``re2.Set._set``: its Python wrapper costs as much as the match),
        # built at the first scan after a pattern is added
        self._set: Any = None
        self._last: tuple[str | None, list[int]] = (None, [])

    def add(self, source: str) -> int:
        self.sources.append(source)
        self._set, self._last = None, (None, [])
        return len(self.sources) - 1

    def may_match(self, text: str, index: int) -> bool:
        last_text, found = self._last
        if text is not last_text and text != last_text:
            found = self._scan(text)
            self._last = (text, found)
        return index in found

    def _scan(self, text: str) -> list[int]:
        """The indexes of the screens that match ``text`` (a few at most: a list)."""
        if self._set is None:
            built = re2.Set.SearchSet(re2_options())
            for source in self.sources:
                built.Add(source)
            built.Compile()
            self._set = built._set
        found: list[int] = self._set.Match(text.encode())
        return found


_SCREENS = Screens()


def _screen(pattern: re.Pattern[str], group: Screens) -> int | None:
    """The pattern's index in ``group``, None when RE2 cannot take its superset."""
    try:
        source = _flags(pattern) + screen_source(pattern.pattern)
        re2.compile(source, re2_options())  # checked alone, so a bad one fails here
    except (re2.error, ValueError):
        return None
    return group.add(source)


class Screened:
    """``search`` / ``match`` / ``sub`` of a compiled ``re`` pattern, screened by RE2."""

    __slots__ = ("exact", "group", "screen")

    def __init__(self, exact: re.Pattern[str], group: Screens | None = None) -> None:
        self.exact = exact
        self.group = group or _SCREENS
        self.screen = _screen(exact, self.group)  # its index in the group; None: unscreened

    @property
    def pattern(self) -> str:
        return self.exact.pattern

    def possible(self, text: str) -> bool:
        """False only when the exact pattern cannot match anywhere in ``text``."""
        if self.screen is None:
            return True
        try:
            return self.group.may_match(text, self.screen)
        except UnicodeEncodeError:  # a lone surrogate: RE2 takes UTF-8 only
            return True

    def search(self, text: str) -> re.Match[str] | None:
        return self.exact.search(text) if self.possible(text) else None

    def match(self, text: str) -> re.Match[str] | None:
        return self.exact.match(text) if self.possible(text) else None

    def sub(self, repl: str, text: str, count: int = 0) -> str:
        return self.exact.sub(repl, text, count=count) if self.possible(text) else text


def screened(source: str, flags: int = 0) -> Screened:
    """``re.compile(source, flags)`` behind an RE2 screen."""
    return Screened(re.compile(source, flags))
