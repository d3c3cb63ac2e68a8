"""Q&A pairs and their append-only review audit, by plain ids."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from harvest.errors import InputError, NotFound, PermissionDenied
from harvest.model import PairMethod
from storage.models import PairMessage, PairStatus, QAPair, ReviewEvent, utcnow

__all__ = [
    "HOLDOUT_PERCENT",
    "PairFilters",
    "answer_message_ids",
    "count_matching",
    "count_pairs",
    "get_pair",
    "list_pairs",
    "list_review_events",
    "matching_ids",
    "pair_for_message",
    "record_event",
    "review_pair",
    "set_golden",
    "split_for_hash",
]

HOLDOUT_PERCENT = 10
MAX_ANSWER_CHARS = 4000  # an edited answer; FANQA_MAX_ANSWER_CHARS changes it for the CLI
_ACTIONS = {
    "approve": PairStatus.APPROVED,
    "reject": PairStatus.REJECTED,
    "reset": PairStatus.PENDING,
}


def split_for_hash(content_hash: str, holdout_percent: int = HOLDOUT_PERCENT) -> str:
    """Deterministic train/holdout assignment from a pair's content hash."""
    bucket = int(hashlib.sha256(content_hash.encode()).hexdigest()[:8], 16) % 100
    return "holdout" if bucket < holdout_percent else "train"


def _snapshot(pair: QAPair) -> dict[str, Any]:
    return {"status": pair.status, "answer_text": pair.answer_text, "golden": pair.golden}


def record_event(
    session: Session,
    *,
    community_id: int,
    action: str,
    pair_id: int | None = None,
    actor_id: int | None = None,
    actor_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    flush: bool = True,
) -> ReviewEvent:
    """Append one audit row; nothing ever updates or deletes these. ``flush=False`` leaves
    the insert to the session's next flush (many rows in one statement)."""
    event = ReviewEvent(
        community_id=community_id,
        pair_id=pair_id,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        before=before,
        after=after,
    )
    session.add(event)
    if flush:
        session.flush()
    return event


def get_pair(session: Session, pair_id: int, *, community_id: int | None = None) -> QAPair:
    """The pair ``pair_id``; with ``community_id`` a pair of another community is refused."""
    pair = session.get(QAPair, pair_id)
    if pair is None or pair.deleted_at is not None:
        raise NotFound(f"no pair #{pair_id}", kind="pair", key=pair_id)
    if community_id is not None and pair.community_id != community_id:
        raise PermissionDenied(f"pair #{pair_id} belongs to another community")
    return pair


