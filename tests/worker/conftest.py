"""Worker-test helpers: a community with approved pairs, a fake executor, a notice collector."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import ModelStatus, ModelVersion, RunStatus, TrainingRun, utcnow
from storage.repo.communities import get_or_create_community, update_community
from tests.bot.conftest import PLATFORM, FakePlatform
from tests.bot.conftest import world as world  # the two-community world fixture
from tests.trainer.test_loop_builders import add_pair
from trainer.registry import promote
from trainer.runs import get_run

MOD_CHAT = "mods"


def make_community(engine: Engine, name: str = "fund", pairs: int = 25) -> int:
    """A community with ``pairs`` approved pairs and a moderator chat on the fake platform."""
    with session_scope(engine) as session:
        cid = get_or_create_community(session, name).id or 0
        update_community(session, cid, moderator_platform=PLATFORM, moderator_chat_id=MOD_CHAT)
    for i in range(pairs):
        add_pair(engine, cid, f"{name} question {i}?", f"answer {i}")
    return cid


@dataclass
class Notices:
    """A thread-safe ``notify`` callback that records (community, text, image) in order."""

    items: list[tuple[int, str, Path | None]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, community_id: int, text: str, image: Path | None) -> None:
        with self.changed:
            self.items.append((community_id, text, image))
            self.changed.notify_all()

    def wait_for(self, fragment: str, timeout: float = 10.0) -> None:
        """Block until a notice containing ``fragment`` arrived (bounded)."""
        with self.changed:
            ok = self.changed.wait_for(
                lambda: any(fragment in text for _, text, _ in self.items), timeout
            )
        assert ok, f"no notice with {fragment!r}; got {[t for _, t, _ in self.items]}"

    @property
    def texts(self) -> list[str]:
        return [text for _, text, _ in self.items]


class FakeExecutor:
    """Does what ``execute_run`` does to the database, without training.

    Marks the run running, walks ``steps`` steps (calling ``on_step`` after each, so a test
    can wait for the worker's milestone notice), then fails with ``fail`` or registers a model
    with a report (promoted when ``promote_model``).
    """

    def __init__(
        self,
        tmp: Path,
        *,
        steps: int = 4,
        fail: str | None = None,
        promote_model: bool = True,
        on_step: object = None,
    ) -> None:
        self.tmp, self.steps, self.fail = tmp, steps, fail
        self.promote_model, self.on_step = promote_model, on_step
        self.calls: list[int] = []

    def __call__(self, engine: Engine, run: TrainingRun) -> TrainingRun:
        run_id = run.id or 0
        self.calls.append(run_id)
        out = self.tmp / str(run_id)
        out.mkdir(parents=True, exist_ok=True)
        with session_scope(engine) as session:
            stored = get_run(session, run_id)
            stored.status, stored.attempts = RunStatus.RUNNING, stored.attempts + 1
            stored.total_steps, stored.out_dir, stored.started_at = self.steps, str(out), utcnow()
            session.add(stored)
        for step in range(1, self.steps + 1):
            with session_scope(engine) as session:
                stored = get_run(session, run_id)
                stored.step, stored.last_loss = step, 2.0 / step
                session.add(stored)
            if callable(self.on_step):
                self.on_step(step)
        with session_scope(engine) as session:
            stored = get_run(session, run_id)
            stored.finished_at = utcnow()
            if self.fail:
                stored.status, stored.error = RunStatus.FAILED, self.fail
                session.add(stored)
                return stored
            (out / "report.md").write_text(
                "# Evaluation gate: **promoted**\n\n| metric | live | candidate |\n"
                "|---|---|---|\n| answer loss ↓ | 2.1 | 1.2 |\n\n![curves](report.png)\n",
                encoding="utf-8",
            )
            (out / "report.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
            model = ModelVersion(
                community_id=stored.community_id,
                run_id=run_id,
                base_model=stored.base_model,
                adapter_path=str(out / "adapter"),
                gate={"promote": self.promote_model},
                metrics={"candidate": {"loss": 1.2, "question_gain": 0.8}},
                report_path=str(out / "report.md"),
                status=ModelStatus.CANDIDATE if self.promote_model else ModelStatus.REJECTED,
            )
            session.add(model)
            session.flush()
            if self.promote_model:
                promote(session, model.id or 0)
            stored.status = RunStatus.SUCCEEDED
            stored.summary = {"model_version_id": model.id, "promoted": self.promote_model}
            session.add(stored)
            return stored


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()
