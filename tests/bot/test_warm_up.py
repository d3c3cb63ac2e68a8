"""The start-up warm-up: the harvest path run once on a made-up chat and rolled back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.core.events import MessageEvent
from bot.core.service import BotService
from bot.core.warm_up import warm_up
from harvest.model import ChatMessage
from storage import make_engine, upgrade
from storage.db import session_scope
from storage.repo.communities import get_or_create_community, upsert_chat


def _counts(engine: Engine) -> dict[str, int]:
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.connect() as connection:
        return {
            t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in tables
        }


def test_leaves_nothing_behind(engine: Engine) -> None:
    """Every table as it was, on SQLite and PostgreSQL; a real chat then harvests as usual."""
    with session_scope(engine) as s:
        community = get_or_create_community(s, "funds")
        upsert_chat(s, community.id or 0, "telegram", "-100", "funds")
    before = _counts(engine)
    assert warm_up(engine, "telegram") is not None
    assert warm_up(engine, "discord") is not None
    assert _counts(engine) == before
    now = datetime.now(UTC)
    service = BotService(engine)
    question = ChatMessage("telegram", "-100", "1", "7", "Ann", "赎回几天到账？", now)
    answer = ChatMessage("telegram", "-100", "2", "8", "Bo", "T+2 到账。", now, reply_to_id="1")
    outcomes = service.harvester.handle_messages([MessageEvent(question), MessageEvent(answer)])
    assert [o.kind for o in outcomes] == ["stored", "paired"]  # type: ignore[union-attr]
    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM communities")).scalars().all()
    assert names == ["funds"]


def test_a_locked_database_skips_it(tmp_path: Path) -> None:
    """Another writer holding SQLite's lock past the timeout: no warm-up, no error, no rows."""
    path = tmp_path / "fanqa.db"
    upgrade(make_engine(f"sqlite:///{path}"))
    impatient = make_engine(f"sqlite:///{path}", busy_timeout_s=0.05)
    holder = make_engine(f"sqlite:///{path}")
    with holder.connect() as connection:
        connection.begin()  # BEGIN IMMEDIATE: the write lock, held until this block ends
        assert warm_up(impatient, "telegram") is None
    assert _counts(impatient)["communities"] == 0


def test_loads_the_reply_model_only_when_a_community_uses_it(sqlite_engine: Engine) -> None:
    """A community with learned reply linking: its model is read at start, not by its first
    message; otherwise the warm-up leaves it unread."""
    from harvest.reply_model import default_model

    default_model.cache_clear()
    assert warm_up(sqlite_engine, "telegram") is not None
    assert default_model.cache_info().currsize == 0
    with session_scope(sqlite_engine) as s:
        get_or_create_community(s, "irc-bridge", reply_linking="learned")
    assert warm_up(sqlite_engine, "telegram") is not None
    assert default_model.cache_info().currsize == 1
