"""The compiled engine (mypyc, ``make install``) is the same engine as its sources.

The parity test feeds every fixture export, the demo export and a synthetic chat through
the engine twice, in child processes, once compiled and once from the sources
(``FANQA_NATIVE=0``), rules and learned linking alike, and compares every pair: identity,
answer, method, score and confidence with its reason.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harvest
from harvest import native

ROOT = Path(__file__).resolve().parents[2]

_PAIRS = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import harvest
from harvest.engine import HarvestEngine, PairingConfig, final_pairs
from harvest.exports import iter_messages, read_export
from bench.gen_export import generate

root = Path(sys.argv[1])
exports = sorted((root / "tests/fixtures").glob("*/*.json"))
exports = [p for p in exports if p.parent.name in ("telegram", "labelled")]
exports += [root / "tests/fixtures/discord/single", root / "bot/demo/sample_telegram_export.json"]
synthetic = Path(sys.argv[2]) / "synthetic.json"
generate(synthetic, 5000, seed=7)
exports.append(synthetic)
out = {"native": harvest.NATIVE, "pairs": {}}
for path in exports:
    for learned in (False, True):
        try:
            messages = list(iter_messages(read_export(path)))
        except harvest.InputError:
            continue  # the fixtures of malformed exports
        engine = HarvestEngine(PairingConfig(learned_linking=learned), incremental=False)
        decisions = [d for m in messages for d in engine.feed(m).decisions]
        pairs = final_pairs([*decisions, *engine.flush()])
        out["pairs"][f"{path.name}:{learned}"] = sorted(
            [p.chat_id, p.question_id, list(p.answer_ids), p.answer_text, p.method.value,
             p.score, p.confidence and [p.confidence.value, p.confidence.rule,
             json.dumps(p.confidence.as_json(), sort_keys=True)]]
            for p in pairs
        )
print(json.dumps(out))
"""


def _pairs(tmp_path: Path, native_on: bool) -> dict[str, object]:
    env = {**os.environ, "FANQA_NATIVE": "1" if native_on else "0"}
    done = subprocess.run(
        [sys.executable, "-c", _PAIRS, str(ROOT), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(
    not native.compiled_modules() or native.stale_reason() is not None,
    reason="no up-to-date compiled engine here (`make install` builds it where a C compiler is)",
)
def test_the_compiled_engine_pairs_exactly_as_its_sources(tmp_path: Path) -> None:
    compiled = _pairs(tmp_path, native_on=True)
    sources = _pairs(tmp_path, native_on=False)
    assert compiled["native"] is True and sources["native"] is False
    pairs = compiled["pairs"]
    assert isinstance(pairs, dict) and len(pairs) >= 16
    assert sum(len(v) for v in pairs.values()) > 1000
    assert pairs == sources["pairs"]


def test_without_a_build_or_with_it_switched_off_the_sources_run() -> None:
    code = "import harvest, harvest.linking as l; print(harvest.NATIVE, l.__file__)"
    env = {**os.environ, "FANQA_NATIVE": "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", str(ROOT / "harvest" / "linking.py")]
    assert "compiled engine not used" not in done.stderr


def test_a_build_older_than_a_source_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit after the build: the stamp no longer matches, so the sources are used."""
    stamp = tmp_path / "_native.json"
    hashes = native.source_hashes()
    stamp.write_text(json.dumps(hashes), encoding="utf-8")
    monkeypatch.setattr(native, "STAMP", stamp)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    modules = (*native.NATIVE_MODULES, native.RUNTIME)
    built = [ROOT.joinpath(*m.split(".")).with_suffix(suffix) for m in modules]
    monkeypatch.setattr(native, "compiled_modules", lambda: built)
    monkeypatch.delenv("FANQA_NATIVE", raising=False)
    assert native.stale_reason() is None
    edited = dict(hashes)
    edited["harvest.linking"] = {"size": 1, "mtime_ns": 1, "sha256": "0" * 64}
    stamp.write_text(json.dumps(edited), encoding="utf-8")
    assert native.stale_reason() == "harvest.linking changed since the build"
    # A module compiled by an earlier build that the list no longer names is stale too.
    stamp.write_text(json.dumps(hashes), encoding="utf-8")
    extra = [*built, ROOT / "harvest" / f"model{suffix}"]
    monkeypatch.setattr(native, "compiled_modules", lambda: extra)
    assert native.stale_reason() == "the build does not match NATIVE_MODULES (harvest.model)"
    monkeypatch.setattr(native, "compiled_modules", lambda: built[1:])  # a partial build
    assert native.stale_reason() == (
        f"the build does not match NATIVE_MODULES ({native.NATIVE_MODULES[0]})"
    )
    monkeypatch.setattr(native, "compiled_modules", lambda: built)
    stamp.write_text("{not json", encoding="utf-8")
    assert native.stale_reason() == "_native.json is missing or unreadable"


def test_the_installed_engine_imports_from_any_directory(tmp_path: Path) -> None:
    """`fanqa` run outside the checkout finds every compiled module and their shared
    library (it lives in the package, not beside it)."""
    code = "import harvest, harvest.engine, harvest.linking; print(harvest.NATIVE)"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FANQA_NATIVE")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(harvest.NATIVE)


def test_the_running_engine_says_whether_it_is_compiled() -> None:
    expected = bool(native.compiled_modules()) and native.stale_reason() is None
    assert expected == harvest.NATIVE
