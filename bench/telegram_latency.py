"""Telegram harvesting latency: update enqueued at the Bot API emulator → pair stored; JSON.

Users alternate questions and replies at ``--rate`` updates/s for ``--duration`` s into one
supergroup; the real python-telegram-bot ``Application`` long-polls them from the local
emulator and the core stores them (SQLite file, WAL). For every reply the time from the
emulator enqueueing it to ``BotService.on_message`` returning a stored pair is measured.
``lost`` counts replies whose pair never appeared. The baseline in the same run feeds the
same kind of events straight into ``BotService`` (no Telegram, no HTTP): ``ratio`` is the
Telegram path's throughput over the core's own.

Method: the emulator (``tests.helpers.telegram_emulator``) and the load generator run in a
process of their own (spawned; they serve ``getUpdates`` on 127.0.0.1), the bot in this one.
That is what production looks like: Telegram's servers are not in the bot's process, and an
in-process emulator made the bot's event loop also do the server's work (building,
encoding and serving every update), a cost no real deployment pays. Enqueue and store times
are both ``time.perf_counter()`` (CLOCK_MONOTONIC on Linux: one clock for every process);
the emulator process ships its enqueue times back at the end. Until 2026-12 the emulator ran
in the bot's process and event loop; ``--in-process`` still measures that way. The
emulator's process runs its load with the cyclic garbage collector off (since round 2 stop
26): one of its full collections, mid-run, held up updates it had stamped as enqueued and
was counted as the bot's latency. ``bot_cpu_ms_per_update`` is the bot process's CPU (every
thread) per update handled, a figure other people's load moves less than latency;
``ptb_parse_cpu_ms_per_update`` is how much of it python-telegram-bot's own parsing of an
update takes (``Update.de_json`` on the same kind of updates, same run).

    .venv/bin/python bench/telegram_latency.py [--rate 1000] [--duration 30] [--quick]
                                               [--poll-interval S]
                                               [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import Bot, Update

from bot.core.events import MessageEvent
from bot.core.port import ChatPlatform
from bot.core.service import BotService, MessageOutcome
from bot.telegram_bot import TelegramBot
from bot.telegram_bot.app import POLL_INTERVAL
from harvest.model import ChatMessage
from storage import make_engine, upgrade
from storage.db import session_scope
from storage.repo.communities import get_or_create_community, upsert_chat
from tests.helpers.telegram_emulator import TelegramEmulator

TOKEN = "1000:bench-token"
CHAT = -1001234567890
USERS = 200  # askers and answerers rotate so nobody's messages merge
GOAL_P99_MS = 50.0


class TimedService(BotService):
    """Records when each reply's pair is stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paired_at: dict[str, float] = {}
        self.handled = 0

    async def _after_harvest(
        self, event: MessageEvent, platform: ChatPlatform, prompt: str | None, harvested: Any
    ) -> MessageOutcome:
        outcome = await super()._after_harvest(event, platform, prompt, harvested)
        self.handled += 1
        if outcome.harvest.kind == "paired":
            self.paired_at[event.message.message_id] = time.perf_counter()
        return outcome


def _engine(folder: Path, name: str) -> Any:
    engine = make_engine(f"sqlite:///{folder / name}")
    upgrade(engine)
    with session_scope(engine) as s:
        community = get_or_create_community(s, "bench")
        upsert_chat(s, community.id or 0, "telegram", str(CHAT), "bench")
    return engine


def _texts(i: int) -> tuple[str, str]:
    return (
        f"How do I redeem fund number {i} before the cut-off?",
        f"Open the app, pick fund {i} and tap Redeem; it settles in T+2.",
    )


def _emulator() -> TelegramEmulator:
    tg = TelegramEmulator(TOKEN)
    for uid in range(1, 2 * USERS + 1):
        tg.add_user(uid, f"user{uid}")
    tg.add_chat(CHAT, "bench")
    return tg


