"""Where the bot core meets a community's pair classifier (``bot.learning.Learner``).

Before a harvest batch the classifiers are refreshed (a version fitted by another process
scores the next pairs); after it, the new pairs a classifier is sure of are approved
(``auto_approve_above``) before their review cards are made, so a card says who approved. A
moderator's approve or reject starts a refit in the background when enough decisions have
come; ``drain`` waits for those on a clean shutdown. All of it runs off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.core.harvesting import HarvestOutcome
from bot.learning import Learner
from storage.database import Database

__all__ = ["LearningHooks"]

log = logging.getLogger(__name__)


class LearningHooks:
    """The classifier's part in harvesting and moderation, for ``BotService``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.learner = Learner(db.engine)
        self._refits: set[asyncio.Task[object]] = set()

    @property
    def pending(self) -> set[asyncio.Task[object]]:
        """Refits still running."""
        return self._refits

    def before_batch(self) -> None:
        """On a database thread: pick up classifier versions fitted elsewhere."""
        self.learner.refresh()

    def after_batch(self, outcomes: Sequence[HarvestOutcome | Exception]) -> None:
        """On a database thread: approve the batch's new pairs the classifier is sure of."""
        self.learner.after_pairs(
            [
                pid
                for o in outcomes
                if not isinstance(o, Exception) and o.kind in ("paired", "merged")
                for pid in o.pair_ids
            ]
        )

    def refit_after(
        self, *, pair_id: int | None = None, chat: tuple[str, str] | None = None
    ) -> None:
        """Refit the community's classifier in the background when enough decisions came."""

        async def learn() -> object:
            try:
                return await self.db.offload(self.learner.after_review, pair_id=pair_id, chat=chat)
            except Exception:  # a failed refit leaves the last version in place
                log.exception("refitting the pair classifier (pair %s) failed", pair_id)
                return None

        task = asyncio.get_running_loop().create_task(learn())
        self._refits.add(task)
        task.add_done_callback(self._refits.discard)
