"""``fanqa learner``: decisions made with ``fanqa pairs`` fit a classifier; status, fit show it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core import Harvester, MessageEvent
from harvest.model import ChatMessage
from storage import make_engine, upgrade
from storage.db import session_scope
from storage.repo.communities import get_or_create_community, upsert_chat
from tests.helpers.fanqa_cli import fanqa, fanqa_env

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def harvested(tmp_path: Path, n: int) -> list[int]:
    """Community "fund" with ``n`` pending pairs from its console chat; their ids."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fanqa.db'}")
    upgrade(engine)
    with session_scope(engine) as s:
        fund = get_or_create_community(s, "fund", classifier_refit_every=20)
        upsert_chat(s, fund.id or 0, "console", "room")
    harvester, ids = Harvester(engine), []
    for i in range(n):
        at = T0 + timedelta(minutes=10 * i)
        answer = (
            f"I spent the weekend baking bread number {i}, lovely"
            if i % 3 == 0
            else f"Open Settings → Features → {i}, then run `setup {i}` (https://docs.example.com)"
        )
        for mid, author, text, reply in (
            (f"q{i}", "alice", f"How do I set up feature {i}?", None),
            (f"a{i}", "bob", answer, f"q{i}"),
        ):
            msg = ChatMessage("console", "room", mid, author, author, text, at, reply)
            outcome = harvester.handle_message(MessageEvent(msg))
            at += timedelta(seconds=30)
        ids += list(outcome.pair_ids)
    engine.dispose()
    return ids


def test_pairs_reviewed_from_the_cli_fit_a_classifier_status_and_fit_show_it(
    tmp_path: Path,
) -> None:
    """20 decisions with ``fanqa pairs`` → v1 (said on the way); 10 more and ``learner fit``
    → v2; turning auto-approval on approves the pending answers it is sure of, at once."""
    env = fanqa_env(tmp_path)
    ids = harvested(tmp_path, 34)
    before = fanqa("learner", "status", "-c", "fund", env=env)
    assert before.code == 0, before.output
    assert "no classifier yet" in " ".join(before.stdout.split())
    assert "missing 20 more decision(s), 2 more approval(s), 2 more rejection(s)" in " ".join(
        before.stdout.split()
    )
    good = [str(p) for i, p in enumerate(ids[:20]) if i % 3]
    bad = [str(p) for i, p in enumerate(ids[:20]) if i % 3 == 0]
    assert fanqa("pairs", "approve", *good, "-c", "fund", env=env).code == 0
    one_sided = " ".join(fanqa("learner", "status", "-c", "fund", env=env).stdout.split())
    assert "has 13 (13 approved, 0 rejected)" in one_sided
    assert "missing 7 more decision(s), 2 more rejection(s)" in one_sided
    done = fanqa("pairs", "reject", *bad, "-c", "fund", env=env)
    assert done.code == 0, done.output
    assert "pair classifier: fitted v1 on 20 decisions" in done.stdout

    status = json.loads(fanqa("learner", "status", "-c", "fund", "--json", env=env).stdout)
    assert (status["version"], status["decisions"], status["approved"]) == (1, 20, 13)
    assert status["pending_scored_by_it"] == 14
    assert status["auto_approve_above"] is None
    text = fanqa("learner", "status", "-c", "fund", env=env).stdout
    assert "classifier v1" in text and "13 approved, 7 rejected" in text

    good = [str(p) for i, p in enumerate(ids[20:30], start=20) if i % 3]
    bad = [str(p) for i, p in enumerate(ids[20:30], start=20) if i % 3 == 0]
    assert fanqa("pairs", "approve", *good, "-c", "fund", env=env).code == 0
    assert fanqa("pairs", "reject", *bad, "-c", "fund", env=env).code == 0
    refit = fanqa("learner", "fit", "-c", "fund", "--json", env=env)
    assert refit.code == 0, refit.output
    result = json.loads(refit.stdout)
    assert (result["version"], result["decisions"], result["rescored"]) == (2, 30, 4)
    shown = json.loads(fanqa("pairs", "show", str(ids[31]), "-c", "fund", "--json", env=env).stdout)
    assert shown["confidence_reason"]["signals"]["classifier_version"] == 2

    on = fanqa("community", "set", "fund", "auto_approve_above=0.8", env=env)
    assert on.code == 0, on.output
    assert "pending pair(s) approved by the classifier" in on.stdout
    answer = json.loads(
        fanqa("pairs", "show", str(ids[31]), "-c", "fund", "--json", env=env).stdout
    )
    chit_chat = json.loads(
        fanqa("pairs", "show", str(ids[33]), "-c", "fund", "--json", env=env).stdout
    )
    assert (answer["status"], chit_chat["status"]) == ("approved", "pending")
    assert answer["history"][-1]["by"] == f"classifier v2 ({answer['confidence']:.2f})"


def test_fit_without_enough_decisions_says_why(tmp_path: Path) -> None:
    """No decisions: no classifier, the reason printed, exit 1."""
    env = fanqa_env(tmp_path)
    harvested(tmp_path, 2)
    done = fanqa("learner", "fit", "-c", "fund", env=env)
    assert done.code == 1
    assert "no classifier fitted: needs at least 20 moderator decisions" in done.stdout
    assert "missing 20 more decision(s)" in " ".join(done.stdout.split())
    assert done.stderr == ""
