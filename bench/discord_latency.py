"""Discord harvesting latency: MESSAGE_CREATE sent by the gateway emulator → pair stored; JSON.

``--pairs`` questions and replies (the reply button) go out over the local gateway websocket,
alternating across ``--channels`` linked channels, as fast as the socket takes them. The real
discord.py client parses them and ``DiscordBot`` hands them to the core (SQLite file, WAL).
For each reply we measure the time from its dispatch to ``BotService.on_message`` returning
a stored pair. ``lost`` counts replies that never became a pair. The baseline in the same run
feeds the same events straight into ``BotService`` (no Discord, no websocket), and ``ratio``
is the Discord path's throughput divided by the core's own.

    .venv/bin/python bench/discord_latency.py [--pairs 500] [--channels 4] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.events import MessageEvent
from bot.core.port import ChatPlatform
from bot.core.service import BotService, MessageOutcome
from bot.discord_bot import DiscordBot
from storage import make_engine, upgrade
from storage.db import session_scope
from storage.repo.communities import get_or_create_community, upsert_chat
from tests.helpers.discord_emulator import DiscordEmulator


class TimedService(BotService):
    """Records when each reply's pair is stored, and the events it saw."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paired_at: dict[str, float] = {}
        self.events: list[MessageEvent] = []
        self.done = asyncio.Event()
        self.expected = 0

    async def on_message(
        self, event: MessageEvent, platform: ChatPlatform, *, prompt: str | None = None
    ) -> MessageOutcome:
        outcome = await super().on_message(event, platform, prompt=prompt)
        self.events.append(event)
        if outcome.harvest.kind == "paired":
            self.paired_at[event.message.message_id] = time.perf_counter()
        if len(self.events) >= self.expected:
            self.done.set()
        return outcome


def _engine(path: Path, channels: list[int]) -> Any:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with session_scope(engine) as s:
        community = get_or_create_community(s, "bench")
        for channel in channels:
            upsert_chat(s, community.id or 0, "discord", str(channel), "bench")
    return engine


async def _discord(pairs: int, n_channels: int, tmp: Path) -> dict[str, Any]:
    async with DiscordEmulator() as emu:
        with emu.patched():
            guild = emu.add_guild("bench")
            users = [emu.add_user(f"user{i}") for i in range(2 * pairs)]
            for uid in users:
                emu.add_member(guild, uid)
            channels = [emu.add_channel(guild, f"c{i}") for i in range(n_channels)]
            engine = _engine(tmp / "discord.db", channels)
            service = TimedService(engine)
            service.expected = 2 * pairs
            bot = DiscordBot(service, emu.token, guild_ready_timeout=0.05)
            await bot.start(timeout=30)
            sent: dict[str, float] = {}
            started = time.perf_counter()
            for i in range(pairs):
                channel = channels[i % n_channels]
                q = await emu.post(channel, users[2 * i], f"How do I redeem fund {i} early?")
                a = await emu.post(
                    channel, users[2 * i + 1], f"Sell fund {i} in the app before 3 pm.", reply_to=q
                )
                sent[str(a)] = time.perf_counter()
            with contextlib.suppress(TimeoutError):  # what never arrived counts as lost
                await asyncio.wait_for(service.done.wait(), 120)
            elapsed = time.perf_counter() - started
            await bot.stop()
    latencies = [service.paired_at[k] - t for k, t in sent.items() if k in service.paired_at]
    return {
        "events": service.expected,
        "seconds": round(elapsed, 3),
        "events_per_s": round(service.expected / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "latency_ms_p95": (
            round(statistics.quantiles(latencies, n=20)[18] * 1000, 2)
            if len(latencies) >= 20
            else None
        ),
        "lost": len(sent) - len(latencies),
        "_events": service.events,
        "_channels": channels,
    }


async def _direct(events: list[MessageEvent], channels: list[int], tmp: Path) -> dict[str, Any]:
    engine = _engine(tmp / "direct.db", channels)
    service = TimedService(engine)
    service.expected = len(events)

    class Null:
        name = "discord"

    started = time.perf_counter()
    for event in events:
        await service.on_message(event, Null())  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    return {"seconds": round(elapsed, 3), "events_per_s": round(len(events) / elapsed, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="50 pairs")
    args = parser.parse_args()
    pairs = 50 if args.quick else args.pairs
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        live = await _discord(pairs, args.channels, Path(tmp))
        base = await _direct(live.pop("_events"), live.pop("_channels"), Path(tmp))
    print(
        json.dumps(
            {
                "bench": "discord_latency",
                "pairs": pairs,
                "channels": args.channels,
                "discord": live,
                "baseline_direct_core": base,
                "ratio": round(live["events_per_s"] / base["events_per_s"], 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
