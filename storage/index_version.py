"""The retrieval index's version per community, bumped whenever its approved pairs change.

A flush that adds, approves, un-approves, edits, forgets or deletes an approved pair bumps
the community's counter in the same transaction (a session listener, so every path that goes
through the ORM counts: moderation, the review desk, /edit, /forget, source edits). Code that
changes pairs with bulk SQL calls ``bump_index_version`` itself. Readers compare one primary-key
row with the version their in-memory index was built at.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from storage.models import PairIndexVersion, PairStatus, QAPair

__all__ = ["BUMPED", "bump_index_version", "index_version"]

_WATCHED = ("status", "question_text", "answer_text", "deleted_at", "community_id")
_PENDING = "fanqa_index_bumps"
BUMPED = "fanqa_index_bumped"  # session.info key: communities bumped in this transaction
_UPSERT = text(
    "INSERT INTO pair_index_versions (community_id, version) VALUES (:cid, 1) "
    "ON CONFLICT (community_id) DO UPDATE SET version = pair_index_versions.version + 1"
)


def index_version(session: Session, community_id: int) -> int:
    """The community's current index version (0 before its approved pairs first change)."""
    row = session.get(PairIndexVersion, community_id)
    return row.version if row is not None else 0


def bump_index_version(session: Session | OrmSession, community_id: int) -> None:
    """Mark the community's approved pairs as changed (call after bulk SQL updates)."""
    session.connection().execute(_UPSERT, {"cid": community_id})
    session.info.setdefault(BUMPED, set()).add(community_id)
    for obj in session.identity_map.values():
        if isinstance(obj, PairIndexVersion) and obj.community_id == community_id:
            session.expire(obj)


def _touches_approved(pair: QAPair) -> bool:
    """Whether a dirty pair's change can alter what retrieval sees."""
    state = inspect(pair)
    changed = False
    was_approved = pair.status == PairStatus.APPROVED
    for name in _WATCHED:
        history = state.attrs[name].history
        if history.has_changes():
            changed = True
            if name == "status" and PairStatus.APPROVED in (history.deleted or ()):
                was_approved = True
    return changed and (was_approved or pair.status == PairStatus.APPROVED)


def _collect(session: OrmSession, _context: Any, _instances: Any) -> None:
    cids: set[int] = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        if isinstance(obj, QAPair) and obj.status == PairStatus.APPROVED:
            cids.add(obj.community_id)
    for obj in session.deleted:
        if isinstance(obj, QAPair) and obj.status == PairStatus.APPROVED:
            cids.add(obj.community_id)
    for obj in session.dirty:
        if isinstance(obj, QAPair) and _touches_approved(obj):
            cids.add(obj.community_id)
            old = inspect(obj).attrs["community_id"].history.deleted
            cids.update(c for c in old or () if c is not None)


def _bump(session: OrmSession, _context: Any) -> None:
    cids: set[int] = session.info.pop(_PENDING, set())
    for cid in sorted(cids):
        bump_index_version(session, cid)


def _forget_bumps(session: OrmSession) -> None:
    session.info.pop(BUMPED, None)


event.listen(OrmSession, "before_flush", _collect)
event.listen(OrmSession, "after_flush", _bump)
event.listen(OrmSession, "after_rollback", _forget_bumps)
