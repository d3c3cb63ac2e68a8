"""Streaming internals: tiny read sizes, generated exports checked against json.load."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harvest.exports import ExportChatInfo, read_telegram_export
from harvest.exports import _json as json_module
from harvest.exports import telegram as telegram_module
from harvest.exports._json import new_message
from harvest.model import ChatMessage


def _account(seed: int) -> dict[str, Any]:
    """A full-account export with chats of uneven sizes and nested entity texts."""
    rng = random.Random(seed)
    chats = []
    for chat_index in range(6):
        messages = []
        for msg_id in range(1, rng.randint(0, 40) + 1):
            text: Any = f"chat {chat_index} message {msg_id} 你好"
            if rng.random() < 0.3:
                text = ["see ", {"type": "link", "text": f"https://x.example/{msg_id}"}]
            messages.append(
                {
                    "id": msg_id,
                    "type": "message",
                    "date_unixtime": str(1_700_000_000 + msg_id),
                    "from": "Ann",
                    "from_id": "user7",
                    "text": text,
                }
            )
        chats.append(
            {
                "name": f"chat {chat_index}",
                "type": "personal_chat",
                "id": 100 + chat_index,
                "messages": messages,
            }
        )
    return {
        "about": "x",
        "chats": {"about": "y", "list": chats[:4]},
        "left_chats": {"about": "z", "list": chats[4:]},
    }


def _expected(export: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What the reader must yield, computed from the whole document in memory."""
    out = []
    for key in ("chats", "left_chats"):
        for chat in export[key]["list"]:
            out.append(("info", str(chat["id"]), chat["name"]))
            for message in chat["messages"]:
                text = message["text"]
                if isinstance(text, list):
                    text = "".join(p if isinstance(p, str) else p["text"] for p in text)
                out.append((str(chat["id"]), str(message["id"]), text))
    return out


def _actual(path: Path) -> list[tuple[str, str, str]]:
    return [
        ("info", i.chat_id, i.title)
        if isinstance(i, ExportChatInfo)
        else (i.chat_id, i.message_id, i.text)
        for i in read_telegram_export(path)
    ]


@pytest.mark.parametrize("chunk", [7, 64, 4096])
def test_account_export_any_read_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Chats split anywhere across reads still get exactly their own messages."""
    export = _account(seed=chunk)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    monkeypatch.setattr(telegram_module, "CHUNK", chunk)
    monkeypatch.setattr(json_module, "CHUNK", chunk)
    assert _actual(path) == _expected(export)


def test_account_scan_keeps_memory_flat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first pass never holds more than a read's worth of messages."""
    export = {
        "chats": {
            "list": [
                {
                    "name": "big",
                    "type": "personal_chat",
                    "id": 1,
                    "messages": [
                        {"id": i, "date_unixtime": "1700000000", "text": "x" * 20}
                        for i in range(1, 3001)
                    ],
                }
            ]
        }
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    monkeypatch.setattr(telegram_module, "CHUNK", 1024)
    peak = 0
    original = telegram_module._AccountScan.drain

    def spying_drain(self: Any, final: bool = False) -> None:
        nonlocal peak
        if self.root and self.root.get("chats", {}).get("list"):
            peak = max(peak, len(self.root["chats"]["list"][-1].get("messages", [])))
        original(self, final)

    monkeypatch.setattr(telegram_module._AccountScan, "drain", spying_drain)
    scan = telegram_module._scan_account(path)
    assert (scan.plans["chats"][0].count, peak < 30) == (3000, True)


def test_new_message_equals_the_dataclass_constructor() -> None:
    """The fast constructor fills the same fields, in the same order, as ChatMessage()."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    fast = new_message(
        "telegram",
        "1",
        "2",
        "3",
        "Ann",
        "hi",
        when,
        "1",
        "9",
        True,
        False,
        True,
        when,
        ("Mod",),
        True,
    )
    slow = ChatMessage(
        platform="telegram",
        chat_id="1",
        message_id="2",
        author_id="3",
        author_name="Ann",
        text="hi",
        sent_at=when,
        reply_to_id="1",
        thread_id="9",
        is_bot=True,
        is_service=False,
        has_media=True,
        edited_at=when,
        author_roles=("Mod",),
        is_topic_root=True,
    )
    assert (fast, hash(fast)) == (slow, hash(slow))
