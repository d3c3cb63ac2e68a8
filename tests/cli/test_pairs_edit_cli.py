"""`fanqa pairs edit` caps the answer (4,000 characters by default): exit 2, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.fanqa_cli import fanqa, fanqa_env

SCRIPT = "How do I reset my password?\n:as bob\n>1 Open settings, then press Reset.\n"


def _answer(env: dict[str, str]) -> str:
    [pair] = json.loads(fanqa("pairs", "list", "-c", "fund", "--json", env=env).stdout)
    return str(pair["answer"])


def test_an_oversized_edit_is_refused(tmp_path: Path) -> None:
    """4,001 characters are refused naming the field; 4,000 are taken; the limit is a setting."""
    env = fanqa_env(tmp_path)
    assert fanqa("community", "create", "fund", env=env).code == 0
    assert fanqa("chat", "-c", "fund", "--as", "ann", stdin=SCRIPT, env=env).code == 0
    too_long = fanqa("pairs", "edit", "1", "x" * 4001, "-c", "fund", env=env)
    assert too_long.code == 2, too_long.output
    [line] = too_long.stderr.strip().splitlines()
    assert "'answer'" in line and "4,001" in line and "4,000" in line, line
    assert _answer(env) == "Open settings, then press Reset."
    assert fanqa("pairs", "edit", "1", "y" * 4000, "-c", "fund", env=env).code == 0
    assert _answer(env) == "y" * 4000
    lower = env | {"FANQA_MAX_ANSWER_CHARS": "10"}
    assert fanqa("pairs", "edit", "1", "Use the app.", "-c", "fund", env=lower).code == 2
    assert _answer(env) == "y" * 4000
