"""Classifier versions and moderator labels in storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine

from harvest.errors import ConflictError
from harvest.learner import LabelledPair, PairClassifier
from harvest.model import Confidence, PairMethod
from storage.db import session_scope
from storage.models import QAPair
from storage.repo.classifiers import (
    auto_approve,
    latest_classifier,
    new_decisions,
    read_labels,
    set_confidences,
    store_classifier,
)
from storage.repo.communities import get_or_create_community, update_community
from storage.repo.pairs import review_pair


def _classifier() -> PairClassifier:
    good = [
        LabelledPair(f"q{i}?", f"do step {i} then save", PairMethod.REPLY, 2, 1, True)
        for i in range(25)
    ]
    bad = [LabelledPair(f"q{i}?", "lol", PairMethod.IMPLICIT, 1, 1, False) for i in range(5)]
    return PairClassifier.fit(good + bad)


def _pairs(engine: Engine, n: int) -> tuple[int, list[int]]:
    with session_scope(engine) as s:
        cid = get_or_create_community(s, "fund").id or 0
        rows = [
            QAPair(
                community_id=cid,
                source_key=f"k{i}",
                question_text=f"How do I do {i}?",
                answer_text=f"Do step {i} then save.",
                content_hash=f"h{i}",
                confidence=0.9,
                confidence_reason={"rule": "reply+classifier", "signals": {"answer_parts": 1}},
            )
            for i in range(n)
        ]
        s.add_all(rows)
        s.flush()
        return cid, [r.id or 0 for r in rows]


def test_versions_count_up_and_round_trip(engine: Engine) -> None:
    """v1, v2 per community; the stored bytes score like the fitted classifier."""
    cid, _ = _pairs(engine, 0)
    clf = _classifier()
    with session_scope(engine) as s:
        first = store_classifier(s, cid, clf, approved=25, last_event_id=0).version
        second = store_classifier(
            s, cid, clf, approved=25, last_event_id=5, metrics={"recall": 1.0}
        )
        assert (first, second.version) == (1, 2)
    with session_scope(engine) as s:
        latest = latest_classifier(s, cid)
        assert latest is not None and (latest.version, latest.metrics) == (2, {"recall": 1.0})
        probe = [LabelledPair("q?", "do step 9 then save")]
        assert PairClassifier.from_bytes(latest.data).confidences(probe) == clf.confidences(probe)


def test_labels_are_the_latest_moderator_decision_never_the_classifiers(engine: Engine) -> None:
    """approve then reject → rejected; approve then reset → no label; the classifier's own
    approval → no label and not a new decision; auto-approval skips reviewed pairs."""
    cid, ids = _pairs(engine, 5)
    with session_scope(engine) as s:
        review_pair(s, ids[0], "approve", community_id=cid, actor_label="cli")
        review_pair(s, ids[0], "reject", community_id=cid, actor_label="cli")
        review_pair(s, ids[1], "approve", community_id=cid, actor_label="cli")
        review_pair(s, ids[1], "reset", community_id=cid, actor_label="cli")
        review_pair(s, ids[2], "approve", community_id=cid, actor_label="classifier v1 (0.95)")
        review_pair(s, ids[3], "approve", community_id=cid, actor_label="telegram:1")
    with session_scope(engine) as s:
        labels = read_labels(s, cid)
        assert sorted(zip(labels.pair_ids, [p.approved for p in labels.pairs], strict=True)) == [
            (ids[0], False),
            (ids[3], True),
        ]
        assert new_decisions(s, cid) == 4
        assert new_decisions(s, cid, labels.last_event_id) == 0
        clf = _classifier()  # as if from 30 decisions: enough to approve alone
        store_classifier(s, cid, clf, approved=25, last_event_id=labels.last_event_id)
        update_community(s, cid, auto_approve_above=0.8)
    with session_scope(engine) as s:
        assert [pid for pid, _ in auto_approve(s, cid)] == [ids[4]]  # ids[1] was reset: stays


def test_new_confidences_are_written_to_pending_pairs_only(engine: Engine) -> None:
    """A pair a moderator reviewed meanwhile keeps its confidence."""
    cid, ids = _pairs(engine, 2)
    with session_scope(engine) as s:
        review_pair(s, ids[1], "approve", community_id=cid, actor_label="cli")
    value = Confidence(0.42, "reply+classifier", (("classifier_version", 3),))
    with session_scope(engine) as s:
        assert set_confidences(s, [(ids[0], value), (ids[1], value)]) == 1
    with session_scope(engine) as s:
        first, second = (s.get(QAPair, pid) for pid in ids)
        assert first is not None and second is not None
        assert (first.confidence, first.confidence_reason) == (0.42, value.as_json())
        assert second.confidence == 0.9


def test_two_fits_at_once_store_distinct_versions_or_say_conflict(engine: Engine) -> None:
    """Four writers storing a classifier at the same moment (two bots, or the bot and the
    nightly job): every stored version is distinct and consecutive; a writer that lost the
    race gets ConflictError, never a duplicate version or another error."""
    cid, _ = _pairs(engine, 0)
    clf = _classifier()
    start = threading.Barrier(4)

    def store(i: int) -> int | str:
        start.wait()
        try:
            with session_scope(engine) as s:
                return store_classifier(s, cid, clf, approved=25, last_event_id=i).version
        except ConflictError as exc:
            return str(exc)

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(store, range(4)))
    stored = sorted(o for o in outcomes if isinstance(o, int))
    assert stored == list(range(1, len(stored) + 1)) and stored
    assert all("stored by another process" in o for o in outcomes if isinstance(o, str))
    with session_scope(engine) as s:
        latest = latest_classifier(s, cid)
        assert latest is not None and latest.version == stored[-1]
