"""The engine's compiled build: which modules mypyc compiles, and never a stale one.

``make install`` compiles the modules of ``NATIVE_MODULES`` with mypyc (``scripts/
build_native.py``): the same Python sources, as C extensions next to them, about 1.2x
faster. Python would import such an extension before its source even after the source
changed, so the build records each source's hash (``harvest/_native.json``); when one
differs, or ``FANQA_NATIVE=0`` is set, every compiled module is imported from its source
instead (all or none: compiled modules call each other directly). Without a build
nothing changes: the sources are the engine.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = [
    "NATIVE_MODULES",
    "STAMP",
    "compiled_modules",
    "guard",
    "source_hashes",
    "stale_reason",
]

ROOT = Path(__file__).resolve().parent.parent
STAMP = Path(__file__).resolve().parent / "_native.json"
# The library the compiled modules share (mypyc's runtime and their code), in the package
# so that it is found wherever fanqa runs from.
RUNTIME = "harvest._engine__mypyc"
# The engine's hot path: detection, linking, pairing, scoring. Numpy-bound modules (the
# learned linker's features) gain nothing and stay interpreted.
NATIVE_MODULES: tuple[str, ...] = (
    "harvest.answer_kinds",
    "harvest.engine.building",
    "harvest.engine.core",
    "harvest.engine.decisions",
    "harvest.engine.edits",
    "harvest.engine.exchanges",
    "harvest.engine.rules",
    "harvest.engine.scoring",
    "harvest.engine.state",
    "harvest.exports._json",
    "harvest.exports.discord",
    "harvest.exports.telegram",
    "harvest.linear_regex",
    "harvest.linking",
    "harvest.linking_config",
    "harvest.linking_state",
    "harvest.memo",
    "harvest.question_rules",
    "harvest.questions",
    "harvest.reply_text",
    "harvest.sanitize",
)


def _source(module: str) -> Path:
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_hashes() -> dict[str, dict[str, int | str]]:
    """Each compiled module's source as the build records it: size, time and hash."""
    found: dict[str, dict[str, int | str]] = {}
    for module in NATIVE_MODULES:
        path = _source(module)
        stat = path.stat()
        found[module] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": _sha256(path),
        }
    return found


def _unchanged(module: str, built: object) -> bool:
    """Whether ``module``'s source is the one the build compiled (hashed only when its size
    or time differ: a start-up costs a few ``stat`` calls)."""
    if not isinstance(built, dict):
        return False
    path = _source(module)
    stat = path.stat()
    if (built.get("size"), built.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns):
        return True
    return built.get("sha256") == _sha256(path)


def compiled_modules() -> list[Path]:
    """The extension files under ``harvest/`` for this Python (``.cpython-311-…so``: another
    version's build is never imported, so it does not count)."""
    return sorted(ROOT.joinpath("harvest").rglob("*" + importlib.machinery.EXTENSION_SUFFIXES[0]))


def _module_of(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return ".".join((*relative.parts[:-1], relative.name.split(".", 1)[0]))


def stale_reason() -> str | None:
    """Why the compiled modules must not be used (None: use them, or there are none)."""
    compiled = compiled_modules()
    if not compiled:
        return None
    if os.environ.get("FANQA_NATIVE", "1") == "0":
        return "FANQA_NATIVE=0"
    try:
        built = json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{STAMP.name} is missing or unreadable"
    if not isinstance(built, dict):
        return f"{STAMP.name} is unreadable"
    found = {_module_of(path) for path in compiled}
    if found != {*NATIVE_MODULES, RUNTIME}:
        odd = sorted(found ^ {*NATIVE_MODULES, RUNTIME})
        return f"the build does not match NATIVE_MODULES ({', '.join(odd)})"
    changed = [m for m in NATIVE_MODULES if not _unchanged(m, built.get(m))]
    if changed:
        return f"{', '.join(changed)} changed since the build"
    return None


class _SourceOnly(importlib.abc.MetaPathFinder):
    """Finds ``harvest``'s ``.py`` sources, never an extension."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("harvest."):
            return None
        loader = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        for entry in path or sys.path:
            spec = importlib.machinery.FileFinder(entry, loader).find_spec(fullname)
            if spec is not None:
                return spec
        return None


def guard() -> bool:
    """Before any engine module is imported: make a stale build invisible. True when the
    compiled modules are the ones that will be imported."""
    if any(isinstance(f, _SourceOnly) for f in sys.meta_path):
        return False
    reason = stale_reason()
    if reason is None:
        return bool(compiled_modules())
    sys.meta_path.insert(0, _SourceOnly())
    if reason != "FANQA_NATIVE=0":
        import logging

        log = logging.getLogger("fanqa.native")
        log.warning("compiled engine not used (%s); `make install` rebuilds it", reason)
    return False
