"""The console adapter and ``fanqa chat``: a scripted session end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.console import ConsolePlatform, ConsoleSession, parse_line
from bot.core import ChatPlatform
from bot.runtime import open_engine
from bot.settings import get_settings
from storage.db import session_scope
from storage.models import QAPair
from storage.repo.communities import get_or_create_community

SCRIPT = "\n".join(
    [
        ":as alice",
        "How do I reset my password?",
        ":as bob",
        ">1 Open settings and tap reset.",
        "+2 ✅",
        ":as mod",
        "+2 ✅",
        "/status",
        ":quit",
        "never read",
    ]
)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """FANQA_DATABASE_URL on a fresh file with a "fund" community."""
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    monkeypatch.setenv("FANQA_DATABASE_URL", url)
    get_settings.cache_clear()
    with session_scope(open_engine()) as s:
        get_or_create_community(s, "fund")
    yield url
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hello", ("message", None, "hello")),
        (">12 sure", ("reply", "12", "sure")),
        ("+3 ✅", ("react", "3", "✅")),
        ("-3 ✅", ("unreact", "3", "✅")),
        ("-1 is negative", ("unreact", "1", "is negative")),
        ("- a list item", ("message", None, "- a list item")),
        ("/pending 3", ("command", None, "pending 3")),
        (":as 小明", ("as", None, "小明")),
        (">x oops", ("bad", None, ">x oops")),
        ("   ", ("empty", None, "")),
    ],
)
def test_parse_line(line: str, expected: tuple[str, str | None, str]) -> None:
    """Each console line form is recognised."""
    assert parse_line(line) == expected


def test_console_platform_implements_port() -> None:
    """ConsolePlatform satisfies the ChatPlatform protocol."""
    assert isinstance(ConsolePlatform(print), ChatPlatform)


def test_chat_command_scripted_session(db_url: str) -> None:
    """Piped lines: a question, a reply, a member's ✅ ignored, a moderator's ✅ approves."""
    result = CliRunner().invoke(
        app, ["chat", "--community", "fund", "--as", "mod", "--moderator"], input=SCRIPT
    )
    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert lines[1:6] == [
        "[1] alice: How do I reset my password?  (question)",
        "  now speaking as bob",
        "[2] bob → 1: Open settings and tap reset.  (pending pair #1)",
        "  not a moderator",
        "  now speaking as mod",
    ]
    assert lines[6] == "  #1 → approved (approve)"
    assert lines[7].startswith("[3] bot: Pairs: pending 0, approved 1, rejected 0.")
    assert len(lines) == 10 and lines[8].startswith("Live model: none")
    with session_scope(open_engine()) as s:
        assert s.exec(select(QAPair.status)).all() == ["approved"]


def test_session_continues_numbering_and_reviews_answer(db_url: str) -> None:
    """A second session numbers after stored messages; ✅ on the /pending listing (it names
    #1 but is no review card) changes nothing, ✅ on the harvested answer approves it."""
    out: list[str] = []
    first = ConsoleSession(open_engine(), "fund", "alice", out=out.append)
    first.run(["怎么开户？", ":as bob", ">1 在 App 里点开户就行。"])
    second = ConsoleSession(open_engine(), "fund", "mod", moderator=True, out=out.append)
    second.run(["/pending 1", "+3 ✅", "+2 ✅"])
    assert out[-3].startswith("[3] bot: Pending / 待审核:\n#1 Q: 怎么开户？")
    assert out[-2:] == ["  not a harvested answer", "  #1 → approved (approve)"]


def test_unknown_community_exits_2(db_url: str) -> None:
    """`fanqa chat` on a missing community fails with exit status 2."""
    result = CliRunner().invoke(app, ["chat", "--community", "nope"], input=":quit\n")
    assert result.exit_code == 2


def test_mentioning_the_bot_gets_an_answer_after_the_question(db_url: str) -> None:
    """Once a pair is approved, "@bot …" is answered from it, printed after the question."""
    script = "\n".join(
        [
            ":as alice",
            "How do I reset my password?",
            ":as bob",
            ">1 Open settings and tap reset.",
            ":as mod",
            "+2 ✅",
            ":as carol",
            "@bot how do I reset my password?",
            ":quit",
        ]
    )
    result = CliRunner().invoke(
        app, ["chat", "--community", "fund", "--as", "mod", "--moderator"], input=script
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    asked = lines.index("[3] carol: @bot how do I reset my password?  (question)")
    assert lines[asked + 1].startswith("[4] bot → 3: Open settings and tap reset.")
    assert "Sources: #1" in "\n".join(lines[asked + 1 :])
