"""Contention and faults end in waiting or one clear line, never a traceback (SQLite)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.gen_export import generate
from tests.helpers.fanqa_cli import Done, fanqa, fanqa_env, start_fanqa

N_MESSAGES = 6000


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = fanqa_env(tmp_path)
    assert fanqa("community", "create", "fund", env=env).code == 0
    return env


def _db(env: dict[str, str]) -> Path:
    return Path(env["FANQA_DATABASE_URL"].removeprefix("sqlite:///"))


@contextmanager
def write_lock(db: Path, seconds: float | None = None) -> Iterator[None]:
    """Hold SQLite's write lock (as a long import does), for ``seconds`` or the block."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    release = threading.Timer(seconds, conn.rollback) if seconds is not None else None
    if release is not None:
        release.start()
    try:
        yield
    finally:
        if release is not None:
            release.join()
        else:
            conn.rollback()
        conn.close()


def _one_clear_line(done: Done, *words: str) -> None:
    assert done.code in (1, 2), done.output
    assert "Traceback" not in done.output
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error:") and all(w in line for w in words), line


def test_a_command_waits_for_a_short_lock(env: dict[str, str]) -> None:
    """While another process writes for 2 s, `community set` waits for it, then succeeds."""
    with write_lock(_db(env), seconds=2):
        started = time.monotonic()
        done = fanqa("community", "set", "fund", "answer_policy=auto", env=env)
    assert done.code == 0, done.output
    assert time.monotonic() - started >= 1.5


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["ask", "How long does a redemption take?", "-c", "fund"], None),
        (["chat", "-c", "fund", "--as", "zoe"], "Is anyone here?\n"),
        (["community", "set", "fund", "answer_policy=auto"], None),
        (["pairs", "list", "-c", "fund"], None),
        (["members", "role", "42", "moderator", "-c", "fund"], None),
    ],
    ids=["ask", "chat", "set", "pairs-list", "role"],
)
def test_a_lock_held_too_long_is_one_line(
    env: dict[str, str], args: list[str], stdin: str | None
) -> None:
    """Past the busy timeout every command says the database is busy, exit 1, no change."""
    env = env | {"FANQA_DB_BUSY_TIMEOUT_S": "0.5"}
    with write_lock(_db(env)):
        done = fanqa(*args, env=env, stdin=stdin)
    _one_clear_line(done, "busy", "try again")
    after = json.loads(fanqa("community", "list", "--json", env=env).stdout)
    assert after[0]["answer_policy"] == "mention"


def test_concurrent_imports_and_ask(env: dict[str, str], tmp_path: Path) -> None:
    """Two imports of one export and `fanqa ask` + the console meanwhile: each waits its turn,
    the messages are stored once, and the console's message is stored."""
    export = tmp_path / "export.json"
    generate(export, N_MESSAGES, seed=3)
    first = start_fanqa("import", "telegram", str(export), "-c", "fund", "--json", env=env)
    second = start_fanqa("import", "telegram", str(export), "-c", "fund", "--json", env=env)
    asked = fanqa("ask", "How long does a redemption take?", "-c", "fund", env=env)
    chat = fanqa("chat", "-c", "fund", "--as", "zoe", stdin="Is anyone here tonight?\n", env=env)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    for (stdout, stderr), proc in zip(outs, (first, second), strict=True):
        assert proc.returncode == 0, stdout + stderr
        assert "Traceback" not in stderr
    summaries = [json.loads(stdout) for stdout, _ in outs]
    assert sum(s["messages_added"] for s in summaries) == N_MESSAGES
    assert asked.code == 0 and chat.code == 0, asked.output + chat.output
    assert "zoe: Is anyone here tonight?" in chat.stdout
    with sqlite3.connect(_db(env)) as conn:
        (stored,) = conn.execute(
            "SELECT count(*) FROM messages WHERE text LIKE 'Is anyone%'"
        ).fetchone()
    assert stored == 1


def test_a_mistyped_sqlite_path_is_announced(tmp_path: Path) -> None:
    """A database path that does not exist yet is created, and stderr says so with its path."""
    wrong = tmp_path / "dta" / "fanqa.db"
    env = fanqa_env(tmp_path, FANQA_DATABASE_URL=f"sqlite:///{wrong}")
    done = fanqa("community", "list", env=env)
    assert done.code == 0, done.output
    assert f"no database at {wrong}: creating a new, empty one" in done.stderr


def _as_other_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_read_only_database_and_data_folder_are_one_line(env: dict[str, str]) -> None:
    """A database file or data folder this user cannot write: one line naming it, exit 1."""
    prefix = _as_other_user()
    root = Path(tempfile.mkdtemp(prefix="fanqa-ro-"))
    try:
        db = root / "fanqa.db"
        shutil.copy(_db(env), db)
        (root / "data").mkdir()
        for path in (root, root / "data", db):
            path.chmod(0o755 if path.is_dir() else 0o444)
        other = env | {
            "FANQA_DATABASE_URL": f"sqlite:///{db}",
            "FANQA_DATA_DIR": str(root / "data"),
            "FANQA_TEST_CWD": str(root),
        }
        _one_clear_line(
            fanqa("community", "create", "games", env=other, prefix=prefix), "read-only", str(db)
        )
        writable = root / "db"  # the database writable, the data folder not
        writable.mkdir(mode=0o777)
        writable.chmod(0o777)
        shutil.copy(_db(env), writable / "fanqa.db")
        (writable / "fanqa.db").chmod(0o666)
        other["FANQA_DATABASE_URL"] = f"sqlite:///{writable / 'fanqa.db'}"
        out = str(root / "data" / "out.jsonl")
        export = fanqa("data", "export", "-c", "fund", "-o", out, env=other, prefix=prefix)
        _one_clear_line(export, "cannot write", str(root / "data"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("postgresql+psycopg://fanqa:pw-9f8e7d6c@127.0.0.1:1/fanqa", 1, ["unavailable", "***"]),
        ("foo://bar", 2, ["FANQA_DATABASE_URL"]),
        ("not a url", 2, ["FANQA_DATABASE_URL"]),
    ],
    ids=["unreachable", "unknown-dialect", "garbage"],
)
def test_an_unusable_database_url_is_one_line(
    tmp_path: Path, url: str, code: int, words: list[str]
) -> None:
    """An unreachable server or a URL SQLAlchemy cannot read: one line, no password."""
    done = fanqa("community", "list", env=fanqa_env(tmp_path, FANQA_DATABASE_URL=url))
    _one_clear_line(done, *words)
    assert done.code == code
    assert "pw-9f8e7d6c" not in done.output
