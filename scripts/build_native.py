"""Compile the harvest engine's hot modules with mypyc (``make install`` runs this).

The compiled modules are the same sources as C extensions placed next to them; the build
records each source's hash in ``harvest/_native.json`` so a later edit is never shadowed by
an old build (``harvest/native.py``). Nothing to do when the recorded hashes match. If
compiling fails (no C compiler, no Python headers), the partial build is removed and the
engine runs from its sources: slower, the same pairs. ``--strict`` makes that an error.

Usage: python scripts/build_native.py [--strict] [--clean]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["FANQA_NATIVE"] = "0"  # importing harvest must not judge the build being replaced
from harvest.native import (  # noqa: E402
    NATIVE_MODULES,
    RUNTIME,
    STAMP,
    compiled_modules,
    source_hashes,
    stale_reason,
)

del os.environ["FANQA_NATIVE"]

GROUP = RUNTIME.removesuffix("__mypyc")


def clean() -> None:
    """Remove every compiled module, the shared runtime library and the stamp (and the
    runtime library's place before it moved into ``harvest/``)."""
    for path in [*compiled_modules(), *ROOT.glob("fanqa_engine__mypyc.*"), STAMP]:
        path.unlink(missing_ok=True)


def build() -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    paths = [str(Path(*m.split(".")).with_suffix(".py")) for m in NATIVE_MODULES]
    with tempfile.TemporaryDirectory(prefix="fanqa-native-") as tmp:
        extensions = mypycify(paths, opt_level="3", group_name=GROUP, target_dir=tmp)
        setup(
            name="fanqa-native",
            ext_modules=extensions,
            script_args=["-q", "build_ext", "--inplace", "--build-temp", tmp, "--build-lib", tmp],
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail if compiling fails")
    parser.add_argument("--clean", action="store_true", help="only remove a build")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.clean:
        clean()
        return 0
    if compiled_modules() and stale_reason() is None:
        print("compiled engine is up to date")
        return 0
    hashes = source_hashes()
    clean()
    start = time.perf_counter()
    try:
        build()
    except (Exception, SystemExit) as exc:  # setuptools reports a failed compile as SystemExit
        clean()
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        reason = reason if len(reason) <= 160 else reason[:160] + "…"
        print(f"compiling the engine failed ({reason}); it runs from its sources", file=sys.stderr)
        return 1 if args.strict else 0
    if [h["sha256"] for h in source_hashes().values()] != [h["sha256"] for h in hashes.values()]:
        clean()
        print("sources changed while compiling; run it again", file=sys.stderr)
        return 1
    STAMP.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    took = time.perf_counter() - start
    print(f"compiled {len(NATIVE_MODULES)} engine modules with mypyc in {took:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
