"""The nightly loop on the hosted backend, end to end: tick → worker → gate → bot answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core import BotService, MessageEvent
from harvest.model import ChatMessage
from storage.db import session_scope
from storage.models import AnswerLog, ModelVersion, RunStatus
from storage.repo.communities import upsert_chat
from tests.bot.conftest import FakePlatform
from tests.helpers.openai_emulator import OpenAIEmulator
from tests.hosted.conftest import BASE_MODEL
from tests.hosted.test_hosted_run import FEE_EN
from tests.trainer.test_loop_builders import make_community
from trainer.backend import BackendOptions
from trainer.enqueue import TrainingDefaults, maybe_queue
from trainer.hosted import HostedBackend, openai_generator_factory, routing_generator_factory
from trainer.registry import live_model
from trainer.worker import Worker, default_executor

NIGHT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
DEFAULTS = TrainingDefaults(backend="openai", hosted_base_model=BASE_MODEL)


def _worker(engine: Engine, api: OpenAIEmulator, runs: Path, sleep_log: list[float]) -> Worker:
    def backend() -> HostedBackend:
        return HostedBackend(
            api.client(max_retries=3),
            poll_interval=1.0,
            sleep=sleep_log.append,
            base_model=BASE_MODEL,
        )

    options = BackendOptions(hosted=backend, hosted_base_model=BASE_MODEL)
    return Worker(engine, executor=default_executor(runs_dir=runs, options=options), name="night")


def _tick(engine: Engine, cid: int) -> int | None:
    with session_scope(engine) as session:
        _, run = maybe_queue(session, cid, DEFAULTS, NIGHT)
        return None if run is None else run.id


async def test_tick_trains_on_the_api_promotes_and_the_bot_answers_with_it(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Enough new pairs at 03:00 → hosted run → gate → live; a mention is answered by ft:…."""
    cid = make_community(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        upsert_chat(session, cid, "fake", "g1", "Fans")
    slept: list[float] = []
    with OpenAIEmulator() as api:
        run_id = _tick(sqlite_engine, cid)
        assert run_id is not None and _tick(sqlite_engine, cid) is None  # one run, not two
        run = _worker(sqlite_engine, api, tmp_path, slept).run_once()
        assert run is not None and (run.id, run.status) == (run_id, RunStatus.SUCCEEDED)
        with session_scope(sqlite_engine) as session:
            live = live_model(session, cid)
            assert live is not None and (live.backend, live.run_id) == ("openai", run_id)
            remote = live.remote_model_id
        assert remote is not None and remote.startswith("ft:")
        service = BotService(
            sqlite_engine,
            generator_factory=routing_generator_factory(
                hosted=openai_generator_factory(api.client()), local=None
            ),
        )
        platform = FakePlatform()
        service.register(platform)
        question = ChatMessage(
            platform="fake",
            chat_id="g1",
            message_id="m1",
            author_id="u1",
            author_name="Ann",
            text="@fanqa What yearly fee do you take?",
            sent_at=NIGHT,
        )
        outcome = await service.on_message(
            MessageEvent(question, mentions_bot=True),
            platform,
            prompt="What yearly fee do you take?",
        )
        assert api.chat_requests[-1]["model"] == remote
    assert outcome.answered and platform.sent[-1][2].startswith(FEE_EN)
    with session_scope(sqlite_engine) as session:
        logged = session.exec(select(AnswerLog)).one()
        assert logged.model_version_id == live.id
    assert _tick(sqlite_engine, cid) is None  # nothing new since that dataset: no retraining


def test_a_failed_job_keeps_the_live_model(sqlite_engine: Engine, tmp_path: Path) -> None:
    """The provider fails the job: the run fails with its reason, no model changes."""
    cid = make_community(sqlite_engine)
    error = {"code": "quota_exceeded", "message": "Out of credits", "param": None}
    with OpenAIEmulator(fail_job=error) as api:
        run_id = _tick(sqlite_engine, cid)
        run = _worker(sqlite_engine, api, tmp_path, []).run_once()
    assert run is not None and (run.id, run.status) == (run_id, RunStatus.FAILED)
    assert "Out of credits" in (run.error or "")
    with session_scope(sqlite_engine) as session:
        assert session.exec(select(ModelVersion)).all() == []
