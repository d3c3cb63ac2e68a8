"""On PostgreSQL: two concurrent imports of one export and `fanqa ask` meanwhile, no traceback."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text

from bench.gen_export import generate
from storage import make_engine
from tests.conftest import POSTGRES_URL
from tests.helpers.fanqa_cli import fanqa, fanqa_env, start_fanqa

pytestmark = pytest.mark.postgres

N_MESSAGES = 4000


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh schema, reached by the child processes through ``options=-csearch_path``."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        yield fanqa_env(tmp_path, FANQA_DATABASE_URL=url)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_concurrent_imports_and_ask_on_postgres(env: dict[str, str], tmp_path: Path) -> None:
    """Both imports end well (no duplicate-member error); messages are stored once."""
    assert fanqa("community", "create", "fund", env=env).code == 0
    export = tmp_path / "export.json"
    generate(export, N_MESSAGES, seed=5)
    procs = [
        start_fanqa("import", "telegram", str(export), "-c", "fund", "--json", env=env)
        for _ in range(2)
    ]
    asked = fanqa("ask", "How long does a redemption take?", "-c", "fund", env=env)
    outs = [p.communicate(timeout=300) for p in procs]
    for (stdout, stderr), proc in zip(outs, procs, strict=True):
        assert proc.returncode == 0, stdout + stderr
        assert "Traceback" not in stderr
    assert sum(json.loads(stdout)["messages_added"] for stdout, _ in outs) == N_MESSAGES
    assert asked.code == 0, asked.output
    members = json.loads(fanqa("members", "list", "-c", "fund", "--json", env=env).stdout)
    keys = [(m["platform"], m["user_id"]) for m in members]
    assert len(keys) == len(set(keys))
