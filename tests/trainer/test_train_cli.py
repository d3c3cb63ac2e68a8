"""`fanqa train` as a user runs it: bad input queues nothing; a run is executed exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import open_engine
from bot.settings import get_settings
from storage.db import session_scope
from storage.models import DatasetSnapshot, ModelVersion, TrainingRun
from tests.trainer import scripted_backend
from tests.trainer.test_loop_builders import make_community
from trainer.backend import BackendOptions
from trainer.worker import Worker, default_executor

COMMUNITY = "clifans"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FANQA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    make_community(open_engine(), COMMUNITY)
    yield tmp_path
    get_settings.cache_clear()


def _nothing_left(tmp_path: Path) -> None:
    with session_scope(open_engine()) as session:
        assert session.exec(select(TrainingRun)).all() == []
        assert session.exec(select(DatasetSnapshot)).all() == []
    assert not (tmp_path / "data" / "runs").exists() or not any(
        (tmp_path / "data" / "runs").iterdir()
    )


@pytest.mark.parametrize("wait", ["--wait", "--no-wait"])
def test_a_missing_base_model_is_one_clear_line_and_nothing_is_queued(env: Path, wait: str) -> None:
    """/nonexistent: exit 2, the folder named, no run, no snapshot."""
    result = CliRunner().invoke(
        app, ["train", "-c", COMMUNITY, "--base-model", "/nonexistent", wait]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        "error: field 'base_model': base model /nonexistent: no such folder"
    )
    _nothing_left(env)


def test_a_folder_that_is_not_a_model_is_refused(env: Path) -> None:
    """A folder without config.json is not a model: exit 2 before anything is queued."""
    folder = env / "not-a-model"
    folder.mkdir()
    result = CliRunner().invoke(app, ["train", "-c", COMMUNITY, "--base-model", str(folder)])
    assert result.exit_code == 2, result.output
    assert "not a model folder (no config.json in it)" in result.stderr
    _nothing_left(env)


def test_an_unwritable_data_folder_is_refused_before_queueing(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data folder is a file: exit 2 naming it; nothing queued, so the next train works."""
    blocker = env / "blocker"
    blocker.write_text("a file, not a folder")
    monkeypatch.setenv("FANQA_DATA_DIR", str(blocker / "data"))
    get_settings.cache_clear()
    scripted_backend.install()
    result = CliRunner().invoke(app, ["train", "-c", COMMUNITY, "--backend", "scripted"])
    assert result.exit_code == 2, result.output
    assert "cannot write training runs in" in result.stderr and str(blocker) in result.stderr
    _nothing_left(env)


def test_cli_and_two_workers_started_together_run_the_run_once(env: Path) -> None:
    """`fanqa train --wait` claims like a worker: one attempt, one training, one model."""
    made = scripted_backend.install(train_s=0.6)
    engine = open_engine()
    stop = threading.Event()
    options = BackendOptions()

    def work(name: str) -> None:
        worker = Worker(
            engine, executor=default_executor(runs_dir=env / "w", options=options), name=name
        )
        while not stop.is_set():
            if worker.run_once() is None:
                time.sleep(0.01)

    workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2)]
    for thread in workers:
        thread.start()
    try:
        result = CliRunner().invoke(
            app, ["train", "-c", COMMUNITY, "--backend", "scripted", "--wait", "--json"]
        )
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert (run["status"], run["attempts"]) == ("succeeded", 1)
    assert [t for backend in made for t in backend.trained_runs] == [(run["id"], 0)]
    with session_scope(engine) as session:
        models = session.exec(select(ModelVersion)).all()
        assert [m.run_id for m in models] == [run["id"]]


def test_community_base_models_make_a_round_of_candidates(env: Path) -> None:
    """`community set base_models=a,b` → `fanqa train` compares both; `runs results` lists them."""
    scripted_backend.install()
    runner = CliRunner()
    bad = runner.invoke(app, ["community", "set", COMMUNITY, "base_models=good-base,,x"])
    assert bad.exit_code == 2 and "none empty" in bad.stderr
    missing = runner.invoke(app, ["community", "set", COMMUNITY, "base_models=./nowhere"])
    assert missing.exit_code == 2 and "./nowhere: no such folder" in missing.stderr
    ok = runner.invoke(app, ["community", "set", COMMUNITY, "base_models=weak-base,good-base"])
    assert ok.exit_code == 0, ok.output
    trained = runner.invoke(app, ["train", "-c", COMMUNITY, "--backend", "scripted", "--json"])
    assert trained.exit_code == 0, trained.output
    run = json.loads(trained.stdout)
    assert run["base_models"] == ["weak-base", "good-base"]
    assert [c["base_model"] for c in run["summary"]["candidates"]] == ["weak-base", "good-base"]
    shown = runner.invoke(app, ["runs", "results", str(run["id"])], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert any("weak-base" in line and "fail" in line for line in lines), shown.stdout
    assert any("good-base" in line and "pass → live" in line for line in lines), shown.stdout
    rows = json.loads(runner.invoke(app, ["runs", "results", str(run["id"]), "--json"]).stdout)
    assert sorted({r["candidate"] for r in rows}) == [0, 1]
    models = json.loads(runner.invoke(app, ["models", "list", "-c", COMMUNITY, "--json"]).stdout)
    [live] = [m for m in models if m["status"] == "live"]
    assert live["remote_model_id"] == f"ft:good-base:{run['id']}"


def test_a_round_the_gate_rejects_exits_1_naming_the_failed_check(env: Path) -> None:
    """The run succeeded but promoted nothing: the JSON is printed, then one error line."""
    scripted_backend.install()
    result = CliRunner().invoke(
        app,
        ["train", "-c", COMMUNITY, "--backend", "scripted", "--base-model", "weak-base", "--json"],
    )
    assert result.exit_code == 1, result.output
    run = json.loads(result.stdout)
    assert (run["status"], run["summary"]["promoted"]) == ("succeeded", False)
    assert result.stderr.startswith(f"error: run {run['id']}: the gate promoted no candidate")
    assert "question_gain 0 (floor ≥ 0.15) — rejected" in result.stderr
