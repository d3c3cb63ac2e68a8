"""`fanqa members forget` and `/forget`: a member's words are in no table and no data file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import make_engine, upgrade
from tests.helpers.fanqa_cli import fanqa, fanqa_env
from tests.helpers.openai_emulator import OpenAIEmulator
from tests.trainer.test_loop_builders import make_community

MARKER = "zorblax"
BOB = "Open settings, then press Reset password."

SCRIPT = f"""How do I {MARKER} my account password reset?
:as bob
>1 {BOB}
:as carol
What is the refund policy for annual plans?
:as alice
>3 Refunds for {MARKER} plans take five business days.
"""


def _dump(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


def _hits(folder: Path) -> list[str]:
    return [
        str(p)
        for p in folder.rglob("*")
        if p.is_file() and MARKER.encode() in p.read_bytes().lower()
    ]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """Alice asked one question and answered another; both pairs approved and trained on."""
    api = OpenAIEmulator().start()
    env = fanqa_env(
        tmp_path,
        FANQA_OPENAI_API_KEY="sk-test",
        FANQA_OPENAI_BASE_URL=api.base_url,
        FANQA_HOSTED_POLL_S="0.01",
    )
    engine = make_engine(env["FANQA_DATABASE_URL"])
    upgrade(engine)
    make_community(engine, "fund")  # 60 approved synthetic pairs to train on
    engine.dispose()
    assert fanqa("chat", "-c", "fund", "--as", "alice", stdin=SCRIPT, env=env).code == 0
    pairs = json.loads(fanqa("pairs", "list", "-c", "fund", "--json", env=env).stdout)
    theirs = [p["id"] for p in pairs if MARKER in p["question"] + p["answer"]]
    assert len(theirs) == 2, pairs
    assert fanqa("pairs", "approve", *map(str, theirs), "-c", "fund", env=env).code == 0
    edited = fanqa(
        "pairs",
        "edit",
        str(theirs[1]),
        f"Refunds for {MARKER} plans take 5 days.",
        "-c",
        "fund",
        env=env,
    )
    assert edited.code == 0, edited.output
    trained = fanqa("train", "-c", "fund", "--backend", "openai", "--json", env=env)
    assert trained.code == 0, trained.output
    # dave's question is answered from alice's pair; alice asks the bot herself
    asked = fanqa(
        "chat",
        "-c",
        "fund",
        "--as",
        "dave",
        stdin="@bot how do I reset my account password?\n"
        f":as alice\n@bot How long do {MARKER} refunds take?\n",
        env=env,
    )
    assert asked.code == 0, asked.output
    assert MARKER in _dump(tmp_path / "fanqa.db") and _hits(tmp_path / "data")
    yield env, tmp_path
    api.stop()


def test_members_forget_leaves_no_trace(world: tuple[dict[str, str], Path]) -> None:
    """After `fanqa members forget alice`, a full dump and the data folder never say MARKER."""
    env, root = world
    done = fanqa("members", "forget", "@alice", "-c", "fund", "--json", env=env)
    assert done.code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["member"], len(report["pairs"]), report["messages"]) == ("console:alice", 2, 3)
    models = json.loads(fanqa("models", "list", "-c", "fund", "--json", env=env).stdout)
    assert report["trained_models"] == [m["id"] for m in models]
    # her question to the bot and dave's answer from her pair; their stored replies; the
    # approve and edit events of her pairs; the run's train.jsonl
    assert (report["answers"], report["bot_messages"], report["events"]) == (2, 2, 3), report
    assert [Path(f).name for f in report["files"]] == ["train.jsonl"]
    dump = _dump(root / "fanqa.db")
    assert MARKER not in dump.lower()
    assert _hits(root / "data") == []
    assert MARKER.encode() not in (root / "fanqa.db").read_bytes().lower()
    assert BOB in dump  # bob's own message stays
    again = fanqa("members", "forget", "@nobody", "-c", "fund", env=env)
    assert (again.code, again.stderr.count("\n")) == (2, 1)


def test_chat_forget_names_the_models_trained_before(world: tuple[dict[str, str], Path]) -> None:
    """/forget alice in the chat removes the same and names the model trained on her pairs."""
    env, root = world
    chat = fanqa(
        "chat", "-c", "fund", "--as", "mod", "--moderator", stdin="/forget alice\n", env=env
    )
    assert chat.code == 0, chat.output
    assert "Trained before the request: model 1" in chat.stdout, chat.stdout
    assert MARKER not in _dump(root / "fanqa.db").lower()
    assert MARKER.encode() not in (root / "fanqa.db").read_bytes().lower()
    assert _hits(root / "data") == []
