"""A community's pair classifiers (``harvest.learner``): versions, labels, re-scores, auto-approval.

The labels are the moderators' latest decision per pair (approve / reject review events; a
later reset or "edited after approval" takes the label away); the classifier's own
approvals never count. Each unit below is one short transaction: reading the labels,
storing a fitted version, re-scoring pending pairs, approving the ones above a community's
``auto_approve_above``. Fitting itself happens between them, with no session open.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from harvest.engine.scoring import Scorer, score_pair
from harvest.errors import ConflictError
from harvest.learner import CLASSIFIED, LabelledPair, PairClassifier, learned_scorer
from harvest.model import Confidence, PairMethod
from storage.models import (
    Community,
    PairClassifierVersion,
    PairStatus,
    QAPair,
    ReviewEvent,
    utcnow,
)
from storage.repo.pairs import review_pair

__all__ = [
    "AUTO_MIN_DECISIONS",
    "AUTO_MIN_REJECTED",
    "CLASSIFIER_ACTOR",
    "FILTER_ACTOR",
    "Labels",
    "auto_approve",
    "classifier_label",
    "classifier_scorer",
    "filter_label",
    "is_classifier",
    "latest_classifier",
    "latest_versions",
    "list_classifiers",
    "may_auto_approve",
    "new_decisions",
    "pending_pairs",
    "read_labels",
    "set_confidences",
    "store_classifier",
]

CLASSIFIER_ACTOR = "classifier"  # every actor label of the classifier's own decisions
# Every actor label of decisions taken by a filter (``fanqa pairs approve --min-confidence``):
# a moderator chose the rule, not each pair, so they teach the classifier nothing.
FILTER_ACTOR = "filter"
_NOT_JUDGEMENTS = (CLASSIFIER_ACTOR, FILTER_ACTOR)
DECISIONS = ("approve", "reject")
# Review actions that set a pair's status: the latest one per pair is its label (or none).
_STATUS_ACTIONS = (*DECISIONS, "reset", "reopened", "write")
_METHODS = frozenset(m.value for m in PairMethod)
# A classifier approves on its own only once it learned from this many decisions, this many
# of them rejections: one that has seen almost only approvals finds every pair good.
AUTO_MIN_DECISIONS = 30
AUTO_MIN_REJECTED = 5
_CHUNK = 500


def classifier_label(version: int, confidence: float) -> str:
    """The audit log's actor of an auto-approval, e.g. ``classifier v3 (0.97)``."""
    return f"{CLASSIFIER_ACTOR} v{version} ({confidence:.2f})"


def filter_label(who: str, rule: str) -> str:
    """The audit log's actor of a decision by filter, e.g. ``filter confidence ≤ 0.30 (cli)``."""
    return f"{FILTER_ACTOR} {rule} ({who})"


def is_classifier(actor_label: str) -> bool:
    """Whether a review event is the classifier's own decision (never a training label)."""
    return actor_label.startswith(CLASSIFIER_ACTOR)


def _judged(actor_label: str) -> bool:
    """Whether a review event is a moderator's judgement of that pair: neither the
    classifier's decision nor one taken by a filter over many pairs."""
    return not actor_label.startswith(_NOT_JUDGEMENTS)


def _moderators() -> Any:
    """:func:`_judged` in SQL."""
    column = col(ReviewEvent.actor_label)
    return and_(*(~column.startswith(prefix) for prefix in _NOT_JUDGEMENTS))


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _rules(row: QAPair) -> Confidence:
    """A stored pair's confidence and reason as the engine gave it (maybe a classifier's)."""
    reason = row.confidence_reason or {}
    signals = tuple((reason.get("signals") or {}).items())
    return Confidence(row.confidence, str(reason.get("rule") or row.method), signals)


