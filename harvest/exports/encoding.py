"""Is an export plain UTF-8? Says which encoding it is in when it is not."""

from __future__ import annotations

import codecs
from pathlib import Path

__all__ = ["encoding_problem"]

_CHUNK = 64 * 1024
_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def encoding_problem(path: Path) -> tuple[str, int] | None:
    """Why ``path`` is not plain UTF-8 JSON, and the line, if that is its problem."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            for bom, name in _BOMS:
                if head.startswith(bom):
                    return f"the file is {name}, not plain UTF-8", 1
            if len(head) >= 2 and (head[0] == 0 or head[1] == 0):
                return "the file is UTF-16 or UTF-32, not UTF-8", 1
            handle.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            line = 1
            while chunk := handle.read(_CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    where = line + chunk.count(b"\n", 0, exc.start)
                    return "the file is not UTF-8 (GBK or Latin-1?)", where
                line += chunk.count(b"\n")
    except OSError:
        return None
    return None
