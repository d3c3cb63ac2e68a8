"""Write a large, realistic Telegram Desktop export for the reader benchmarks (prints JSON)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

__all__ = ["generate"]

_START_UNIX = 1_704_067_200  # 2024-01-01T00:00:00Z
_FLUSH_EVERY = 2_000

_QUESTIONS = (
    "沪深300指数基金现在适合定投吗？",
    "请问定投是每周好还是每月好？",
    "C类份额和A类份额有什么区别？",
    "赎回一般几天到账？",
    "QDII基金为什么限购了？",
    "医疗基金跌这么多还能拿吗？",
    "债券基金会亏钱吗？",
    "Is it better to DCA weekly or monthly?",
    "What does the management fee actually cover?",
    "How long does a redemption take to settle?",
    "Why is my QDII fund's NAV a day late?",
    "Any thoughts on bond funds when rates go up?",
    "How do I switch from share class A to C in the app?",
    "Should I stop my DCA plan when the market drops?",
)
_ANSWERS = (
    "一般T+1确认，T+2到账，QDII会慢一些。",
    "长期看差别不大，选一个你能坚持的频率就行。",
    "C类没有申购费但有销售服务费，持有不到一年选C更划算。",
    "限购是因为外汇额度用完了，可以换同类的其他基金。",
    "先看自己的仓位和期限，不建议追涨杀跌。",
    "纯债基金波动小，但利率上行时也会有回撤。",
    "It mostly pays the fund manager and custody; check the fund's prospectus.",
    "Weekly or monthly barely matters over ten years, consistency matters more.",
    "Redemptions usually settle on T+2, QDII funds can take up to T+7.",
    "QDII NAVs are published a day later because foreign markets close later.",
    "Keep the plan running; the drop is exactly when DCA buys cheap units.",
)
_CHAT = (
    "哈哈哈",
    "早上好各位",
    "今天又绿了😭",
    "收到，谢谢！",
    "thanks!",
    "good morning all",
    "lol same",
    "👍",
    "谢谢老师",
    "明白了",
    "anyone here from Shenzhen?",
    "周末愉快",
)
_NAMES = ("Alice", "老王", "Bob", "小李", "Carol", "阿强", "Dave", "Eve", "基金小白", "Frank")
_EXPERTS = (("Lin 老师", 7001), ("Grace (admin)", 7002))


def _entity(kind: str, text: str) -> str:
    """One entity object, indented like Telegram Desktop writes it inside a message."""
    return (
        f'{{\n     "type": "{kind}",\n     "text": {json.dumps(text, ensure_ascii=False)}\n    }}'
    )


def _text_fields(rng: random.Random, text: str) -> str:
    """``text`` (a string, or now and then a list with entities) and ``text_entities``."""
    roll = rng.random()
    if roll < 0.08:
        link = f"https://example.com/fund/{rng.randrange(100000, 999999)}"
        parts: list[tuple[str, str]] = [("plain", text + " 参考："), ("link", link)]
    elif roll < 0.12:
        parts = [("mention", "@" + rng.choice(_NAMES)), ("plain", " " + text)]
    else:
        parts = [("plain", text)]
    entities = "[\n    " + ",\n    ".join(_entity(k, t) for k, t in parts) + "\n   ]"
    if len(parts) == 1:
        value = json.dumps(text, ensure_ascii=False)
    else:
        items = [
            json.dumps(t, ensure_ascii=False) if k == "plain" else _entity(k, t) for k, t in parts
        ]
        value = "[\n    " + ",\n    ".join(items) + "\n   ]"
    return f'   "text": {value},\n   "text_entities": {entities}\n'


def _distinct(rng: random.Random, text: str) -> str:
    """``text`` made unique the way real lines are (a fund code in it), its end kept."""
    code = f"{rng.randrange(100000, 999999)}"
    if text[-1:] in "?？":
        return f"{text[:-1]} {code}{text[-1]}"
    return f"{text} #{code}"


def _message(
    rng: random.Random, msg_id: int, unix: int, last_question: int | None, distinct: bool = False
) -> tuple[str, bool]:
    """One message object, pretty-printed the way Telegram Desktop writes it; is it a question?"""
    roll = rng.random()
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix))
    head = (
        f'  {{\n   "id": {msg_id},\n   "type": "message",\n   "date": "{when}",\n'
        f'   "date_unixtime": "{unix}",\n'
    )
    if roll < 0.005:
        return (
            f'  {{\n   "id": {msg_id},\n   "type": "service",\n   "date": "{when}",\n'
            f'   "date_unixtime": "{unix}",\n   "actor": "Grace (admin)",\n'
            f'   "actor_id": "user7002",\n   "action": "pin_message",\n'
            f'   "message_id": {max(1, msg_id - 3)},\n   "text": "",\n'
            '   "text_entities": []\n  }'
        ), False
    reply = ""
    is_question = roll < 0.30
    if is_question:
        name = rng.choice(_NAMES)
        user = 1000 + _NAMES.index(name)
        text = rng.choice(_QUESTIONS)
    elif roll < 0.55 and last_question is not None:
        name, user = rng.choice(_EXPERTS)
        text = rng.choice(_ANSWERS)
        if rng.random() < 0.7:
            reply = f'   "reply_to_message_id": {last_question},\n'
    else:
        name = rng.choice(_NAMES)
        user = 1000 + _NAMES.index(name)
        text = rng.choice(_CHAT)
    if distinct:
        text = _distinct(rng, text)
    author = f'   "from": {json.dumps(name, ensure_ascii=False)},\n   "from_id": "user{user}",\n'
    extra = ""
    if rng.random() < 0.03:
        edited = unix + rng.randrange(30, 600)
        extra += (
            f'   "edited": "{time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(edited))}",\n'
            f'   "edited_unixtime": "{edited}",\n'
        )
    if rng.random() < 0.04:
        extra += (
            f'   "photo": "photos/photo_{msg_id}@01-01-2024_00-00-00.jpg",\n'
            '   "width": 1280,\n   "height": 720,\n'
        )
    body = head + author + extra + reply + _text_fields(rng, text) + "  }"
    return body, is_question


def generate(
    path: str | Path, n_messages: int, seed: int = 0, *, distinct: bool = False
) -> dict[str, object]:
    """Write a single-chat export of ``n_messages`` messages; return size and timing.

    ``distinct``: every text unique (a fund code added), as in a real chat, where the
    engine's memo of recent texts rarely hits; by default the texts repeat a few dozen
    templates."""
    rng = random.Random(seed)
    started = time.perf_counter()
    target = Path(path)
    unix = _START_UNIX
    last_question: int | None = None
    with target.open("w", encoding="utf-8") as out:
        out.write(
            '{\n "name": "基金定投交流群 / Fund DCA club (bench)",\n'
            ' "type": "private_supergroup",\n "id": 1700000001,\n "messages": [\n'
        )
        buffer: list[str] = []
        for msg_id in range(1, n_messages + 1):
            unix += rng.randrange(5, 240)
            text, is_question = _message(rng, msg_id, unix, last_question, distinct)
            if is_question:
                last_question = msg_id
            buffer.append(text)
            if len(buffer) >= _FLUSH_EVERY:
                out.write(",\n".join(buffer))
                buffer.clear()
                if msg_id < n_messages:
                    out.write(",\n")
        if buffer:
            out.write(",\n".join(buffer))
        out.write("\n ]\n}\n")
    return {
        "path": str(target),
        "messages": n_messages,
        "bytes": target.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python bench/gen_export.py OUT.json -n 1000000 --seed 1``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("-n", "--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--distinct", action="store_true", help="every text unique")
    args = parser.parse_args(argv)
    json.dump(generate(args.path, args.messages, args.seed, distinct=args.distinct), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
