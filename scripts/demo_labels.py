"""The demo export's pair labels, derived from what its generator says each message is.

Used by ``scripts/make_label_fixtures.py`` (which writes every label set under
``bench/labels/``); kept apart because it reads the demo generator's topic tables rather than
hand-written chats.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
G, B = "good", "bad"


def demo_labels() -> dict[str, Any]:
    """Labels of the demo export, from what its generator says each message is.

    A message whose text is one of the demo's asked variants is a question; its gold
    answer is the first later staff message carrying (part of) that topic's answer. A
    member's hedge replying to it is a labelled ack; a staff answer that sits after
    another, still unanswered question of a different topic is that question's labelled
    wrong implicit link.
    """
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT))
    from demo_content import TOPICS
    from make_demo_export import HEDGES_EN, HEDGES_ZH

    from bot.demo import DEMO_EXPERTS, DEMO_MODERATORS

    staff = {f"user{k}" for k in (*DEMO_MODERATORS, *DEMO_EXPERTS)}
    export = json.loads((ROOT / "bot/demo/sample_telegram_export.json").read_text("utf-8"))
    msgs = [m for m in export["messages"] if m.get("type") == "message"]

    def text_of(m: dict[str, Any]) -> str:
        t = m.get("text", "")
        return (
            t if isinstance(t, str) else "".join(x if isinstance(x, str) else x["text"] for x in t)
        )

    asked = {}
    pieces: dict[str, list[str]] = {}
    for topic in TOPICS:
        for variant in (*topic.zh, *topic.en):
            asked[variant] = topic.key
        for answer in (topic.answer_zh, topic.answer_en):
            # the generator may split an answer at a sentence end into two messages
            parts = [p for p in re.split(r"(?<=[。.!?！？])\s*", answer) if len(p) > 8]
            pieces.setdefault(topic.key, []).extend(parts)
    hedges = set(HEDGES_ZH) | set(HEDGES_EN)
    pairs: list[dict[str, Any]] = []
    open_questions: list[tuple[dict[str, Any], str]] = []
    for m in msgs:
        text = text_of(m).strip()
        if text in asked:
            open_questions.append((m, asked[text]))
            continue
        if text in hedges and m.get("reply_to_message_id") is not None:
            pairs.append(
                {
                    "question": str(m["reply_to_message_id"]),
                    "answer": str(m["id"]),
                    "label": B,
                    "class": "ack",
                }
            )
            continue
        carries = [k for k, parts in pieces.items() if any(piece in text for piece in parts)]
        if m.get("from_id") not in staff:
            # a self-answer closes the asker's question
            open_questions = [
                (q, k)
                for q, k in open_questions
                if not (k in carries and q["from_id"] == m["from_id"])
            ]
            continue
        # the question it replies to, else the latest open one of its topic
        order = sorted(
            range(len(open_questions)),
            key=lambda i: (open_questions[i][0]["id"] != m.get("reply_to_message_id"), -i),
        )
        for i in order:
            q, key = open_questions[i]
            if key in carries and q["from_id"] != m["from_id"]:
                pairs.append({"question": str(q["id"]), "answer": str(m["id"]), "label": G})
                for other, other_key in open_questions[i + 1 :]:  # asked in between
                    if other_key != key:
                        pairs.append(
                            {
                                "question": str(other["id"]),
                                "answer": str(m["id"]),
                                "label": B,
                                "class": "wrong_implicit",
                            }
                        )
                del open_questions[i]
                break
    return {
        "dataset": "demo_export",
        "export": "bot/demo/sample_telegram_export.json",
        "pairs": pairs,
    }
