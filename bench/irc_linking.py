"""Score ImplicitLinker against human reply links in Ubuntu IRC logs; prints JSON.

The data is the development split of Kummerfeld et al. (ACL 2019), kept outside the
repository: ``--data DIR`` or ``FANQA_IRC_DATA`` (default /work/shared/realdata/ubuntu-irc-dev).
Each ``NAME.raw.txt`` line is a message (line number = id); ``NAME.annotation.txt`` holds
``PARENT CHILD -`` links. Predicted links (child → parent, self links excluded) are scored
for children in the annotated region, next to a baseline that links every message to the
previous one. The rule linker was tuned on this same split, so its figures are dev-set
figures; the learned linker (``harvest.reply_model``) was fitted on the training split and
only its regularisation was chosen on dev (``scripts/fit_linker.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harvest.linking import ImplicitLinker, LinkerConfig
from harvest.model import ChatMessage
from harvest.reply_model import LearnedLinker

DEFAULT_DATA = "/work/shared/realdata/ubuntu-irc-dev"
_CHAT_RE = re.compile(r"\[(\d\d):(\d\d)\] <([^>]+)> ?(.*)")
_ACTION_RE = re.compile(r"\[(\d\d):(\d\d)\]\s+\* (\S+) ?(.*)")
_TIME_RE = re.compile(r"\[(\d\d):(\d\d)\]")
_NAME_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")

Links = set[tuple[int, int]]  # (parent, child)


def read_log(path: Path) -> list[ChatMessage]:
    """One ChatMessage per raw line; ``===`` and unparsable lines become service messages."""
    m = _NAME_RE.match(path.name)
    day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC) if m else datetime(2000, 1, 1)
    day = day.replace(tzinfo=UTC)
    messages: list[ChatMessage] = []
    last = day
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines):
        chat = _CHAT_RE.match(line) or _ACTION_RE.match(line)
        stamp = _TIME_RE.match(line)
        sent_at = last
        if stamp is not None:
            sent_at = day + timedelta(hours=int(stamp[1]), minutes=int(stamp[2]))
            while sent_at < last - timedelta(hours=1):  # the log crossed midnight
                day += timedelta(days=1)
                sent_at += timedelta(days=1)
            last = max(last, sent_at)
        common = {"platform": "irc", "chat_id": path.name, "message_id": str(number)}
        if chat is None:
            messages.append(
                ChatMessage(
                    **common,
                    author_id="",
                    author_name="",
                    text=line,
                    sent_at=sent_at,
                    is_service=True,
                )
            )
            continue
        nick, text = chat[3], chat[4]
        if chat.re is _ACTION_RE:
            text = f"{nick} {text}"
        messages.append(
            ChatMessage(**common, author_id=nick, author_name=nick, text=text, sent_at=sent_at)
        )
    return messages


def read_links(path: Path) -> Links:
    """``PARENT CHILD -`` lines as (parent, child) pairs."""
    links: Links = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            links.add((int(parts[0]), int(parts[1])))
        except (ValueError, IndexError):
            raise SystemExit(_fail(f"{path}:{number}: not a 'PARENT CHILD' line")) from None
    return links


def linker_links(messages: Iterable[ChatMessage], config: LinkerConfig) -> Links:
    """Links the ImplicitLinker predicts, self links left out."""
    return set(linker_reasons(messages, config))


def linker_reasons(
    messages: Iterable[ChatMessage], config: LinkerConfig
) -> dict[tuple[int, int], str]:
    """Each predicted (parent, child) link with the linker rule that made it."""
    linker = ImplicitLinker(config)
    out: dict[tuple[int, int], str] = {}
    for msg in messages:
        parent = linker.feed(msg)
        if parent is not None and parent != msg.message_id:
            out[int(parent), int(msg.message_id)] = linker.last_reason or "?"
    return out


def learned_links(messages: Iterable[ChatMessage], config: LinkerConfig) -> Links:
    """Links the LearnedLinker (the shipped model) predicts, self links left out."""
    linker = LearnedLinker(config)
    out: Links = set()
    for msg in messages:
        parent = linker.feed(msg)
        if parent is not None and parent != msg.message_id:
            out.add((int(parent), int(msg.message_id)))
    return out


def previous_links(messages: Iterable[ChatMessage], config: LinkerConfig) -> Links:
    """Baseline: every chat message replies to the previous chat message."""
    out: Links = set()
    previous: str | None = None
    for msg in messages:
        if msg.is_service:
            continue
        if previous is not None:
            out.add((int(previous), int(msg.message_id)))
        previous = msg.message_id
    return out


def score(predicted: Links, gold: Links, first_child: int) -> dict[str, float | int]:
    """Precision / recall / F1 of links whose child is in the annotated region."""
    gold_links = {(p, c) for p, c in gold if p != c and c >= first_child}
    pred = {(p, c) for p, c in predicted if p != c and c >= first_child}
    hit = len(pred & gold_links)
    return _prf(hit, len(pred), len(gold_links))


def _prf(hit: int, predicted: int, gold: int) -> dict[str, float | int]:
    precision = hit / predicted if predicted else 0.0
    recall = hit / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "correct": hit,
        "predicted": predicted,
        "gold": gold,
    }


def _fail(message: str) -> str:
    return json.dumps({"error": message})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("FANQA_IRC_DATA", DEFAULT_DATA))
    args = parser.parse_args(argv)
    data = Path(args.data)
    raws = sorted(data.glob("*.raw.txt")) if data.is_dir() else []
    if not raws:
        print(_fail(f"no *.raw.txt files under {data} (set --data or FANQA_IRC_DATA)"))
        return 2
    config = LinkerConfig()
    systems: dict[str, Callable[[Iterable[ChatMessage], LinkerConfig], Links]] = {
        "linker": linker_links,
        "learned": learned_links,
        "baseline_previous": previous_links,
    }
    totals = {name: [0, 0, 0] for name in systems}
    reasons: dict[str, list[int]] = {}  # rule → [correct, predicted]
    files: dict[str, dict[str, dict[str, float | int]]] = {}
    seconds = 0.0
    count = 0
    for raw in raws:
        name = raw.name.removesuffix(".raw.txt")
        annotation = raw.with_name(f"{name}.annotation.txt")
        if not annotation.exists():
            continue
        gold = read_links(annotation)
        first_child = min(c for _, c in gold)
        messages = read_log(raw)
        for (parent, child), reason in linker_reasons(messages, config).items():
            if child >= first_child:
                counts = reasons.setdefault(reason, [0, 0])
                counts[0] += (parent, child) in gold
                counts[1] += 1
        files[name] = {}
        for system, run in systems.items():
            started = time.perf_counter()
            predicted = run(messages, config)
            if system == "linker":
                seconds += time.perf_counter() - started
                count += len(messages)
            result = score(predicted, gold, first_child)
            files[name][system] = result
            for i, key in enumerate(("correct", "predicted", "gold")):
                totals[system][i] += int(result[key])
    overall = {name: _prf(*totals[name]) for name in systems}
    lin, base = overall["linker"]["f1"], overall["baseline_previous"]["f1"]
    learned = overall["learned"]["f1"]
    report = {
        "data": str(data),
        "split": "dev (rules tuned on it; the learned model fitted on train, C chosen on dev)",
        "files": len(files),
        "overall": overall,
        "f1_ratio_vs_baseline": round(float(lin) / float(base), 3) if base else None,
        "learned_f1_ratio_vs_rules": round(float(learned) / float(lin), 3) if lin else None,
        "linker_precision_by_rule": {
            rule: {"correct": c, "predicted": p, "precision": round(c / p, 4)}
            for rule, (c, p) in sorted(reasons.items())
        },
        "linker_messages_per_s": round(count / seconds) if seconds else None,
        "per_file": files,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