def _labelled(row: QAPair, approved: bool | None = None) -> LabelledPair | None:
    """A stored pair as the classifier sees it (None for a pair no engine harvested)."""
    if row.method not in _METHODS:
        return None
    signals = (row.confidence_reason or {}).get("signals") or {}
    parts = signals.get("answer_parts", 1)
    return LabelledPair(
        row.question_text,
        row.answer_text,
        PairMethod(row.method),
        row.score,
        int(parts) if isinstance(parts, int | float) else 1,
        approved,
    )


@dataclass(frozen=True, slots=True)
class Labels:
    """A community's moderator decisions, ready to fit on; ``last_event_id``: the newest
    review event read (decisions after it are new)."""

    pairs: list[LabelledPair]
    pair_ids: list[int]
    last_event_id: int

    @property
    def approved(self) -> int:
        return sum(1 for p in self.pairs if p.approved)


def read_labels(session: Session, community_id: int) -> Labels:
    """The latest moderator decision of every live pair that has one."""
    rows = session.exec(
        select(ReviewEvent.id, ReviewEvent.pair_id, ReviewEvent.action, ReviewEvent.actor_label)
        .where(
            ReviewEvent.community_id == community_id,
            col(ReviewEvent.pair_id).is_not(None),
            col(ReviewEvent.action).in_(_STATUS_ACTIONS),
        )
        .order_by(col(ReviewEvent.id))
    ).all()
    latest: dict[int, tuple[str, str]] = {}
    last = 0
    for event_id, pair_id, action, label in rows:
        latest[pair_id or 0] = (action, label)
        last = max(last, event_id or 0)
    decided = {
        pid: action == "approve"
        for pid, (action, label) in latest.items()
        if action in DECISIONS and _judged(label)
    }
    pairs: list[LabelledPair] = []
    ids: list[int] = []
    for chunk in _chunks(sorted(decided)):
        for row in session.exec(
            select(QAPair).where(col(QAPair.id).in_(chunk), col(QAPair.deleted_at).is_(None))
        ).all():
            item = _labelled(row, decided[row.id or 0])
            if item is not None:
                pairs.append(item)
                ids.append(row.id or 0)
    return Labels(pairs, ids, last)


def new_decisions(session: Session, community_id: int, after_event_id: int = 0) -> int:
    """Moderator approvals and rejections recorded after review event ``after_event_id``."""
    return int(
        session.exec(
            select(func.count()).where(
                ReviewEvent.community_id == community_id,
                col(ReviewEvent.id) > after_event_id,
                col(ReviewEvent.action).in_(DECISIONS),
                _moderators(),
            )
        ).one()
    )


def latest_classifier(session: Session, community_id: int) -> PairClassifierVersion | None:
    """The community's newest classifier version, None before its first fit."""
    return session.exec(
        select(PairClassifierVersion)
        .where(PairClassifierVersion.community_id == community_id)
        .order_by(col(PairClassifierVersion.version).desc())
        .limit(1)
    ).first()


def list_classifiers(session: Session, community_id: int) -> list[PairClassifierVersion]:
    """Every version of the community's classifier, newest first."""
    return list(
        session.exec(
            select(PairClassifierVersion)
            .where(PairClassifierVersion.community_id == community_id)
            .order_by(col(PairClassifierVersion.version).desc())
        ).all()
    )


def latest_versions(session: Session) -> dict[int, int]:
    """Community id → its newest classifier version (communities that have one)."""
    rows = session.exec(
        select(
            PairClassifierVersion.community_id, func.max(PairClassifierVersion.version)
        ).group_by(col(PairClassifierVersion.community_id))
    ).all()
    return {cid: int(version) for cid, version in rows}


