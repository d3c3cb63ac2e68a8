"""The real thing: the worker trains a tiny model in a child process, gates and promotes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.db import session_scope
from tests.trainer.builders import all_texts
from tests.trainer.test_loop_builders import make_community
from tests.worker.conftest import Notices
from trainer.backend import BackendOptions
from trainer.enqueue import TINY_MARKER, TrainingDefaults, queue_training
from trainer.registry import live_model
from trainer.runs import get_run
from trainer.summary import load_summary
from trainer.worker import Worker, default_executor

pytestmark = pytest.mark.slow


def test_worker_executes_a_tiny_local_run_end_to_end(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Queued by the policy's defaults → child process → gate → live; chart and table sent."""
    from trainer.tiny import init_tiny_model

    cid = make_community(sqlite_engine)
    base = init_tiny_model(tmp_path / "tiny", all_texts(), vocab_size=1000)
    (base / TINY_MARKER).write_text("{}", encoding="utf-8")  # as `fanqa model init-tiny` does
    with session_scope(sqlite_engine) as session:
        run = queue_training(
            session, cid, TrainingDefaults(base_model=str(base)), trigger="schedule"
        )
        run.hyperparameters = run.hyperparameters | {"epochs": 2.0}
        session.add(run)
    seen = Notices()
    worker = Worker(
        sqlite_engine,
        executor=default_executor(runs_dir=tmp_path / "runs", options=BackendOptions(device="cpu")),
        notify=seen,
        progress_interval_s=0.2,
    )
    done = worker.run_once()
    assert done is not None and done.status == "succeeded", done and done.error
    with session_scope(sqlite_engine) as session:
        assert get_run(session, done.id or 0).worker == worker.name
        live = live_model(session, cid)
    kinds = [text.split(" ")[0] for text in seen.texts]
    assert kinds[0] == "🏋️" and "✅" in kinds
    assert any(image is not None and image.name == "report.png" for _, _, image in seen.items)
    promoted = load_summary(done).promoted
    assert (live is not None) == bool(promoted)


def test_the_training_child_has_its_own_group_and_dies_with_its_worker(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """`fanqa worker --once` SIGKILLed mid-training: its child stops too, within seconds."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from trainer.tiny import init_tiny_model

    cid = make_community(sqlite_engine)
    base = init_tiny_model(tmp_path / "tiny", all_texts(), vocab_size=1000)
    (base / TINY_MARKER).write_text("{}", encoding="utf-8")
    with session_scope(sqlite_engine) as session:
        run = queue_training(session, cid, TrainingDefaults(base_model=str(base)), trigger="cli")
        run.hyperparameters = run.hyperparameters | {"epochs": 50.0}
        session.add(run)
        run_id = run.id or 0
    env = os.environ | {
        "FANQA_DATABASE_URL": str(sqlite_engine.url),
        "FANQA_DATA_DIR": str(tmp_path / "data"),
        "FANQA_DEVICE": "cpu",
    }
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker", "--once"], env=env)
    try:
        child, deadline = None, time.monotonic() + 240
        while time.monotonic() < deadline:
            with session_scope(sqlite_engine) as session:
                stored = get_run(session, run_id)
            if stored.pid and stored.step >= 1:
                child = stored.pid
                break
            time.sleep(0.5)
        assert child is not None, "the run never started training"
        assert os.getpgid(child) == child != os.getpgid(worker.pid)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.2)
        assert not _alive(child)
    finally:
        if worker.poll() is None:
            worker.kill()


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (already exited, waiting to be reaped by init) counts as gone
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