async def _load(
    tg: TelegramEmulator, rate: float, duration: float
) -> tuple[float, float, dict[str, float]]:
    """Post the questions and replies at ``rate``: (start time, seconds it took, reply
    message id → when its update was enqueued)."""
    total = int(rate * duration)
    replies: dict[str, int] = {}  # reply message id -> update id
    question_id = 0
    started = time.perf_counter()
    for n in range(total):
        due = started + n / rate
        ahead = due - time.perf_counter()
        if ahead > 0:
            await asyncio.sleep(ahead)
        i = n // 2
        question, answer = _texts(i)
        if n % 2 == 0:
            sent = await tg.post(CHAT, 1 + i % USERS, question)
            question_id = sent["message_id"]
        else:
            sent = await tg.post(CHAT, 1 + USERS + i % USERS, answer, reply_to=question_id)
            replies[str(sent["message_id"])] = tg.log[-1]["update_id"]
    produced = time.perf_counter() - started
    return started, produced, {mid: tg.pushed_at[uid] for mid, uid in replies.items()}


def _emulator_process(conn: Connection, rate: float, duration: float) -> None:
    """The emulator's own process: serve, load on "go", report, serve until "stop"."""

    async def serve() -> None:
        tg = _emulator()
        await tg.start()
        conn.send(tg.base_url)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)  # go: the bot is polling
        # No cyclic collection while loading: this process stands in for Telegram's servers,
        # and a full collection here (104 ms measured mid-run, its update log growing by
        # 1,000 a second) held up updates it had already stamped as enqueued, a pause that
        # was then counted as the bot's latency. Refcounting still frees what it drops.
        gc.disable()
        try:
            conn.send(await _load(tg, rate, duration))
        finally:
            gc.enable()
        await loop.run_in_executor(None, conn.recv)  # stop: the bot has stopped
        await tg.close()

    asyncio.run(serve())


async def _telegram(
    folder: Path, rate: float, duration: float, drain: float, in_process: bool, poll_interval: float
) -> dict[str, Any]:
    engine = _engine(folder, "telegram.db")
    service = TimedService(engine)
    loop = asyncio.get_running_loop()
    tg: TelegramEmulator | None = None
    if in_process:
        tg = _emulator()
        await tg.start()
        base_url = tg.base_url
    else:
        spawn = multiprocessing.get_context("spawn")
        conn, child = spawn.Pipe()
        server = spawn.Process(target=_emulator_process, args=(child, rate, duration))
        server.start()
        child.close()  # so that recv raises EOFError should the emulator's process die
        base_url = await loop.run_in_executor(None, conn.recv)
    bot = TelegramBot(
        service, TOKEN, base_url=base_url, poll_timeout=1, poll_interval=poll_interval
    )
    await bot.start()
    cpu_started = time.process_time()
    total = int(rate * duration)
    if tg is not None:
        started, produced, replies = await _load(tg, rate, duration)
    else:
        conn.send("go")
        started, produced, replies = await loop.run_in_executor(None, conn.recv)
    deadline = time.perf_counter() + drain
    while len(service.paired_at) < len(replies) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    finished = time.perf_counter()
    cpu = time.process_time() - cpu_started
    await bot.stop()
    if tg is not None:
        await tg.close()
    else:
        conn.send("stop")
        await loop.run_in_executor(None, server.join)
    engine.dispose()
    latencies = sorted(
        (service.paired_at[mid] - pushed) * 1000
        for mid, pushed in replies.items()
        if mid in service.paired_at
    )
    last = max(service.paired_at.values(), default=finished)
    return {
        "updates_sent": total,
        "send_rate_per_s": round(total / produced, 1),
        "processed_rate_per_s": round(service.handled / (last - started), 1),
        "pairs_expected": len(replies),
        "pairs_stored": len(latencies),
        "lost": len(replies) - len(latencies),
        "latency_ms": {
            "p50": round(_quantile(latencies, 0.50), 1),
            "p99": round(_quantile(latencies, 0.99), 1),
            "max": round(latencies[-1], 1) if latencies else None,
        },
        "drain_s": round(max(0.0, last - started - produced), 2),
        # CPU of the bot's process, every thread, per update handled: what the load asks of
        # the host, less sensitive to other people's load than latency is (the emulator's
        # process is not counted, unless --in-process)
        "bot_cpu_ms_per_update": round(cpu * 1000 / max(service.handled, 1), 3),
    }


