"""What the bot posts in the moderators' chat never carries a key, however it was queued."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.core.service import BotService
from harvest.sanitize import MASK
from tests.bot.conftest import FakePlatform
from tests.worker.conftest import MOD_CHAT, make_community
from trainer.outbox import deliver_due, record_now

LEAK = "provider said 401: Authorization: Bearer sk-live-0123456789abcdefghij"


async def test_direct_and_outbox_notices_are_masked(sqlite_engine: Engine) -> None:
    """`BotService.notify` and outbox delivery post the provider's reason with the key masked."""
    cid = make_community(sqlite_engine, pairs=0)
    platform = FakePlatform()
    service = BotService(sqlite_engine)
    service.register(platform)
    assert await service.notify(cid, LEAK)
    assert record_now(sqlite_engine, cid, "queued: " + LEAK, key="leak:1")
    assert await deliver_due(sqlite_engine, service.notify) == 1
    sent = [text for chat, _, text in platform.sent if chat == MOD_CHAT]
    assert sent == [
        f"provider said 401: Authorization: {MASK}",
        f"queued: provider said 401: Authorization: {MASK}",
    ]