def store_classifier(
    session: Session,
    community_id: int,
    classifier: PairClassifier,
    *,
    approved: int,
    last_event_id: int,
    metrics: dict[str, Any] | None = None,
) -> PairClassifierVersion:
    """Store a fitted classifier as the community's next version (1, 2, …).

    ConflictError when another process stored that version a moment ago.
    """
    latest = latest_classifier(session, community_id)
    row = PairClassifierVersion(
        community_id=community_id,
        version=(latest.version if latest is not None else 0) + 1,
        decisions=classifier.decisions,
        approved=approved,
        last_event_id=last_event_id,
        data=classifier.to_bytes(),
        metrics=metrics,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise ConflictError(f"classifier v{row.version} was stored by another process") from None
    return row


def classifier_scorer(session: Session, community_id: int) -> Scorer:
    """The harvest engine's scorer for a community: its newest classifier's (the rules'
    confidence kept in the reason), else the rules alone."""
    row = latest_classifier(session, community_id)
    if row is None:
        return score_pair
    return learned_scorer(PairClassifier.from_bytes(row.data), version=row.version)


def pending_pairs(
    session: Session, community_id: int
) -> list[tuple[int, LabelledPair, Confidence]]:
    """Every live pending pair as the classifier sees it, with its stored confidence."""
    out = []
    for row in session.exec(
        select(QAPair).where(
            QAPair.community_id == community_id,
            QAPair.status == PairStatus.PENDING,
            col(QAPair.deleted_at).is_(None),
        )
    ).all():
        item = _labelled(row)
        if item is not None:
            out.append((row.id or 0, item, _rules(row)))
    return out


def set_confidences(session: Session, values: Sequence[tuple[int, Confidence]]) -> int:
    """Write new confidences of pairs that are still pending (one executemany); how many."""
    if not values:
        return 0
    table: Any = QAPair.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.status == PairStatus.PENDING.value)
        .values(
            confidence=bindparam("b_value"),
            confidence_reason=bindparam("b_reason", type_=table.c.confidence_reason.type),
        )
    )
    rows = [{"b_id": pid, "b_value": c.value, "b_reason": c.as_json()} for pid, c in values]
    result = session.connection().execute(stmt, rows)
    return int(getattr(result, "rowcount", 0) or 0)


def may_auto_approve(row: PairClassifierVersion) -> bool:
    """Whether a classifier learned from enough decisions (and rejections) to approve alone."""
    rejected = row.decisions - row.approved
    return row.decisions >= AUTO_MIN_DECISIONS and rejected >= AUTO_MIN_REJECTED


def auto_approve(
    session: Session, community_id: int, pair_ids: Sequence[int] | None = None
) -> list[tuple[int, float]]:
    """Approve the community's pending pairs above its ``auto_approve_above`` (off: nothing),
    each audited as the classifier's decision; ``pair_ids`` narrows the pass to those.

    The classifier must have learned from ``AUTO_MIN_DECISIONS`` decisions, ``AUTO_MIN_REJECTED``
    of them rejections. Only pairs it scored and nobody ever reviewed qualify: a pair a moderator
    sent back to pending (an undone auto-approval, an edit after approval) stays in front
    of the moderators.
    Returns (pair id, confidence) of each pair approved.
    """
    community = session.get(Community, community_id)
    threshold = community.auto_approve_above if community is not None else None
    if threshold is None:
        return []
    latest = latest_classifier(session, community_id)
    if latest is None or not may_auto_approve(latest):
        return []
    reviewed = select(ReviewEvent.pair_id).where(col(ReviewEvent.pair_id) == col(QAPair.id))
    query = select(QAPair.id, QAPair.confidence, QAPair.confidence_reason).where(
        QAPair.community_id == community_id,
        QAPair.status == PairStatus.PENDING,
        col(QAPair.deleted_at).is_(None),
        col(QAPair.confidence) > threshold,
        ~reviewed.exists(),
    )
    if pair_ids is not None:
        if not pair_ids:
            return []
        query = query.where(col(QAPair.id).in_(list(pair_ids)))
    done = []
    for pair_id, confidence, reason in session.exec(query.order_by(col(QAPair.id))).all():
        if not str((reason or {}).get("rule", "")).endswith(CLASSIFIED):
            continue  # scored by the rules alone (harvested before the first fit reached it)
        review_pair(
            session,
            pair_id or 0,
            "approve",
            community_id=community_id,
            actor_label=classifier_label(latest.version, confidence),
        )
        done.append((pair_id or 0, confidence))
    return done
