"""The committed demo export: size, mix, recurring topics, and that it is regenerated."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bot.demo import DEMO_CHAT_ID, DEMO_EXPERTS, DEMO_EXPORT, DEMO_MODERATORS
from harvest.exports import ExportChatInfo, read_export
from harvest.model import ChatMessage

ROOT = Path(__file__).resolve().parents[3]
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{4,}")


@pytest.fixture(scope="module")
def messages() -> list[ChatMessage]:
    """Every message of the demo export."""
    items = list(read_export(DEMO_EXPORT))
    assert isinstance(items[0], ExportChatInfo)
    return [i for i in items if isinstance(i, ChatMessage)]


@pytest.fixture(scope="module")
def content() -> Iterator[ModuleType]:
    """scripts/demo_content.py, the topics the generator draws from."""
    name = "fanqa_test_demo_content"
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts/demo_content.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def test_size_and_chat(messages: list[ChatMessage]) -> None:
    """At least 400 messages, all in the demo chat, spread over at least three weeks."""
    span = messages[-1].sent_at - messages[0].sent_at
    assert (len(messages) >= 400, {m.chat_id for m in messages}, span.days >= 21) == (
        True,
        {DEMO_CHAT_ID},
        True,
    )


def test_mix_of_message_kinds(messages: list[ChatMessage]) -> None:
    """Topics, roots, edits, media-only, bot posts, service messages, replies are all there."""
    counts = Counter(
        kind
        for m in messages
        for kind, present in (
            ("topic", m.is_service and m.text.startswith(("新手", "App"))),
            ("root", m.is_topic_root),
            ("thread", m.thread_id is not None),
            ("edited", m.edited_at is not None),
            ("media_only", m.has_media and not m.text),
            ("bot", m.is_bot),
            ("reply", m.reply_to_id is not None),
            ("chinese", bool(_HAN.search(m.text))),
            ("english", bool(_LATIN_WORD.search(m.text)) and not _HAN.search(m.text)),
        )
        if present
    )
    minimums = {
        "topic": 2,
        "root": 10,
        "thread": 20,
        "edited": 3,
        "media_only": 10,
        "bot": 2,
        "reply": 60,
        "chinese": 150,
        "english": 100,
    }
    assert {k: counts[k] >= v for k, v in minimums.items()} == dict.fromkeys(minimums, True)


def test_staff_answer_most_questions(messages: list[ChatMessage]) -> None:
    """The moderators and the expert are among the most active authors."""
    staff = set(DEMO_MODERATORS) | set(DEMO_EXPERTS)
    per_author = Counter(m.author_id for m in messages)
    assert {a: per_author[a] >= 25 for a in staff} == dict.fromkeys(staff, True)


def test_topics_recur_with_consistent_answers(
    messages: list[ChatMessage], content: ModuleType
) -> None:
    """Every paraphrase is asked; each topic's answer is given by staff at least 3 times."""
    texts = {m.text for m in messages}
    staff = set(DEMO_MODERATORS) | set(DEMO_EXPERTS)
    staff_texts = [m.text for m in messages if m.author_id in staff]
    questions = [q for t in content.TOPICS for q in (*t.zh, *t.en)]

    def answered(topic: object) -> int:
        heads = [getattr(topic, a)[:12] for a in ("answer_zh", "answer_en")]
        return sum(any(h.lower() in s.lower() for h in heads) for s in staff_texts)

    assert (
        len(questions) >= 60,
        len(content.TOPICS) >= 15,
        [q for q in questions if q not in texts],
        [t.key for t in content.TOPICS if answered(t) < 3],
    ) == (True, True, [], [])


def test_committed_file_matches_the_generator(tmp_path: Path) -> None:
    """Regenerating with the default seed reproduces the committed export byte for byte."""
    out = tmp_path / "demo.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/make_demo_export.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    summary = json.loads(result.stdout)
    assert (out.read_bytes() == DEMO_EXPORT.read_bytes(), summary["messages"] >= 400) == (
        True,
        True,
    )
