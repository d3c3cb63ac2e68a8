"""Scrub chat examples before they leave the machine (PII placeholders, see harvest.scrub)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harvest.scrub import PiiKind, scrub

__all__ = ["scrub_examples"]


def scrub_examples(
    examples: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, int], int]:
    """(scrubbed examples, replacements per kind, examples changed).

    Every message's content is scrubbed: system prompt, question and answer. The counts
    list every kind, zeros included, so a report shows what was looked for.
    """
    counts = {kind.value: 0 for kind in PiiKind}
    changed = 0
    out = []
    for example in examples:
        touched = False
        messages = []
        for message in example["messages"]:
            result = scrub(str(message.get("content", "")))
            for kind, n in result.counts.items():
                counts[kind.value] += n
            touched = touched or result.changed
            messages.append({**message, "content": result.text})
        changed += touched
        out.append({**example, "messages": messages})
    return out, counts, changed
