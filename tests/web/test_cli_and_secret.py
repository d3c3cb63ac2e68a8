"""`fanqa web login-link` for operators, and the session secret kept out of every log."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import open_engine
from bot.settings import Settings, get_settings
from bot.web.auth import load_secret
from tests.web.builders import seed


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FANQA_WEB_BASE_URL", "https://desk.example.org")
    get_settings.cache_clear()
    seed(open_engine())
    return CliRunner()


def test_login_link_for_a_moderator(cli: CliRunner) -> None:
    """By member id or PLATFORM:USER_ID; the URL is on the configured base."""
    by_id = cli.invoke(app, ["web", "login-link", "--member", "1", "-c", "fund", "--json"])
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(by_id.stdout)["url"].startswith("https://desk.example.org/login/")
    by_user = cli.invoke(app, ["web", "login-link", "--member", "telegram:42", "-c", "fund"])
    assert by_user.exit_code == 0 and "https://desk.example.org/login/" in by_user.stdout
    # the bare platform id, as `fanqa members role 42 moderator` took it
    bare = cli.invoke(app, ["web", "login-link", "--member", "42", "-c", "fund", "--json"])
    assert bare.exit_code == 0, bare.output
    assert json.loads(bare.stdout)["member_id"] == json.loads(by_id.stdout)["member_id"]


def test_login_link_refused_for_members_and_strangers(cli: CliRunner) -> None:
    """A plain member, or a member of another community: exit status 2, a clear line."""
    member = cli.invoke(app, ["web", "login-link", "--member", "telegram:7", "-c", "fund"])
    assert member.exit_code == 2 and "not a moderator" in member.output
    other = cli.invoke(app, ["web", "login-link", "--member", "3", "-c", "fund"])
    assert other.exit_code == 2 and "no member 3" in other.output


def test_secret_is_generated_once_private_and_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Unset: made once in DATA_DIR/web_secret (0600), reused, absent from the logs."""
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    with caplog.at_level(logging.DEBUG):
        first = load_secret(settings)
        again = load_secret(settings)
    path = tmp_path / "web_secret"
    assert first == again and len(first) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first not in caplog.text and "web_secret" in caplog.text
    configured = Settings(_env_file=None, data_dir=tmp_path, web_secret="from-env-" + "y" * 32)  # type: ignore[call-arg]
    assert load_secret(configured) == "from-env-" + "y" * 32
    assert "from-env" not in repr(configured)


def test_access_log_lines_never_carry_a_login_token() -> None:
    """uvicorn's access line for /login/<token> is written with the token elided."""
    from bot.web.server import _RedactTokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/login/s3cr3t-Token_x?next=1", "1.1", 200),
        None,
    )
    assert _RedactTokens().filter(record)
    assert "s3cr3t" not in record.getMessage() and "/login/…" in record.getMessage()


def test_access_log_token_is_elided_after_the_cli_sanitizer_formatted_the_line() -> None:
    """Under `fanqa web` the log sanitizer has already folded the arguments into the message
    (no args left); the token is elided all the same."""
    from bot.web.server import _RedactTokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1:5000 - "POST /login/s3cr3t-Token_x HTTP/1.1" 303',
        None,
        None,
    )
    assert _RedactTokens().filter(record)
    assert "s3cr3t" not in record.getMessage() and "/login/…" in record.getMessage()


def test_login_link_refuses_a_number_that_names_two_members(cli: CliRunner) -> None:
    """Member 1's id is also the Discord user id of another member: say so, exit 2."""
    made = cli.invoke(
        app, ["members", "role", "1", "moderator", "-c", "fund", "--platform", "discord"]
    )
    assert made.exit_code == 0, made.output
    both = cli.invoke(app, ["web", "login-link", "--member", "1", "-c", "fund"])
    assert both.exit_code == 2 and "discord:1" in both.output, both.output
    exact = cli.invoke(app, ["web", "login-link", "--member", "discord:1", "-c", "fund"])
    assert exact.exit_code == 0, exact.output
