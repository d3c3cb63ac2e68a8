"""Before a bot takes its first update: the harvest path run once, on a made-up chat, undone.

The first batches a bot harvests cost several times what later ones do: SQLAlchemy compiles
each statement the first time it runs (about ten of them, 1-5 ms each), and the question
screens compile their RE2 sets on first use (≈ 7 ms). Under a busy chat that was ≈ 65 ms of
extra work on the first three batches, a backlog the next half second drained
(``bench/telegram_latency.py``: its first quarter-second's replies took 64 ms at the median,
against ≈ 10 ms later, enough to set the run's p99 by themselves).

So the adapters call :func:`warm_up` (off the event loop) before they poll or connect: a
question and its answer in a community and chat made up for it, harvested and followed up
(cards, answer logs) in one transaction that is then rolled back; with the learned reply
linker when a community uses it (importing it and reading its model took ≈ 200 ms, paid by
that community's first message). Nothing of it stays: not
in the database (on PostgreSQL the id sequences move on a few), nor in the service's memory
(a harvester of its own, the default scorer, so no community's classifier is looked up).
It is an optimisation: should it fail (a database locked past its timeout), the bot starts
anyway and says why at debug level.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.events import MessageEvent
from bot.core.follow_ups import follow_ups
from bot.core.harvesting import Harvester
from harvest.model import ChatMessage
from storage.models import Community
from storage.repo.communities import get_or_create_community, upsert_chat

__all__ = ["warm_up"]

log = logging.getLogger(__name__)


def _made_up(platform: str, chat: str) -> list[MessageEvent]:
    """A question and a reply to it, in English and Chinese (both screens compile)."""
    now = datetime.now(UTC)
    question = ChatMessage(
        platform, chat, "1", "asker", "asker", "How do I redeem? 怎么赎回？", now
    )
    answer = ChatMessage(
        platform, chat, "2", "helper", "helper", "Tap Redeem. 点赎回即可。", now, reply_to_id="1"
    )
    return [MessageEvent(question), MessageEvent(answer)]


def warm_up(engine: Engine, platform: str) -> float | None:
    """Run the harvest path once on ``platform`` and roll it back; the seconds it took, or
    None when it could not run (logged)."""
    started = time.perf_counter()
    tag = f"fanqa-warm-up-{uuid.uuid4().hex}"
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                with Session(bind=connection) as session:
                    learned = session.exec(
                        select(Community.id).where(Community.reply_linking == "learned").limit(1)
                    ).first()
                    linking = "learned" if learned is not None else "rules"
                    community = get_or_create_community(session, tag, reply_linking=linking)
                    upsert_chat(session, community.id or 0, platform, tag, tag)
                    events = _made_up(platform, tag)
                    outcomes = Harvester(engine).handle_in(session, events)
                    follow_ups(session, events, list(outcomes))
            finally:
                transaction.rollback()
    except Exception as exc:  # an optimisation: the bot starts without it
        log.debug("warm-up skipped (%s)", type(exc).__name__)
        return None
    return time.perf_counter() - started
