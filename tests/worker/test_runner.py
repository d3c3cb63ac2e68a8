"""`fanqa run`: platforms, scheduler, outbox delivery and an in-process worker, stopped cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import inspect
from typer.testing import CliRunner

from bot.cli import app
from bot.runner import Runner, serve
from bot.runtime import open_engine
from bot.settings import Settings
from storage.db import session_scope
from tests.bot.conftest import FakePlatform
from tests.worker.conftest import MOD_CHAT, FakeExecutor, make_community
from trainer.enqueue import TrainingDefaults, queue_training
from trainer.worker import Worker


class StartablePlatform(FakePlatform):
    """The fake platform with the adapters' start/stop, and an event per message sent."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.sent_something = asyncio.Event()

    async def start(self) -> None:
        self.log.append("start")

    async def stop(self) -> None:
        self.log.append("stop")

    async def send(self, chat_id: str, text: str) -> str:
        self.sent_something.set()
        return await super().send(chat_id, text)

    async def wait_for(self, fragment: str, timeout: float = 10.0) -> None:
        async def seen() -> None:
            while not any(fragment in text for _, _, text in self.sent):
                self.sent_something.clear()
                await self.sent_something.wait()

        await asyncio.wait_for(seen(), timeout)


async def test_run_trains_in_process_and_tells_the_moderators(tmp_path: Path) -> None:
    """A queued run is executed by the in-process worker; its notices reach the moderator chat."""
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'fanqa.db'}",
        data_dir=tmp_path / "data",
        worker_in_process=True,
    )
    engine = open_engine(settings)
    cid = make_community(engine)
    with session_scope(engine) as session:
        queue_training(session, cid, TrainingDefaults(base_model="tiny"), trigger="command")
    platform = StartablePlatform()
    stop = asyncio.Event()
    started: list[Runner] = []

    def worker_factory(settings: Settings, engine: object, *, on_recorded: object) -> Worker:
        return Worker(
            open_engine(settings),
            executor=FakeExecutor(tmp_path, steps=1),
            name="inproc",
            on_recorded=on_recorded,  # type: ignore[arg-type]
        )

    task = asyncio.ensure_future(
        serve(
            settings,
            platforms=[platform],
            stop=stop,
            worker_factory=worker_factory,
            on_started=started.append,
        )
    )
    try:
        await platform.wait_for("is now live")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    runner = started[0]
    texts = [text.split(" / ")[0] for chat, _, text in platform.sent if chat == MOD_CHAT]
    assert platform.log == ["start", "stop"]
    assert texts[0].startswith("🗓 Training run #1 queued") and texts[-1].startswith("🚀 Model #1")
    assert runner._worker_thread is not None and not runner._worker_thread.is_alive()
    assert "apscheduler_jobs" in inspect(engine).get_table_names()


def test_run_without_any_platform_token_exits_2(tmp_path: Path, monkeypatch) -> None:
    """No Telegram or Discord token: one clear line and exit status 2, for run and run --check."""
    from bot.settings import get_settings

    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'fanqa.db'}")
    monkeypatch.delenv("FANQA_TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("FANQA_DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    get_settings.cache_clear()
    try:
        results = [CliRunner().invoke(app, args) for args in (["run"], ["run", "--check"])]
    finally:
        get_settings.cache_clear()
    assert [r.exit_code for r in results] == [2, 2]
    assert all("no chat platform configured" in r.output for r in results)