@dataclass(frozen=True, slots=True)
class PairFilters:
    """What a pair listing may be narrowed to (None: any). The review desk's queue, ``fanqa
    pairs list`` and the bulk review commands take the same filters; checked when made."""

    chat_id: int | None = None
    author_id: int | None = None  # who answered
    method: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None

    def __post_init__(self) -> None:
        methods = [m.value for m in PairMethod]
        if self.method is not None and self.method not in methods:
            raise InputError(
                f"unknown method {self.method!r}: one of {', '.join(methods)}", field="method"
            )
        for name in ("min_confidence", "max_confidence"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise InputError(f"{name} must be between 0 and 1, not {value}", field=name)
        low, high = self.min_confidence, self.max_confidence
        if low is not None and high is not None and low > high:
            raise InputError(
                f"min_confidence {low} is above max_confidence {high}", field="min_confidence"
            )

    @property
    def narrows(self) -> bool:
        """Whether any filter is set."""
        return any(getattr(self, name) is not None for name in self.__slots__)

    def describe(self) -> str:
        """The filters set, for people and the audit log: ``confidence ≤ 0.30, method reply``."""
        parts = []
        if self.min_confidence is not None:
            parts.append(f"confidence ≥ {self.min_confidence:.2f}")
        if self.max_confidence is not None:
            parts.append(f"confidence ≤ {self.max_confidence:.2f}")
        for name in ("method", "chat_id", "author_id"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name.removesuffix('_id')} {value}")
        return ", ".join(parts) or "any"


def _matching(community_id: int, status: str | None, filters: PairFilters) -> list[Any]:
    """The WHERE clauses of a listing: live pairs of the community, ``status``, ``filters``."""
    where: list[Any] = [QAPair.community_id == community_id, col(QAPair.deleted_at).is_(None)]
    if status is not None:
        if status not in {s.value for s in PairStatus}:
            raise InputError(f"unknown status {status!r}", field="status")
        where.append(QAPair.status == status)
    if filters.chat_id is not None:
        where.append(QAPair.chat_id == filters.chat_id)
    if filters.author_id is not None:
        where.append(QAPair.answerer_id == filters.author_id)
    if filters.method is not None:
        where.append(QAPair.method == filters.method)
    if filters.min_confidence is not None:
        where.append(col(QAPair.confidence) >= filters.min_confidence)
    if filters.max_confidence is not None:
        where.append(col(QAPair.confidence) <= filters.max_confidence)
    return where


def list_pairs(
    session: Session,
    community_id: int,
    *,
    status: str | None = None,
    filters: PairFilters = PairFilters(),
    limit: int | None = None,
    offset: int = 0,
) -> list[QAPair]:
    """Live pairs of a community, most likely good first (confidence, score, then age):
    the one listing behind ``/pending``, ``fanqa pairs list`` and the desk's queue."""
    query = (
        select(QAPair)
        .where(*_matching(community_id, status, filters))
        .order_by(col(QAPair.confidence).desc(), col(QAPair.score).desc(), col(QAPair.id))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def matching_ids(
    session: Session,
    community_id: int,
    *,
    status: str | None = None,
    filters: PairFilters = PairFilters(),
) -> list[int]:
    """The ids of the pairs :func:`list_pairs` would list without a limit, ascending; no
    rows loaded."""
    where = _matching(community_id, status, filters)
    query = select(QAPair.id).where(*where).order_by(col(QAPair.id))
    return [int(i) for i in session.exec(query).all() if i is not None]


def count_matching(
    session: Session,
    community_id: int,
    *,
    status: str | None = None,
    filters: PairFilters = PairFilters(),
) -> int:
    """How many pairs :func:`list_pairs` would list without a limit."""
    where = _matching(community_id, status, filters)
    return int(session.exec(select(func.count()).select_from(QAPair).where(*where)).one())


def count_pairs(session: Session, community_id: int) -> dict[str, int]:
    """Live pair counts by status."""
    rows = session.exec(
        select(QAPair.status, func.count())
        .where(QAPair.community_id == community_id, col(QAPair.deleted_at).is_(None))
        .group_by(QAPair.status)
    ).all()
    counts = {s.value: 0 for s in PairStatus}
    counts.update({status: n for status, n in rows})
    return counts


def review_pair(
    session: Session,
    pair_id: int,
    action: str,
    *,
    community_id: int,
    actor_id: int | None = None,
    actor_label: str = "",
    answer_text: str | None = None,
    max_chars: int = MAX_ANSWER_CHARS,
    flush: bool = True,
) -> QAPair:
    """Approve, reject, reset (undo) or edit a pair, and audit it in review_events
    (``flush=False``: written at the session's next flush, for many pairs at once)."""
    pair = get_pair(session, pair_id, community_id=community_id)
    before = _snapshot(pair)
    if action == "edit":
        if answer_text is None or not answer_text.strip():
            raise InputError("the new answer is empty", field="answer")
        if len(answer_text.strip()) > max_chars:
            raise InputError(
                f"the new answer has {len(answer_text.strip()):,} characters; at most "
                f"{max_chars:,} (FANQA_MAX_ANSWER_CHARS)",
                field="answer",
            )
        pair.answer_text = answer_text.strip()
    elif action in _ACTIONS:
        pair.status = _ACTIONS[action]
    else:
        raise InputError(f"unknown review action {action!r}", field="action")
    pair.reviewed_by = actor_id
    pair.reviewed_at = utcnow()
    pair.updated_at = pair.reviewed_at
    session.add(pair)
    record_event(
        session,
        community_id=community_id,
        pair_id=pair.id,
        action=action,
        actor_id=actor_id,
        actor_label=actor_label,
        before=before,
        after=_snapshot(pair),
        flush=flush,
    )
    return pair


def set_golden(
    session: Session,
    pair_id: int,
    golden: bool,
    *,
    community_id: int,
    actor_id: int | None = None,
    actor_label: str = "",
) -> QAPair:
    """Pin (or unpin) a pair in the golden set that every evaluation includes."""
    pair = get_pair(session, pair_id, community_id=community_id)
    before = _snapshot(pair)
    pair.golden = golden
    session.add(pair)
    record_event(
        session,
        community_id=community_id,
        pair_id=pair.id,
        action="pin" if golden else "unpin",
        actor_id=actor_id,
        actor_label=actor_label,
        before=before,
        after=_snapshot(pair),
    )
    return pair


def pair_for_message(session: Session, message_id: int) -> QAPair | None:
    """The best live pair whose answer includes stored message ``message_id``."""
    return session.exec(
        select(QAPair)
        .join(PairMessage, col(PairMessage.pair_id) == col(QAPair.id))
        .where(PairMessage.message_id == message_id, col(QAPair.deleted_at).is_(None))
        .order_by(col(QAPair.score).desc())
        .limit(1)
    ).first()


def answer_message_ids(session: Session, pair_id: int) -> list[int]:
    """Stored ids of the messages a pair's answer is made of, in order."""
    return list(
        session.exec(
            select(PairMessage.message_id)
            .where(PairMessage.pair_id == pair_id)
            .order_by(col(PairMessage.position))
        ).all()
    )


def list_review_events(
    session: Session, community_id: int, *, pair_id: int | None = None
) -> Sequence[ReviewEvent]:
    query = select(ReviewEvent).where(ReviewEvent.community_id == community_id)
    if pair_id is not None:
        query = query.where(ReviewEvent.pair_id == pair_id)
    return session.exec(query.order_by(col(ReviewEvent.id))).all()
