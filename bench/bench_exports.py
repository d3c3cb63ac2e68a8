"""Export reader throughput against raw ijson parsing of the same file (prints JSON)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gen_export import generate

from harvest.exports import read_telegram_export
from harvest.exports._json import BACKEND


def _timed(run: Callable[[], Iterable[Any]]) -> tuple[int, float]:
    """Items produced and seconds taken, best of the repeats."""
    started = time.perf_counter()
    count = sum(1 for _ in run())
    return count, time.perf_counter() - started


def _raw(path: Path) -> Callable[[], Iterable[Any]]:
    """Baseline: the C parser building the message dicts, nothing else."""

    def run() -> Iterable[Any]:
        with path.open("rb") as handle:
            yield from BACKEND.items(handle, "messages.item")

    return run


def main(argv: list[str] | None = None) -> int:
    """Generate (or take) an export, time both readers, print messages/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--export", type=Path, help="an existing export instead of generating")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.export or Path(tmp) / "result.json"
        if args.export is None:
            generate(path, args.messages, seed=1)
        raw = min((_timed(_raw(path)) for _ in range(args.repeat)), key=lambda r: r[1])
        reader = min(
            (_timed(lambda: read_telegram_export(path)) for _ in range(args.repeat)),
            key=lambda r: r[1],
        )
        result = {
            "export_bytes": path.stat().st_size,
            "messages": raw[0],
            "raw_ijson_msgs_per_s": round(raw[0] / raw[1]),
            "reader_msgs_per_s": round(raw[0] / reader[1]),
            "reader_vs_raw": round(raw[1] / reader[1], 3),
            "backend": BACKEND.backend_name if hasattr(BACKEND, "backend_name") else "?",
        }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
