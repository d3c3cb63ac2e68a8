"""One pair writer: an export imported and the same messages fed live store the same rows.

``bot.importer.import_export`` writes an export's closed pairs into community "exported";
the same messages, in the export's order, go through ``Harvester.handle_messages`` (the
live bot's path: the engine's new / update / drop decisions, batch by batch) into chats of
community "live". Both write through ``storage.repo.pair_batch.PairBatch``; the stored pairs
must agree column by column (texts, method, score, confidence and its reason, content
hash, split, status), and in their question message, people and answer links.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.core import Harvester
from bot.core.events import MessageEvent
from bot.demo import DEMO_EXPORT
from bot.importer import import_export
from harvest.exports import ExportChatInfo, read_export
from harvest.model import ChatMessage
from storage.db import session_scope
from storage.repo.communities import get_or_create_community, upsert_chat
from tests.helpers.pair_rows import pair_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SOURCES = [
    DEMO_EXPORT,
    FIXTURES / "telegram" / "single_chat.json",
    FIXTURES / "telegram" / "forum.json",
    FIXTURES / "telegram" / "forum_announcements.json",
    FIXTURES / "telegram" / "account.json",
    FIXTURES / "discord" / "folder",
]


def feed_live(engine: Engine, source: Path, batch: int) -> None:
    """The export's messages through the live harvester, ``batch`` at a time and oldest
    first, into chats of community "live" (the export's chat ids with a prefix: a chat has
    one community); service messages (a topic created, a member joined) are not delivered
    to the bot as messages, so they are left out as the platform adapters leave them."""
    items = list(read_export(source))
    with session_scope(engine) as s:
        live = get_or_create_community(s, "live")
        for info in items:
            if isinstance(info, ExportChatInfo):
                upsert_chat(s, live.id or 0, info.platform, f"live-{info.chat_id}", info.title)
    messages = [m for m in items if isinstance(m, ChatMessage) and not m.is_service]
    events = [
        MessageEvent(replace(m, chat_id=f"live-{m.chat_id}"))
        for m in sorted(messages, key=lambda m: m.sent_at)
    ]
    harvester = Harvester(engine)
    for start in range(0, len(events), batch):
        outcomes = harvester.handle_messages(events[start : start + batch])
        assert not [o for o in outcomes if isinstance(o, Exception)]


@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_import_and_live_store_the_same_pair_rows(
    source: Path, batch: int, sqlite_engine: Engine
) -> None:
    """Field by field, whether the live messages come one by one or in batches."""
    import_export(sqlite_engine, source, community="exported")
    feed_live(sqlite_engine, source, batch)
    exported = pair_rows(sqlite_engine, "exported")
    assert exported
    assert pair_rows(sqlite_engine, "live") == exported
