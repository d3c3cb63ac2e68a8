"""Fixtures for the hosted backend: the OpenAI emulator, a fast backend, a community with runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import TrainingRun
from tests.helpers.openai_emulator import OpenAIEmulator
from tests.trainer.test_loop_builders import make_community
from trainer.backend import BackendOptions
from trainer.gate import GatePolicy
from trainer.hosted import HostedBackend
from trainer.round import execute_run
from trainer.runs import queue_run

BASE_MODEL = "gpt-4.1-mini-2025-04-14"


@dataclass
class FakeTime:
    """An injectable clock: ``sleep`` advances ``now`` instead of waiting."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def run_hosted(
    engine: Engine,
    run_id: int,
    backend: HostedBackend,
    *,
    runs_dir: Path,
    scrub: bool = True,
    on_event: Callable[[str], None] | None = None,
    policy: GatePolicy | None = None,
) -> TrainingRun:
    """Execute a queued hosted run through the one round with ``backend`` as the API client."""
    options = BackendOptions(scrub=scrub, hosted=lambda: backend, hosted_base_model=BASE_MODEL)
    return execute_run(engine, run_id, options, runs_dir=runs_dir, policy=policy, on_event=on_event)


@pytest.fixture
def api() -> Iterator[OpenAIEmulator]:
    """A running emulator with the default job (3 steps, succeeds)."""
    with OpenAIEmulator() as emulator:
        yield emulator


@pytest.fixture
def make_backend() -> Callable[..., HostedBackend]:
    """A backend on an emulator that never really sleeps (``poll_interval`` 1 fake second)."""

    def make(emulator: OpenAIEmulator, max_retries: int = 3, **kwargs: object) -> HostedBackend:
        fake = FakeTime()
        options: dict[str, object] = {
            "poll_interval": 1.0,
            "sleep": fake.sleep,
            "clock": fake.clock,
            "base_model": BASE_MODEL,
        }
        options.update(kwargs)
        return HostedBackend(emulator.client(max_retries=max_retries), **options)  # type: ignore[arg-type]

    return make


@dataclass
class Community:
    """The synthetic bilingual community (60 approved pairs, 12 held out) and its runs dir."""

    engine: Engine
    cid: int
    runs_dir: Path

    def queue(self, **hyperparameters: object) -> int:
        """Queue a hosted run; returns its id."""
        with session_scope(self.engine) as session:
            run = queue_run(
                session,
                self.cid,
                base_model=BASE_MODEL,
                hyperparameters={"n_epochs": 2, **hyperparameters},
                trigger="schedule",
                backend="openai",
            )
            return run.id or 0


@pytest.fixture
def community(sqlite_engine: Engine, tmp_path: Path) -> Community:
    """A community called "FanFund 基金" with every synthetic pair approved."""
    return Community(
        sqlite_engine, make_community(sqlite_engine, "FanFund 基金"), tmp_path / "runs"
    )
