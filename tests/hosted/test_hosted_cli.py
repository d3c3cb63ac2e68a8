"""`fanqa train --backend openai` and `fanqa ask` as a user runs them, against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import open_engine
from bot.settings import get_settings
from tests.helpers.openai_emulator import OpenAIEmulator
from tests.trainer.test_loop_builders import make_community


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: OpenAIEmulator) -> Iterator[None]:
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FANQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FANQA_OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("FANQA_OPENAI_BASE_URL", api.base_url)
    monkeypatch.setenv("FANQA_HOSTED_POLL_S", "0.01")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_train_on_the_hosted_api_then_ask(env: None, api: OpenAIEmulator) -> None:
    """A hosted run from the CLI ends promoted; `fanqa ask` answers with the fine-tuned model."""
    make_community(open_engine(), "hostedfans")
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "-c", "hostedfans", "--backend", "openai", "--json"])
    assert trained.exit_code == 0, trained.output
    run = json.loads(trained.stdout)
    assert (run["status"], run["summary"]["promoted"]) == ("succeeded", True)
    assert "sk-test" not in trained.output
    models = json.loads(runner.invoke(app, ["models", "list", "-c", "hostedfans", "--json"]).stdout)
    [live] = [m for m in models if m["status"] == "live"]
    assert (live["backend"], live["remote_model_id"][:3]) == ("openai", "ft:")
    asked = runner.invoke(
        app, ["ask", "How do I change my password?", "-c", "hostedfans", "--json"]
    )
    assert asked.exit_code == 0, asked.output
    got = json.loads(asked.stdout)
    assert (got["mode"], got["model_version_id"]) == ("model", live["id"])
    assert api.job_creates == 1
