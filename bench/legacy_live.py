"""The live core's per-message path before batches were written in bulk (bench baseline only).

One transaction per message: its own ``INSERT … RETURNING``, then each pair decision
written with its own statements (clash check, message ids, insert, links) by
``storage.repo.harvested.apply_decisions``. The chat windows, members and the engine are
the harvester's own, so only the writing differs from ``Harvester.handle_messages``.
"""

from __future__ import annotations

from typing import Any

from bot.core.events import MessageEvent
from bot.core.harvest_rows import message_row
from bot.core.harvesting import Harvester
from bot.core.outcomes import HarvestOutcome
from harvest.model import Role
from storage.db import session_scope
from storage.repo.harvested import apply_decisions
from storage.repo.messages import get_message, insert_message

__all__ = ["handle_one_by_one"]


def _handle(harvester: Harvester, session: Any, event: MessageEvent) -> HarvestOutcome:
    msg = event.message
    linked = harvester.linked(session, msg.platform, msg.chat_id)
    if linked is None:
        return HarvestOutcome("ignored")
    chat_pk, community_id, config = linked
    member_id, role = harvester._member(session, community_id, msg)
    window = harvester._window(session, msg, chat_pk, community_id, config)
    if role != Role.MEMBER:
        window.roles[msg.author_id] = Role(role)
    else:
        window.roles.pop(msg.author_id, None)
    asks = window.engine.asks(msg)
    row_id = insert_message(session, message_row(msg, chat_pk, member_id, asks))
    if row_id is None:
        row = get_message(session, chat_pk, msg.message_id)
        assert row is not None
        return HarvestOutcome("duplicate", row.id, row.is_question)
    window.remember_id(msg.message_id, row_id)
    harvester._recall_context(session, window.engine, chat_pk, msg)
    fed = window.engine.feed(msg, asks=asks)
    applied = apply_decisions(
        session,
        community_id=community_id,
        chat_pk=chat_pk,
        platform=msg.platform,
        decisions=fed.decisions,
        message_ids=window.ids,
        member_ids=harvester._member_ids(community_id, msg.platform),
    )
    return HarvestOutcome(applied.kind, row_id, fed.is_question, applied.pair_ids)


def handle_one_by_one(harvester: Harvester, events: list[MessageEvent]) -> None:
    """Harvest ``events`` the old way, one transaction per message."""
    for event in events:
        with session_scope(harvester.engine) as session:
            _handle(harvester, session, event)
