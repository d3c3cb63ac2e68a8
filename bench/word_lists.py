"""The RE2 screens in front of the engine's word lists: pairing speed with and without; JSON.

Real chat lines rarely repeat, so the engine's memo does not spare it the word lists ("can't
help", "off topic", thanks, small talk, trouble told: ``harvest.screened``). This feeds
messages through the harvest engine twice in the same run and process: with every screen
(what ships) and, as the baseline, with each pattern searched by Python's ``re`` alone
(the question detector's alternations included). Both
must find the same pairs. Two workloads: the Ubuntu IRC dev logs (real lines, read from
``--irc-data``; skipped when absent) and the live Telegram bench's conversation (distinct
question / reply texts, fed one at a time as the bot does).

    .venv/bin/python bench/word_lists.py [--irc-data DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import harvest.answer_kinds
import harvest.engine.exchanges
import harvest.question_rules
from bench.irc_linking import read_log
from harvest.engine.core import HarvestEngine
from harvest.model import ChatMessage
from harvest.pairing import PairingConfig, pair_all
from harvest.screened import Screened

DEFAULT_IRC = "/work/shared/realdata/ubuntu-irc-dev"


def _screened() -> list[Screened]:
    modules = (harvest.answer_kinds, harvest.engine.exchanges, harvest.question_rules)
    return [v for m in modules for v in vars(m).values() if isinstance(v, Screened)]


def _always(self: Screened, text: str) -> bool:
    return True


@contextmanager
def _without_screens() -> Iterator[None]:
    """Every screened pattern (the word lists, the question detectors') searched by ``re``."""
    screened = Screened.possible
    Screened.possible = _always  # type: ignore[method-assign]
    try:
        yield
    finally:
        Screened.possible = screened  # type: ignore[method-assign]


def _live_messages(n: int) -> list[ChatMessage]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for k in range(n):
        i = k // 2
        asks = k % 2 == 0
        out.append(
            ChatMessage(
                platform="telegram",
                chat_id="-100",
                message_id=str(k + 1),
                author_id=str(1 + i % 200 if asks else 201 + i % 200),
                author_name=f"user{1 + i % 200 if asks else 201 + i % 200}",
                text=(
                    f"How do I redeem fund number {i} before the cut-off?"
                    if asks
                    else f"Open the app, pick fund {i} and tap Redeem; it settles in T+2."
                ),
                sent_at=start + timedelta(milliseconds=k),
                reply_to_id=None if asks else str(k),
            )
        )
    return out


def _timed(run: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def _compare(messages: list[ChatMessage], run: Callable[[], Any], rounds: int) -> dict[str, Any]:
    """Alternating rounds, best of each, so drift on a shared machine hits both alike."""
    screened_s, screened_out = _timed(run, 1)
    with _without_screens():
        plain_s, plain_out = _timed(run, 1)
    for _ in range(rounds - 1):
        screened_s = min(screened_s, _timed(run, 1)[0])
        with _without_screens():
            plain_s = min(plain_s, _timed(run, 1)[0])
    n = len(messages)
    return {
        "messages": n,
        "screened_messages_per_s": round(n / screened_s),
        "baseline_re_only_messages_per_s": round(n / plain_s),
        "ratio": round(plain_s / screened_s, 2),
        "same_pairs": screened_out == plain_out,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--irc-data", default=os.environ.get("FANQA_IRC_DATA", DEFAULT_IRC))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "bench": "word_lists",
        "word_list_screens": len(_screened()),  # and each question detector's own four
    }
    logs = sorted(Path(args.irc_data).glob("*.raw.txt"))
    if logs:
        chats = [read_log(p) for p in logs]
        messages = [m for chat in chats for m in chat]

        def irc() -> list[Any]:
            return [pair_all(chat, PairingConfig()) for chat in chats]

        report["irc_dev_import"] = _compare(messages, irc, args.rounds)
    live = _live_messages(20_000)

    def fed() -> list[Any]:
        engine = HarvestEngine(PairingConfig(), incremental=True)
        return [engine.feed(m).decisions for m in live]

    report["telegram_bench_live"] = _compare(live, fed, args.rounds)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
