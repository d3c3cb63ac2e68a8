"""Pairing throughput on synthetic group chat (EN + ZH, replies, threads); prints JSON.

Messages are generated in memory first (fixed seed), so only pairing is timed. The
baseline in the same run is a bare loop over the same messages that reads the fields
pairing reads, so the ratio says what pairing costs above touching the data at all.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harvest.model import ChatMessage, Role
from harvest.pairing import Pairer, PairingConfig

QUESTIONS = (
    "How do I redeem my fund units before the cut-off?",
    "请问重疾险的等待期是多久",
    "anyone know if the claim form can be submitted online",
    "这个基金可以随时赎回吗",
    "Is there a way to pin the docker image version",
    "副本掉落率怎么样",
)
CHATTER = (
    "lol that boss fight was brutal",
    "今天基金涨了不少！",
    "Merged the PR, release goes out tomorrow",
    "谢谢",
    "ok",
    "我在开会呢，晚点回复",
    "The fund's NAV dropped 2% today",
)
ANSWERS = (
    "Use the app: Assets > Redeem, before 15:00 on a trading day.",
    "一般是90天，具体看合同条款。",
    "yes, under Claims > New claim",
    "可以，T+1 到账",
    "pin it with image: name@sha256:...",
)


def generate(count: int, seed: int = 7) -> list[ChatMessage]:
    """A chronological stream: ~25% questions, ~35% replies, follow-ups, topics, noise."""
    rng = random.Random(seed)
    members = [f"u{i}" for i in range(400)]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    out: list[ChatMessage] = []
    recent_questions: list[ChatMessage] = []
    last_answer: ChatMessage | None = None
    for i in range(count):
        author = rng.choice(members)
        at = start + timedelta(seconds=i * 7)
        mid = str(i)
        roll = rng.random()
        chat = f"c{i % 3}"
        reply_to = thread = None
        text: str
        if roll < 0.25:
            text = rng.choice(QUESTIONS)
        elif roll < 0.6 and recent_questions:
            q = rng.choice(recent_questions[-20:])
            reply_to, text, thread = q.message_id, rng.choice(ANSWERS), q.thread_id
            chat = q.chat_id
        elif roll < 0.7 and last_answer is not None:
            author, text = last_answer.author_id, "also check the FAQ"
        elif roll < 0.75:
            thread = str(rng.randrange(max(i - 500, 1), i + 1))
            text = rng.choice(ANSWERS + QUESTIONS)
        else:
            text = rng.choice(CHATTER)
        msg = ChatMessage(
            platform="telegram",
            chat_id=chat,
            message_id=mid,
            author_id=author,
            author_name=author.upper(),
            text=text if rng.random() > 0.02 else "",
            sent_at=at,
            reply_to_id=reply_to,
            thread_id=thread,
            is_bot=rng.random() < 0.01,
            has_media=rng.random() < 0.03,
        )
        out.append(msg)
        if roll < 0.25:
            recent_questions.append(msg)
        if reply_to is not None:
            last_answer = msg
    return out


def bare_loop(messages: list[ChatMessage]) -> int:
    """Baseline: touch the fields pairing reads, pair nothing."""
    n = 0
    for m in messages:
        if m.text and not m.is_bot and m.reply_to_id is not m.thread_id:
            n += len(m.author_id)
    return n


def timed(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def pair(messages: list[ChatMessage], config: PairingConfig) -> int:
    roles = {"u1": Role.EXPERT, "u2": Role.MODERATOR}
    pairer = Pairer(config, roles)
    n = 0
    for m in messages:
        n += len(pairer.feed(m))
    return n + len(pairer.flush())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also trace peak memory (slow)")
    args = parser.parse_args(argv)
    messages = generate(args.messages)
    base_s, _ = timed(lambda: bare_loop(messages), args.repeat)
    report: dict[str, object] = {
        "messages": len(messages),
        "baseline_bare_loop_msgs_per_s": round(len(messages) / base_s),
    }
    for name, config in (
        ("replies_threads_only", PairingConfig(implicit=False)),
        ("with_implicit_linking", PairingConfig()),
    ):
        seconds, pairs = timed(lambda c=config: pair(messages, c), args.repeat)
        report[name] = {
            "msgs_per_s": round(len(messages) / seconds),
            "pairs": pairs,
            "slowdown_vs_baseline": round(seconds / base_s, 1),
        }
    if args.memory:  # flat memory: the peak for half of the stream and for all of it
        peaks = {}
        for size in (len(messages) // 2, len(messages)):
            part = messages[:size]
            tracemalloc.start()
            pair(part, PairingConfig())
            peaks[str(size)] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            tracemalloc.stop()
        report["peak_traced_mib_by_messages"] = peaks
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
