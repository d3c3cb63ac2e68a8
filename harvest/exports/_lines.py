"""Where in an export a problem is: the line of a JSON syntax error or of a bad field.

ijson does not report positions. On an error (rare) the file is parsed again: first in big
chunks to find the chunk where the problem shows, then that chunk line by line, so even a
multi-gigabyte export is located in two C-speed passes. Also the parser backend and the
chunk size every reader shares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ijson

__all__ = ["BACKEND", "CHUNK", "JSON_ERRORS", "VALUE_EVENTS", "line_of"]

CHUNK = 64 * 1024


def _backend() -> Any:
    """The yajl2 C backend when it is built, else the best one ijson has."""
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # pragma: no cover - depends on the wheel
        return ijson


BACKEND: Any = _backend()
JSON_ERRORS = (ijson.JSONError, UnicodeDecodeError)
VALUE_EVENTS = frozenset(
    {"start_map", "start_array", "string", "number", "boolean", "null", "integer", "double"}
)


# --- error lines --------------------------------------------------------------------
# ijson does not report positions. On an error (rare) the file is parsed again: first in
# big chunks to find the chunk where the problem shows, then that chunk line by line, so
# even a multi-gigabyte export is located in two C-speed passes.


class _Target:
    """Follows parse events to the element at ``steps`` (array prefix, index), then a key."""

    def __init__(self, steps: tuple[tuple[str, int], ...], field: str | None) -> None:
        self.steps = steps
        self.field = field
        self.level = 0
        self.counts = [-1] * len(steps)
        self.start_line: int | None = None if steps else 1
        self.found: int | None = None
        self.element = steps[-1][0] + ".item" if steps else ""

    @property
    def entered(self) -> bool:
        """The target element has started."""
        return self.level == len(self.steps)

    def snapshot(self) -> tuple[int, list[int], int | None]:
        """State to restore when a chunk is replayed line by line."""
        return self.level, list(self.counts), self.start_line

    def restore(self, state: tuple[int, list[int], int | None]) -> None:
        """Go back to a snapshot."""
        self.level, self.counts, self.start_line = state[0], list(state[1]), state[2]

    def feed(self, events: list[Any], line: int | None) -> bool:
        """Consume events produced at ``line`` (None: unknown yet); True once found."""
        steps = self.steps
        for prefix, event, value in events:
            if self.level < len(steps):
                array = steps[self.level][0]
                if event == "start_array" and prefix == array:
                    self.counts[self.level] = -1
                elif event in VALUE_EVENTS and prefix == array + ".item":
                    self.counts[self.level] += 1
                    if self.counts[self.level] == steps[self.level][1]:
                        self.level += 1
                        if self.level == len(steps):
                            self.start_line = line
                            if self.field is None:
                                self.found = line
                                return True
            else:
                if prefix != self.element:
                    continue
                if event == "map_key" and value == self.field:
                    self.found = line
                    return True
                if event in ("end_map", "end_array"):
                    self.found = self.start_line
                    return True
        return False


def _replay(path: Path, target: _Target | None) -> int | None:
    """Line of the first event ``target`` is after, or of the first syntax error."""
    sink = ijson.sendable_list()
    coro = BACKEND.parse_coro(sink, use_float=True)
    lines_before = 1
    ends_line = False
    chunk_index = -1
    state = target.snapshot() if target else None
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            chunk_index += 1
            state = target.snapshot() if target else None
            try:
                coro.send(chunk)
            except JSON_ERRORS:
                return _line_in_chunk(path, chunk_index, lines_before, target, state)
            if target is not None and (target.feed(sink, None) or target.entered):
                return _line_in_chunk(path, chunk_index, lines_before, target, state)
            del sink[:]
            lines_before += chunk.count(b"\n")
            ends_line = chunk.endswith(b"\n")
        try:
            coro.close()
        except JSON_ERRORS:  # the text ended early: blame its last line
            return lines_before - 1 if ends_line and lines_before > 1 else lines_before
    return target.start_line if target else None


def _line_in_chunk(
    path: Path,
    chunk_index: int,
    first_line: int,
    target: _Target | None,
    state: tuple[int, list[int], int | None] | None,
) -> int:
    """Replay the file, feeding it one line at a time from chunk ``chunk_index`` on."""
    sink = ijson.sendable_list()
    coro = BACKEND.parse_coro(sink, use_float=True)
    with path.open("rb") as handle:
        for _ in range(chunk_index):
            coro.send(handle.read(CHUNK))
            del sink[:]
        if target is not None and state is not None:
            target.restore(state)
        line = first_line
        ends_line = False
        while True:
            piece = handle.readline(CHUNK)
            if not piece:
                break
            try:
                coro.send(piece)
            except JSON_ERRORS:
                return line
            if target is not None and target.feed(sink, line):
                return target.found if target.found is not None else line
            del sink[:]
            line += piece.count(b"\n")
            ends_line = piece.endswith(b"\n")
        try:
            coro.close()
        except JSON_ERRORS:
            return line - 1 if ends_line and line > 1 else line
    return target.start_line if target is not None and target.start_line else line


def line_of(
    path: Path,
    steps: tuple[tuple[str, int], ...] | None,
    field: str | None = None,
) -> int | None:
    """Line of an element (``steps``: array prefix and index per level) or its ``field``.

    With ``steps=None``: the line of the first JSON syntax error. None if not found.
    """
    try:
        return _replay(path, _Target(steps, field) if steps is not None else None)
    except OSError:
        return None
