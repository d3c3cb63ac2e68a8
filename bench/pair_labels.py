"""The labelled chats that ``bench/pair_quality.py`` and ``bench/link_ceiling.py`` score.

Hand labels (``bench/labels/NAME.json``, question and answer by message id, each pair good
or bad with its failure class) over the demo export, a Discord support channel and a
Telegram forum group written in the exporters' formats (``tests/fixtures/labelled/``), and
regions of the Ubuntu IRC dev logs by line number, the logs read from ``../shared/realdata``
(CC BY 4.0; not in this repository). A region whose log is not there is left out, and its
name reported to the caller.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.irc_linking import read_log
from bot.demo import DEMO_EXPERTS, DEMO_MODERATORS
from harvest.exports import ExportChatInfo, read_export
from harvest.model import ChatMessage, Role
from harvest.pairing import role_of

__all__ = ["DEFAULT_IRC", "IRC_LABELS", "LABELS", "ROOT", "Dataset", "load_datasets"]

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "labels"
DEFAULT_IRC = "/work/shared/realdata/ubuntu-irc-dev"
# IRC label files (bench/labels/NAME.json); irc_dev's held-out logs form irc_dev_heldout.
IRC_LABELS = ("irc_dev", "irc_fresh", *(f"irc_blind{n}" for n in ("", 2, 3, 4, 5, 6)))


@dataclass
class Dataset:
    """One labelled chat: its messages, roles and labels."""

    name: str
    messages: list[ChatMessage]
    roles: Mapping[str, Role]
    good: set[tuple[str, str]]  # (question id, answer id)
    bad: dict[tuple[str, str], str]  # (question id, answer id) → failure class
    scope: list[tuple[int, int]] | None  # labelled line ranges (IRC), None: everything
    authors: dict[str, str] = field(init=False, repr=False)  # message id → author

    def __post_init__(self) -> None:
        self.authors = {m.message_id: m.author_id for m in self.messages}

    def answer_units(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """(asker, answer message) of each (question, answer) pair: the labels attach one
        answer to each line of a question spread over several, a harvested pair has one."""
        return {(self.authors.get(q, q), a) for q, a in pairs}

    def in_scope(self, message_id: str) -> bool:
        if self.scope is None:
            return True
        n = int(message_id)
        return any(lo <= n <= hi for lo, hi in self.scope)


def _labels(path: Path) -> tuple[set[tuple[str, str]], dict[tuple[str, str], str], dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    good = {(p["question"], p["answer"]) for p in data["pairs"] if p["label"] == "good"}
    bad = {(p["question"], p["answer"]): p["class"] for p in data["pairs"] if p["label"] == "bad"}
    return good, bad, data


def load_datasets(irc_data: Path, skipped: list[str] | None = None) -> list[Dataset]:
    """Every labelled dataset whose messages are available (the IRC logs' names that are not
    under ``irc_data`` are added to ``skipped``)."""
    out: list[Dataset] = []
    for name in ("demo_export", "discord_support", "telegram_forum"):
        good, bad, data = _labels(LABELS / f"{name}.json")
        msgs = [m for m in read_export(ROOT / data["export"]) if not isinstance(m, ExportChatInfo)]
        roles: dict[str, Role] = {m.author_id: role_of(m) for m in msgs if m.author_roles}
        if name == "demo_export":
            roles |= {k: Role.MODERATOR for k in DEMO_MODERATORS}
            roles |= {k: Role.EXPERT for k in DEMO_EXPERTS}
        out.append(Dataset(name, msgs, roles, good, bad, None))
    for name in IRC_LABELS:
        good, bad, data = _labels(LABELS / f"{name}.json")
        for log in data["logs"]:
            raw = irc_data / f"{log['name']}.raw.txt"
            if not raw.exists():
                if skipped is not None:
                    skipped.append(f"{data['dataset']}:{log['name']}")
                continue
            prefix = log["name"] + ":"
            msgs = read_log(raw)
            g = {(q, a) for q, a in good if q.startswith(prefix)}
            b = {k: v for k, v in bad.items() if k[0].startswith(prefix)}
            strip = len(prefix)
            group = data["dataset"]
            if group == "irc_dev" and log.get("heldout"):
                group = "irc_dev_heldout"
            out.append(
                Dataset(
                    f"{group}:{log['name']}",
                    msgs,
                    {},
                    {(q[strip:], a[strip:]) for q, a in g},
                    {(q[strip:], a[strip:]): v for (q, a), v in b.items()},
                    [tuple(r) for r in log["ranges"]],  # type: ignore[misc]
                )
            )
    return out
