"""Approve or reject every pending pair a filter matches: ``fanqa pairs approve|reject
--max-confidence …`` and the desk's "all matching" buttons, one implementation."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from harvest.errors import InputError
from storage.db import session_scope
from storage.models import PairStatus, QAPair
from storage.repo.classifiers import filter_label
from storage.repo.pairs import PairFilters, matching_ids, review_pair

__all__ = ["CHUNK", "review_matching"]

CHUNK = 500  # pairs a transaction: each write lock lasts one flush, a running bot gets through


def review_matching(
    engine: Engine,
    community_id: int,
    action: str,
    filters: PairFilters,
    *,
    who: str,
    actor_id: int | None = None,
) -> list[QAPair]:
    """Review every pending pair of the community that ``filters`` match, :data:`CHUNK` a
    transaction (an interrupted run leaves whole chunks done: run it again to finish). Each
    decision is audited as ``filter <the filters> (<who>)``: a rule, not a judgement of each
    pair, so it never teaches the pair classifier. The pairs reviewed, as now stored."""
    if action not in ("approve", "reject"):
        raise InputError(f"only approve or reject by filter, not {action!r}", field="action")
    if not filters.narrows:
        raise InputError("a review by filter needs at least one filter", field="filters")
    label = filter_label(who, filters.describe())
    with session_scope(engine) as session:
        ids = matching_ids(session, community_id, status=PairStatus.PENDING, filters=filters)
    done: list[QAPair] = []
    for start in range(0, len(ids), CHUNK):
        with session_scope(engine) as session, session.no_autoflush:
            still = session.exec(  # one read a chunk; decided or deleted meanwhile: left alone
                select(QAPair)
                .where(
                    col(QAPair.id).in_(ids[start : start + CHUNK]),
                    QAPair.status == PairStatus.PENDING,
                    col(QAPair.deleted_at).is_(None),
                )
                .order_by(col(QAPair.id))
            ).all()
            done += [  # review_pair finds each pair in the session: no read of its own
                review_pair(
                    session,
                    pair.id or 0,
                    action,
                    community_id=community_id,
                    actor_id=actor_id,
                    actor_label=label,
                    flush=False,
                )
                for pair in still
            ]
    return done