async def _baseline(folder: Path, count: int) -> tuple[float, float]:
    """Messages/s the core stores when fed directly (no Telegram, no HTTP), and its CPU
    milliseconds per message."""
    engine = _engine(folder, "baseline.db")
    service = BotService(engine)

    class Silent:
        name = "telegram"

    now = datetime.now(UTC)
    started, cpu_started = time.perf_counter(), time.process_time()
    for n in range(count):
        i = n // 2
        question, answer = _texts(i)
        text, author = (question, 1 + i % USERS) if n % 2 == 0 else (answer, 1 + USERS + i % USERS)
        msg = ChatMessage(
            "telegram",
            str(CHAT),
            str(n + 1),
            str(author),
            f"user{author}",
            text,
            now,
            reply_to_id=str(n) if n % 2 else None,
        )
        await service.on_message(MessageEvent(msg), Silent())  # type: ignore[arg-type]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    return count / elapsed, cpu * 1000 / count


async def _ptb_parse(count: int) -> float:
    """CPU milliseconds python-telegram-bot itself spends turning one of this load's updates
    into an ``Update`` (``Update.de_json``, as ``Bot.get_updates`` does for every update):
    the part of ``bot_cpu_ms_per_update`` that is the client library's, measured in the same
    run on the same updates (a question, then a reply that quotes it)."""
    tg = _emulator()
    for n in range(2):
        question, answer = _texts(n)
        sent = await tg.post(CHAT, 1, question)
        await tg.post(CHAT, 1 + USERS, answer, reply_to=sent["message_id"])
    bodies = [json.loads(json.dumps(update)) for update in tg.log]  # as received over HTTP
    bot = Bot(TOKEN)
    started = time.process_time()
    for n in range(count):
        Update.de_json(bodies[n % len(bodies)], bot)
    return (time.process_time() - started) * 1000 / count


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="updates per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--drain", type=float, default=300.0, help="max seconds to catch up")
    parser.add_argument("--quick", action="store_true", help="3 s of load")
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=POLL_INTERVAL,
        help=f"seconds between getUpdates calls (the bot's default: {POLL_INTERVAL})",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="the emulator in the bot's process and event loop (the method before 2026-12)",
    )
    args = parser.parse_args()
    duration = 3.0 if args.quick else args.duration
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result = asyncio.run(
            _telegram(folder, args.rate, duration, args.drain, args.in_process, args.poll_interval)
        )
        baseline, baseline_cpu = asyncio.run(_baseline(folder, min(2000, result["updates_sent"])))
    ptb_parse = asyncio.run(_ptb_parse(5000))
    report = {
        "bench": "telegram_latency",
        "target_rate_per_s": args.rate,
        "duration_s": duration,
        "emulator": "in the bot's process" if args.in_process else "own process",
        "poll_interval_s": args.poll_interval,
        **result,
        "ptb_parse_cpu_ms_per_update": round(ptb_parse, 3),
        "baseline_core_rate_per_s": round(baseline, 1),
        "ratio_vs_core": round(result["processed_rate_per_s"] / baseline, 3),
        "baseline_core_cpu_ms_per_message": round(baseline_cpu, 3),
        "sustained_target": result["processed_rate_per_s"] >= 0.95 * args.rate,
        # issue 10 item 8: the rate sustained, nothing lost, update → stored p99 under 50 ms
        "goal_met": result["processed_rate_per_s"] >= 0.95 * args.rate
        and result["lost"] == 0
        and result["latency_ms"]["p99"] < GOAL_P99_MS,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
