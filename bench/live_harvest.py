"""Live harvesting throughput through the core (no platform): batches vs one at a time; JSON.

The same generated conversation (questions, replies, implicit answers, chatter over a few
chats) goes into a fresh SQLite database twice, in the same run:
- baseline: the per-message path, one transaction per message, each message its own
  ``INSERT … RETURNING`` and its pairs written one by one (what ``handle_message`` did before
  batches were written in bulk, kept in ``bench/legacy_live.py``);
- one_at_a_time: ``Harvester.handle_message`` per message (a batch of one);
- batched: ``Harvester.handle_messages`` in batches, one short transaction per batch (what
  ``BotService`` does when messages arrive together): the batch's messages in one multi-row
  insert, its pairs and their links in one executemany each.
Prints messages/s for each, the ratio of batched to the baseline, and whether all found the
same pairs (question, answer, method, status, source key).
Usage: python bench/live_harvest.py [--messages 5000] [--batch 256] [--chats 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_QUESTIONS = (
    "沪深300指数基金现在适合定投吗？",
    "赎回一般几天到账？",
    "How long does a redemption take to settle?",
    "Should I stop my DCA plan when the market drops?",
)
_ANSWERS = (
    "一般T+1确认，T+2到账，QDII会慢一些。",
    "Keep the plan running; the drop is exactly when DCA buys cheap units.",
    "Redemptions usually settle on T+2, QDII funds can take up to T+7.",
)
_CHAT = ("哈哈哈", "早上好各位", "thanks!", "good morning all", "周末愉快")


def _events(n: int, chats: int, seed: int = 7) -> list[object]:
    from bot.core.events import MessageEvent
    from harvest.model import ChatMessage

    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    last_q: dict[int, str] = {}
    out = []
    for i in range(n):
        chat = i % chats
        author = rng.randrange(40)
        roll = rng.random()
        reply = None
        if roll < 0.3:
            text = rng.choice(_QUESTIONS) + f" #{i}"
            last_q[chat] = str(i)
        elif roll < 0.55 and chat in last_q:
            text, author = rng.choice(_ANSWERS) + f" ({i})", 100 + rng.randrange(3)
            reply = last_q[chat] if rng.random() < 0.7 else None
        else:
            text = rng.choice(_CHAT)
        msg = ChatMessage(
            "bench",
            f"c{chat}",
            str(i),
            str(author),
            f"user {author}",
            text,
            t0 + timedelta(seconds=2 * i),
            reply_to_id=reply,
        )
        out.append(MessageEvent(msg))
    return out


def _world(path: Path, chats: int) -> object:
    from storage import make_engine, upgrade
    from storage.db import session_scope
    from storage.repo.communities import get_or_create_community, upsert_chat

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with session_scope(engine) as s:
        community = get_or_create_community(s, "bench")
        for chat in range(chats):
            upsert_chat(s, community.id or 0, "bench", f"c{chat}", f"chat {chat}")
    return engine


def _pairs(engine: object) -> list[tuple[object, ...]]:
    from sqlalchemy import select

    from storage.db import session_scope
    from storage.models import PairMessage, QAPair

    with session_scope(engine) as s:  # type: ignore[arg-type]
        pairs = s.execute(
            select(
                QAPair.source_key,
                QAPair.question_text,
                QAPair.answer_text,
                QAPair.method,
                QAPair.status,
                QAPair.content_hash,
            )
        ).all()
        links = s.execute(select(PairMessage.pair_id, PairMessage.message_id)).all()
    return [*sorted(tuple(p) for p in pairs), ("links", len(links))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--chats", type=int, default=4)
    args = parser.parse_args()
    from bench.legacy_live import handle_one_by_one
    from bot.core.harvesting import Harvester

    events = _events(args.messages, args.chats)
    result: dict[str, object] = {"messages": args.messages, "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        found = {}
        for name in ("baseline_per_message", "one_at_a_time", "batched"):
            engine = _world(Path(tmp) / f"{name}.db", args.chats)
            harvester = Harvester(engine)  # type: ignore[arg-type]
            start = time.perf_counter()
            if name == "baseline_per_message":
                handle_one_by_one(harvester, events)  # type: ignore[arg-type]
            elif name == "one_at_a_time":
                for event in events:
                    harvester.handle_message(event)  # type: ignore[arg-type]
            else:
                for i in range(0, len(events), args.batch):
                    harvester.handle_messages(events[i : i + args.batch])  # type: ignore[arg-type]
            seconds = time.perf_counter() - start
            result[name] = {
                "seconds": round(seconds, 2),
                "messages_per_s": round(len(events) / seconds),
            }
            found[name] = _pairs(engine)
            result[name]["pairs"] = len(found[name]) - 1  # type: ignore[index]
    rate = {k: v["messages_per_s"] for k, v in result.items() if isinstance(v, dict)}
    result["batched_vs_baseline"] = round(rate["batched"] / rate["baseline_per_message"], 2)
    result["one_at_a_time_vs_baseline"] = round(
        rate["one_at_a_time"] / rate["baseline_per_message"], 2
    )
    result["same_pairs"] = len({repr(v) for v in found.values()}) == 1
    result["goal_2000_per_s"] = rate["batched"] >= 2000
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
