"""Live harvesting throughput through the core (no platform): batches vs one at a time; JSON.

The same generated conversation (questions, replies, implicit answers, chatter over a few
chats) goes into a fresh SQLite database twice, in the same run:
- baseline: ``Harvester.handle_message`` per message, one transaction each (the path a bot
  takes when messages arrive one by one);
- batched: ``Harvester.handle_messages`` in batches, one short transaction per batch (what
  ``BotService`` does when messages arrive together).
Prints messages/s for both, their ratio, and the pairs found (which must be equal).
Usage: python bench/live_harvest.py [--messages 5000] [--batch 256] [--chats 4]
"""

from __future__ import annotations

import argparse
import json
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


def _pairs(engine: object) -> int:
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import QAPair

    with session_scope(engine) as s:  # type: ignore[arg-type]
        return int(s.execute(select(func.count()).select_from(QAPair)).scalar_one())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--chats", type=int, default=4)
    args = parser.parse_args()
    from bot.core.harvesting import Harvester

    events = _events(args.messages, args.chats)
    result: dict[str, object] = {"messages": args.messages, "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("one_at_a_time", "batched"):
            engine = _world(Path(tmp) / f"{name}.db", args.chats)
            harvester = Harvester(engine)  # type: ignore[arg-type]
            start = time.perf_counter()
            if name == "one_at_a_time":
                for event in events:
                    harvester.handle_message(event)  # type: ignore[arg-type]
            else:
                for i in range(0, len(events), args.batch):
                    harvester.handle_messages(events[i : i + args.batch])  # type: ignore[arg-type]
            seconds = time.perf_counter() - start
            result[name] = {
                "seconds": round(seconds, 2),
                "messages_per_s": round(len(events) / seconds),
                "pairs": _pairs(engine),
            }
    one, batched = result["one_at_a_time"], result["batched"]
    result["batched_vs_one_at_a_time"] = round(
        batched["messages_per_s"] / one["messages_per_s"],  # type: ignore[index]
        2,
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
