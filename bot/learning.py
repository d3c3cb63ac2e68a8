"""Learning from moderators: a community's pair classifier refitted, pairs re-scored with it.

After every ``classifier_refit_every`` new moderator decisions (and at the nightly tick) the
community's approvals and rejections fit a ``harvest.learner.PairClassifier``: the labels
are read in one short transaction, the fit runs with no session open (on a database thread
or in the CLI, never on the event loop), the new version is stored in another, then every
pending pair is re-scored with it and, when the community set ``auto_approve_above``, the
pairs above it are approved and audited as the classifier's decisions. The live harvester
scores new pairs with :meth:`Learner.scorer_for` (the newest version, reloaded when another
process fitted one); ``fanqa import`` reads the same scorer from storage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from harvest.engine.scoring import PairFeatures, Scorer, score_pair
from harvest.errors import ConflictError
from harvest.learner import PairClassifier, learned_scorer, with_classifier
from harvest.model import Confidence
from storage.db import session_scope
from storage.models import Community, QAPair
from storage.repo.classifiers import (
    Labels,
    auto_approve,
    latest_classifier,
    latest_versions,
    new_decisions,
    pending_pairs,
    read_labels,
    set_confidences,
    store_classifier,
)
from storage.repo.communities import find_chat

__all__ = ["MIN_DECISIONS", "MIN_EACH", "FitResult", "Learner", "held_out_metrics", "too_few"]

log = logging.getLogger(__name__)

MIN_DECISIONS = 20  # fewer moderator decisions teach too little to re-score anything by
MIN_EACH = 2  # approvals and rejections each, at least
_WRITE_CHUNK = 1000  # re-scored pairs written per transaction (a short write lock on SQLite)
_HOLD_OUT = 5  # every 5th decided pair (by id) is held out for the precision / recall shown


@dataclass(frozen=True, slots=True)
class FitResult:
    """What a fit did: the version stored (None: no classifier, ``reason`` says why), the
    decisions it learned from, pending pairs re-scored and pairs approved on its own."""

    community_id: int
    version: int | None
    decisions: int
    approved: int
    reason: str
    rescored: int = 0
    auto_approved: list[int] = field(default_factory=list)
    metrics: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "decisions": self.decisions,
            "approved": self.approved,
            "rejected": self.decisions - self.approved,
            "reason": self.reason,
            "rescored": self.rescored,
            "auto_approved": self.auto_approved,
            "metrics": self.metrics,
        }


def too_few(labels: Labels) -> str | None:
    """Why these decisions cannot fit a classifier yet, naming what is missing; None if they can."""
    n, yes = len(labels.pairs), labels.approved
    no = n - yes
    missing = []
    if n < MIN_DECISIONS:
        missing.append(f"{MIN_DECISIONS - n} more decision(s)")
    if yes < MIN_EACH:
        missing.append(f"{MIN_EACH - yes} more approval(s)")
    if no < MIN_EACH:
        missing.append(f"{MIN_EACH - no} more rejection(s)")
    if not missing:
        return None
    return (
        f"needs at least {MIN_DECISIONS} moderator decisions with {MIN_EACH} approvals and "
        f"{MIN_EACH} rejections; has {n} ({yes} approved, {no} rejected): "
        f"missing {', '.join(missing)}"
    )


def held_out_metrics(labels: Labels) -> dict[str, Any] | None:
    """Precision and recall (approved = positive, confidence ≥ 0.5) of a classifier fitted on
    four fifths of the decisions, on the fifth held out; None when too few to say."""
    held = [pid % _HOLD_OUT == 0 for pid in labels.pair_ids]
    train = [p for p, out in zip(labels.pairs, held, strict=True) if not out]
    test = [p for p, out in zip(labels.pairs, held, strict=True) if out]
    yes = sum(1 for p in train if p.approved)
    if len(test) < 5 or not any(p.approved for p in test) or min(yes, len(train) - yes) < 1:
        return None
    clf = PairClassifier.fit(train)
    kept = [c >= 0.5 for c in clf.confidences(test)]
    tp = sum(1 for k, p in zip(kept, test, strict=True) if k and p.approved)
    predicted, actual = sum(kept), sum(1 for p in test if p.approved)
    return {
        "held_out": len(test),
        "precision": round(tp / predicted, 3) if predicted else None,
        "recall": round(tp / actual, 3),
    }


class Learner:
    """Fits, stores and applies communities' pair classifiers (see the module docstring).

    ``refresh_s``: how often the live scorers look for a version another process stored.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        refresh_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        self.clock = clock
        self._lock = threading.Lock()  # one fit at a time in this process
        self._scorers: dict[int, tuple[int, Scorer]] = {}  # community → (version, scorer)
        self._checked = float("-inf")
        self._failed_at: dict[int, int] = {}  # community → decisions at its last failed fit
        self._auto: frozenset[int] = frozenset()  # communities with auto_approve_above set

    # -- the live harvester's scorer ------------------------------------------------------

    def scorer_for(self, community_id: int) -> Scorer:
        """The engine scorer of a community: its newest classifier's, else the rules'."""
        scorers = self._scorers

        def score(features: PairFeatures, question: str, answer: str) -> Confidence:
            hit = scorers.get(community_id)
            scorer = hit[1] if hit is not None else score_pair
            return scorer(features, question, answer)

        return score

    def refresh(self, *, force: bool = False) -> None:
        """Load versions stored since the last look (at most every ``refresh_s``)."""
        now = self.clock()
        if not force and now - self._checked < self.refresh_s:
            return
        self._checked = now
        try:
            self._reload()
        except Exception:  # the harvest goes on with the versions it has
            log.exception("looking for new pair classifiers failed")

    def _reload(self) -> None:
        with session_scope(self.engine) as session:
            self._auto = frozenset(
                cid or 0
                for cid in session.exec(
                    select(Community.id).where(col(Community.auto_approve_above).is_not(None))
                ).all()
            )
            for cid, version in latest_versions(session).items():
                known = self._scorers.get(cid)
                if known is not None and known[0] >= version:
                    continue
                row = latest_classifier(session, cid)
                if row is not None:
                    clf = PairClassifier.from_bytes(row.data)
                    self._scorers[cid] = (row.version, learned_scorer(clf, version=row.version))

    # -- fitting --------------------------------------------------------------------------

    def fit(self, community_id: int) -> FitResult:
        """Fit on the community's moderator decisions, store the next version, re-score its
        pending pairs and auto-approve; without enough decisions, no classifier (``reason``)."""
        with self._lock:
            return self._fit(community_id)

    def _fit(self, community_id: int) -> FitResult:
        """``fit`` under the lock: read, fit (no session open), store, re-score."""
        with session_scope(self.engine) as session:
            labels = read_labels(session, community_id)
        n, yes = len(labels.pairs), labels.approved
        problem = too_few(labels)
        if problem is not None:
            self._failed_at[community_id] = n
            return FitResult(community_id, None, n, yes, problem)
        metrics = held_out_metrics(labels)
        clf = PairClassifier.fit(labels.pairs)
        try:
            with session_scope(self.engine) as session:
                row = store_classifier(
                    session,
                    community_id,
                    clf,
                    approved=yes,
                    last_event_id=labels.last_event_id,
                    metrics=metrics,
                )
                version = row.version
        except ConflictError as exc:  # another process fitted at the same moment
            return FitResult(community_id, None, n, yes, str(exc))
        self._failed_at.pop(community_id, None)
        self._scorers[community_id] = (version, learned_scorer(clf, version=version))
        rescored, approved = self._rescore(community_id, clf, version)
        log.info(
            "community %s: classifier v%s on %s decisions; %s pending re-scored, %s auto-approved",
            community_id,
            version,
            n,
            rescored,
            len(approved),
        )
        return FitResult(
            community_id,
            version,
            n,
            yes,
            f"fitted v{version} on {n} decisions",
            rescored,
            approved,
            metrics,
        )

    def _rescore(
        self, community_id: int, clf: PairClassifier, version: int
    ) -> tuple[int, list[int]]:
        with session_scope(self.engine) as session:
            pending = pending_pairs(session, community_id)
        values = clf.confidences([item for _, item, _ in pending])
        scored = [
            (pid, with_classifier(rules, value, clf.decisions, version))
            for (pid, _, rules), value in zip(pending, values, strict=True)
        ]
        written = 0
        for start in range(0, len(scored), _WRITE_CHUNK):  # short write transactions
            with session_scope(self.engine) as session:
                written += set_confidences(session, scored[start : start + _WRITE_CHUNK])
        return written, self.auto_approve(community_id)

    def _due(self, community_id: int) -> tuple[bool, int]:
        """(refit now?, new decisions) after moderators decided."""
        with session_scope(self.engine) as session:
            community = session.get(Community, community_id)
            if community is None:
                return False, 0
            latest = latest_classifier(session, community_id)
            after = latest.last_event_id if latest is not None else 0
            fresh = new_decisions(session, community_id, after)
        every = community.classifier_refit_every
        if latest is None:  # not before a fit can succeed; after a one-sided one, N more
            since = fresh - self._failed_at.get(community_id, 0)
            return fresh >= MIN_DECISIONS and since >= every, fresh
        return fresh >= every, fresh

    def maybe_refit(self, community_id: int) -> FitResult | None:
        """Refit when ``classifier_refit_every`` decisions came since the last fit (without a
        classifier: since the last attempt that had too few); None when not due."""
        with self._lock:  # decided while a refit ran: counted against the new version
            due, _ = self._due(community_id)
            return self._fit(community_id) if due else None

    def nightly(self, community_id: int) -> FitResult | None:
        """The nightly tick: refit when moderators decided anything since the last fit (or
        there is no classifier yet); else one auto-approval pass. None when nothing to do."""
        with self._lock:
            with session_scope(self.engine) as session:
                latest = latest_classifier(session, community_id)
                after = latest.last_event_id if latest is not None else 0
                fresh = new_decisions(session, community_id, after)
            if latest is None or fresh > 0:
                return self._fit(community_id)
        self.auto_approve(community_id)
        return None

    # -- after harvesting and reviewing ---------------------------------------------------

    def auto_approve(self, community_id: int, pair_ids: Sequence[int] | None = None) -> list[int]:
        """One auto-approval pass (nothing unless the community set ``auto_approve_above``)."""
        with session_scope(self.engine) as session:
            return [pid for pid, _ in auto_approve(session, community_id, pair_ids)]

    def after_pairs(self, pair_ids: Sequence[int]) -> list[int]:
        """Auto-approve what qualifies among newly harvested pairs (the live path): no query
        at all unless a community with a classifier turned auto-approval on (as of the
        last :meth:`refresh`)."""
        if not pair_ids or not self._auto.intersection(self._scorers):
            return []
        try:
            return self._approve_new(pair_ids)
        except Exception:  # the pairs are stored; the next pass (a fit, nightly) approves them
            log.exception("auto-approving pairs %s failed", list(pair_ids))
            return []

    def _approve_new(self, pair_ids: Sequence[int]) -> list[int]:
        with session_scope(self.engine) as session:
            communities: dict[int, list[int]] = {}
            for pid, cid in session.exec(
                select(QAPair.id, QAPair.community_id).where(col(QAPair.id).in_(list(pair_ids)))
            ).all():
                communities.setdefault(cid, []).append(pid or 0)
            done = []
            for cid, ids in communities.items():
                done += [pid for pid, _ in auto_approve(session, cid, ids)]
        return done

    def after_review(
        self, *, pair_id: int | None = None, chat: tuple[str, str] | None = None
    ) -> FitResult | None:
        """After a moderator approved or rejected (a pair, or by command in a chat): refit
        the pair's or chat's community when enough new decisions came."""
        with session_scope(self.engine) as session:
            cid: int | None = None
            if pair_id is not None:
                pair = session.get(QAPair, pair_id)
                cid = pair.community_id if pair is not None else None
            elif chat is not None:
                found = find_chat(session, *chat)
                cid = found.community_id if found is not None else None
        return self.maybe_refit(cid) if cid is not None else None
