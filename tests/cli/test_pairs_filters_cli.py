"""``fanqa pairs list|approve|reject`` with filters: the desk queue's listing, and bulk
decisions by rule that are audited as such and teach the pair classifier nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import col, select

from storage import make_engine
from storage.db import session_scope
from storage.models import QAPair, ReviewEvent
from tests.cli.test_learner_cli import harvested
from tests.helpers.fanqa_cli import fanqa, fanqa_env


def _with_confidences(tmp_path: Path, n: int) -> list[int]:
    """``n`` pending pairs, the i-th at confidence i / 10 (0.0, 0.1, …)."""
    ids = harvested(tmp_path, n)
    engine = make_engine(f"sqlite:///{tmp_path / 'fanqa.db'}")
    with session_scope(engine) as s:
        for i, pid in enumerate(ids):
            pair = s.get(QAPair, pid)
            assert pair is not None
            pair.confidence = i / 10
            s.add(pair)
    engine.dispose()
    return ids


def _state(tmp_path: Path) -> tuple[dict[int, str], list[tuple[int | None, str, str]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'fanqa.db'}")
    with session_scope(engine) as s:
        statuses = {p.id or 0: p.status for p in s.exec(select(QAPair)).all()}
        events = [
            (e.pair_id, e.action, e.actor_label)
            for e in s.exec(select(ReviewEvent).order_by(col(ReviewEvent.id))).all()
        ]
    engine.dispose()
    return statuses, events


def test_list_narrows_by_confidence_and_method_and_checks_the_bounds(tmp_path: Path) -> None:
    env = fanqa_env(tmp_path)
    ids = _with_confidences(tmp_path, 8)
    low = fanqa("pairs", "list", "-c", "fund", "--max-confidence", "0.3", "--json", env=env)
    assert low.code == 0, low.output
    assert [p["id"] for p in json.loads(low.stdout)] == [ids[3], ids[2], ids[1], ids[0]]
    band = fanqa(
        "pairs", "list", "-c", "fund", "--min-confidence", "0.5", "--max-confidence", "0.6",
        "--method", "reply", "--json", env=env,
    )  # fmt: skip
    assert [p["id"] for p in json.loads(band.stdout)] == [ids[6], ids[5]]
    page2 = fanqa("pairs", "list", "-c", "fund", "--limit", "3", "--offset", "3", "--json", env=env)
    assert [p["id"] for p in json.loads(page2.stdout)] == [ids[4], ids[3], ids[2]]
    none = fanqa("pairs", "list", "-c", "fund", "--method", "thread", "--json", env=env)
    assert json.loads(none.stdout) == []
    for bad, field in ((("--min-confidence", "1.5"), "min_confidence"),
                       (("--min-confidence", "0.6", "--max-confidence", "0.2"), "min_confidence"),
                       (("--max-confidence", "nan"), "max_confidence"),
                       (("--method", "replies"), "method")):  # fmt: skip
        result = fanqa("pairs", "list", "-c", "fund", *bad, env=env)
        assert result.code == 2, result.output
        assert f"field '{field}'" in result.stderr, result.stderr
    negative = fanqa("pairs", "list", "-c", "fund", "--offset", "-1", env=env)
    assert negative.code == 2 and "'--offset'" in negative.stderr


def test_bulk_reject_by_filter_needs_yes_is_audited_and_teaches_nothing(tmp_path: Path) -> None:
    env = fanqa_env(tmp_path)
    ids = _with_confidences(tmp_path, 8)
    before, _ = _state(tmp_path)

    preview = fanqa("pairs", "reject", "-c", "fund", "--max-confidence", "0.25", env=env)
    assert preview.code == 2, preview.output
    assert "3 pending pair(s) match; nothing changed: add --yes" in preview.stderr
    assert _state(tmp_path) == (before, [])
    both = fanqa("pairs", "reject", str(ids[0]), "-c", "fund", "--method", "reply", env=env)
    assert both.code == 2 and "ids or filters, not both" in both.stderr
    neither = fanqa("pairs", "reject", "-c", "fund", "--yes", env=env)
    assert neither.code == 2 and "field 'pair_ids'" in neither.stderr

    done = fanqa("pairs", "reject", "-c", "fund", "--max-confidence", "0.25", "--yes", env=env)
    assert done.code == 0, done.output
    assert "3 pending pair(s) with confidence ≤ 0.25 rejected" in done.stdout
    statuses, events = _state(tmp_path)
    assert [statuses[p] for p in ids] == ["rejected"] * 3 + ["pending"] * 5
    assert sorted(events) == sorted(
        (p, "reject", "filter confidence ≤ 0.25 (cli)") for p in ids[:3]
    )
    # approving the rest by filter: the already rejected ones are not pending, so untouched
    fanqa("pairs", "approve", "-c", "fund", "--min-confidence", "0", "--yes", env=env)
    statuses, _ = _state(tmp_path)
    assert [statuses[p] for p in ids] == ["rejected"] * 3 + ["approved"] * 5
    # decisions by rule are no moderator judgements: the classifier has none to learn from
    status = json.loads(fanqa("learner", "status", "-c", "fund", "--json", env=env).stdout)
    assert status["decisions"] == 0, status
