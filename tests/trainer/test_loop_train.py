"""The whole learning loop through the CLI: init-tiny → train (child process) → gate → ask."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from bot.answering import answer
from bot.cli import app
from bot.runtime import open_engine
from bot.settings import get_settings
from storage.db import session_scope
from storage.models import ModelVersion, RunMetric
from tests.trainer.builders import TOPICS
from tests.trainer.test_loop_builders import make_community
from trainer.backend import BackendOptions
from trainer.registry import live_model
from trainer.round import execute_run
from trainer.runs import queue_run

pytestmark = pytest.mark.slow

COMMUNITY = "fanfund"
CPU = BackendOptions(device="cpu")


@dataclass
class Loop:
    """The database, folders and first run of the module's community."""

    engine: Engine
    cid: int
    base: Path
    runs_dir: Path
    first_run: dict[str, Any]


def cli(*args: str) -> Any:
    """Run a fanqa command with --json and return its parsed output (exit status 0 required)."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    """A community of 60 approved pairs, a tiny model made for it and one finished run."""
    root = tmp_path_factory.mktemp("loop")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FANQA_DATABASE_URL", f"sqlite:///{root / 'fanqa.db'}")
        patch.setenv("FANQA_DATA_DIR", str(root / "data"))
        patch.setenv("FANQA_DEVICE", "cpu")
        get_settings.cache_clear()
        engine = open_engine()
        cid = make_community(engine, COMMUNITY)
        base = root / "tiny"
        made = cli(
            "model", "init-tiny", str(base), "--community", COMMUNITY, "--vocab-size", "1000"
        )
        assert made["texts"] >= 120
        first = cli("train", "--community", COMMUNITY, "--base-model", str(base))
        yield Loop(engine, cid, base, root / "data" / "runs", first)
    get_settings.cache_clear()


def test_first_run_trains_in_a_child_passes_the_gate_and_goes_live(loop: Loop) -> None:
    """The run succeeds with per-step metrics; the candidate beats the base and is live."""
    run = loop.first_run
    assert run["status"] == "succeeded", run["error"]
    assert run["summary"]["promoted"] is True
    [cand] = run["summary"]["candidates"]
    assert run["hyperparameters"]["lora_r"] == 64  # the tiny model got the scratch profile
    with session_scope(loop.engine) as session:
        steps = session.exec(select(RunMetric.step).where(RunMetric.run_id == run["id"])).all()
        live = live_model(session, loop.cid)
        assert live is not None and live.id == run["summary"]["model_version_id"]
        assert live.gate["reference_model_id"] is None
    assert sorted(steps) == list(range(1, cand["details"]["steps"] + 1))
    assert run["step"] == run["total_steps"] == cand["details"]["steps"]
    cand, ref = live.metrics["candidate"], live.metrics["reference"]
    assert cand["loss"] < 0.5 * ref["loss"] and cand["question_gain"] >= 0.3
    assert cand["chrf"] > ref["chrf"]
    assert Path(live.report_path or "").read_text().startswith("# Evaluation gate: **promoted**")
    results = cli("runs", "results", str(run["id"]))
    assert [r["step"] for r in results] == sorted(steps)
    assert cli("runs", "follow", str(run["id"]))["status"] == "succeeded"
    assert cli("models", "list", "--community", COMMUNITY)[0]["status"] == "live"


def test_ask_answers_held_out_paraphrases_or_abstains_never_wrong(loop: Loop) -> None:
    """Questions the model never trained on get their topic's answer with sources, or a notice."""
    en_answer, zh_answer, en_questions, zh_questions = TOPICS["fee"]
    got = cli("ask", zh_questions[-1], "--community", COMMUNITY)
    assert (got["mode"], got["abstained"], got["answer"]) == ("model", False, zh_answer), got
    assert zh_questions[-1] in [s["question"] for s in got["sources"]]
    assert 0.35 <= got["confidence"] <= 1.0
    right = 0
    with session_scope(loop.engine) as session:
        for en_answer, zh_answer, en_questions, zh_questions in TOPICS.values():
            for question, expected in (
                (en_questions[-1], en_answer),
                (zh_questions[-1], zh_answer),
            ):
                result = answer(session, loop.cid, question)
                assert result.sources and result.model_version_id is not None
                assert result.abstained or result.text == expected, (question, result)
                right += not result.abstained
    assert right >= 7


def test_killed_child_fails_the_run_keeps_live_and_resume_completes(loop: Loop) -> None:
    """SIGKILL mid-run → failed, live model untouched; resume continues from the checkpoint."""
    with session_scope(loop.engine) as session:
        live_before = live_model(session, loop.cid).id  # type: ignore[union-attr]
        hp = dict(loop.first_run["hyperparameters"])
        hp |= {"epochs": 1.0, "save_steps": 5, "eval_steps": 6, "fault_kill_at_step": 7}
        run_id = queue_run(session, loop.cid, base_model=str(loop.base), hyperparameters=hp).id
    killed = execute_run(loop.engine, run_id or 0, CPU, runs_dir=loop.runs_dir)
    assert (killed.status, killed.step) == ("failed", 7)
    assert "SIGKILL" in (killed.error or "")
    with session_scope(loop.engine) as session:
        assert live_model(session, loop.cid).id == live_before  # type: ignore[union-attr]
        assert session.exec(select(ModelVersion).where(ModelVersion.run_id == run_id)).all() == []
    assert (Path(killed.out_dir) / "checkpoints" / "checkpoint-5").is_dir()
    result = CliRunner().invoke(app, ["train", "-c", COMMUNITY, "--resume", str(run_id), "--json"])
    resumed = json.loads(result.stdout)
    assert result.exit_code == (0 if resumed["summary"]["promoted"] else 1), result.output
    assert (resumed["status"], resumed["attempts"], resumed["error"]) == ("succeeded", 2, None)
    with session_scope(loop.engine) as session:
        steps = session.exec(select(RunMetric.step).where(RunMetric.run_id == run_id)).all()
        model = session.get(ModelVersion, resumed["summary"]["model_version_id"])
        assert model is not None and model.gate["reference_model_id"] == live_before
        expected_live = model.id if model.status == "live" else live_before
        assert live_model(session, loop.cid).id == expected_live  # type: ignore[union-attr]
    steps_done = resumed["summary"]["candidates"][0]["details"]["steps"]
    assert sorted(steps) == list(range(1, steps_done + 1))


def test_cancel_requested_mid_run_stops_the_child_with_a_checkpoint(loop: Loop) -> None:
    """A cancel seen by the child saves a checkpoint and ends the run cancelled; live unchanged."""
    with session_scope(loop.engine) as session:
        live_before = live_model(session, loop.cid).id  # type: ignore[union-attr]
        hp = dict(loop.first_run["hyperparameters"]) | {"epochs": 1.0, "fault_cancel_at_step": 3}
        run_id = queue_run(session, loop.cid, base_model=str(loop.base), hyperparameters=hp).id
    run = execute_run(loop.engine, run_id or 0, CPU, runs_dir=loop.runs_dir)
    assert run.status == "cancelled" and "cancelled at step" in (run.error or "")
    assert list((Path(run.out_dir) / "checkpoints").glob("checkpoint-*"))
    with session_scope(loop.engine) as session:
        assert live_model(session, loop.cid).id == live_before  # type: ignore[union-attr]
        assert session.exec(select(ModelVersion).where(ModelVersion.run_id == run_id)).all() == []
