"""`fanqa community link`: which live chats the bot harvests and answers in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import open_engine
from bot.settings import get_settings
from storage.db import session_scope
from storage.models import Chat, Community


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    cli = CliRunner()
    for name in ("fund", "games"):
        assert cli.invoke(app, ["community", "create", name]).exit_code == 0
    return cli


def test_link_chat_policy_and_moderator_chat(runner: CliRunner) -> None:
    """A linked chat gets its own policy; --moderators makes it the notices' destination."""
    linked = runner.invoke(
        app,
        [
            "community",
            "link",
            "fund",
            "telegram",
            "--chat",
            "-1001234567890",
            "--policy",
            "auto",
            "--json",
        ],
    )
    assert linked.exit_code == 0, linked.output
    assert json.loads(linked.stdout)["answer_policy"] == "auto"
    mods = runner.invoke(
        app,
        ["community", "link", "fund", "discord", "--chat", "1100000000000000001", "--moderators"],
    )
    assert mods.exit_code == 0 and "moderator chat" in mods.stdout
    with session_scope(open_engine()) as s:
        chats = {(c.platform, c.external_id, c.answer_policy) for c in s.exec(select(Chat))}
        fund = s.exec(select(Community).where(Community.name == "fund")).one()
        assert (fund.moderator_platform, fund.moderator_chat_id) == (
            "discord",
            "1100000000000000001",
        )
    assert chats == {
        ("telegram", "-1001234567890", "auto"),
        ("discord", "1100000000000000001", None),
    }


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["fund", "slack", "--chat", "123"], "platform"),
        (["fund", "telegram", "--chat", "@mygroup"], "chat_id"),
        (["fund", "telegram", "--chat", "-100123", "--policy", "always"], "--policy"),
    ],
)
def test_bad_link_exits_2_naming_the_field(runner: CliRunner, args: list[str], field: str) -> None:
    """Bad input exits 2 with the field named and links nothing."""
    result = runner.invoke(app, ["community", "link", *args])
    assert result.exit_code == 2 and field in result.stderr
    with session_scope(open_engine()) as s:
        assert s.exec(select(Chat)).all() == []


def test_a_chat_belongs_to_one_community(runner: CliRunner) -> None:
    """Linking a chat that another community owns is refused."""
    assert (
        runner.invoke(app, ["community", "link", "fund", "telegram", "--chat", "-100555"]).exit_code
        == 0
    )
    taken = runner.invoke(app, ["community", "link", "games", "telegram", "--chat", "-100555"])
    assert taken.exit_code != 0 and "another community" in taken.stderr
