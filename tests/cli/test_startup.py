"""The CLI starts at once: ``fanqa --help`` loads no storage, ORM or model library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.registry import COMMANDS, load_command
from bot.settings import get_settings
from storage.db import session_scope
from storage.models import ModelVersion
from storage.repo import get_community

HEAVY = ("sqlmodel", "sqlalchemy", "alembic", "torch", "transformers", "openai", "storage")
ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['fanqa', *{argv!r}]\n"
        "from bot.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n' + ' '.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    return set(out.strip().splitlines()[-1].split())


def test_root_help_imports_nothing_heavy() -> None:
    """`fanqa --help` lists every command without importing storage, the ORM or torch."""
    loaded = _loaded_after(["--help"])
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []
    assert "bot.cli.pairs_cmd" not in loaded


def test_a_command_imports_only_its_own_module() -> None:
    """`fanqa run --help` loads run_cmd, not the importer, training or other commands."""
    loaded = _loaded_after(["run", "--help"])
    assert "bot.cli.run_cmd" in loaded
    others = {e.module for e in COMMANDS.values()} - {"bot.cli.run_cmd"}
    assert sorted(loaded & others) == []
    assert sorted(m for m in loaded if m.split(".")[0] in ("torch", "alembic", "openai")) == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_registry_help_matches_the_command(name: str) -> None:
    """The help line shown by `fanqa --help` is the command's own first line."""
    command = load_command(name)
    assert command is not None
    first = (command.help or "").strip().splitlines()[0]
    assert COMMANDS[name].help == first


def test_models_list_json_shows_the_hosted_model_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fanqa models list --json` carries a hosted model's ``ft:`` id and backend."""
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["community", "create", "fund"]).exit_code == 0
    from bot.runtime import open_engine

    with session_scope(open_engine()) as session:
        cid = get_community(session, "fund").id or 0
        session.add(
            ModelVersion(
                community_id=cid,
                backend="hosted",
                base_model="gpt-4o-mini-2024-07-18",
                remote_model_id="ft:gpt-4o-mini-2024-07-18:org:fund:abc123",
            )
        )
    result = runner.invoke(app, ["models", "list", "--json", "-c", "fund"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["backend"], r["remote_model_id"]) for r in rows] == [
        ("hosted", "ft:gpt-4o-mini-2024-07-18:org:fund:abc123")
    ]
    table = runner.invoke(app, ["models", "list", "-c", "fund"])
    assert "ft:gpt-4o-mini" in table.stdout


def test_every_command_module_is_in_the_registry() -> None:
    """A new ``bot/cli/*_cmd.py`` must be listed in COMMANDS, or its commands never load."""
    modules = {f"bot.cli.{p.stem}" for p in (ROOT / "bot" / "cli").glob("*_cmd.py")}
    assert modules == {entry.module for entry in COMMANDS.values()}
