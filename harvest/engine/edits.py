"""What an edit or a delete of a message does to a pair already decided (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from harvest.engine.decisions import DecisionKind
from harvest.engine.rules import strip_address

__all__ = [
    "EDITED_AFTER_APPROVAL",
    "PairChange",
    "StoredPair",
    "decide_delete",
    "decide_edit",
]

EDITED_AFTER_APPROVAL = "edited after approval"


@dataclass(frozen=True, slots=True)
class StoredPair:
    """A stored pair as the edit rules need it: its status and the messages it is made of.

    ``answer_messages``: (message id, text) of the answer's messages in order, texts as
    they were before the edit.
    """

    pair_id: int
    status: str
    question_id: str
    question_text: str
    answer_messages: tuple[tuple[str, str], ...]
    answer_text: str
    asker_name: str = ""


@dataclass(frozen=True, slots=True)
class PairChange:
    """``update``: new texts, status kept; ``reopen``: an approved pair goes back to
    pending with the new texts; ``drop``: out of every dataset. ``reason`` is audited."""

    pair_id: int
    kind: DecisionKind
    question_text: str
    answer_text: str
    reason: str


def decide_edit(
    stored: StoredPair, message_id: str, old_text: str, new_text: str
) -> PairChange | None:
    """The change an edit of ``message_id`` (``old_text`` → ``new_text``) makes to a pair.

    The question line (or answer message) is replaced; an approved pair never changes
    silently: it is reopened. None when the pair's texts stay the same.
    """
    question = stored.question_text
    old, new = old_text.strip(), new_text.strip()
    if message_id == stored.question_id:
        question = question.replace(old, new, 1) if old and old in question else new
    answer = stored.answer_text
    ids = [mid for mid, _ in stored.answer_messages]
    if message_id in ids:
        texts = [new if mid == message_id else text.strip() for mid, text in stored.answer_messages]
        answer = strip_address("\n".join(t for t in texts if t), stored.asker_name)
    if (question, answer) == (stored.question_text, stored.answer_text):
        return None
    if stored.status == "approved":
        return PairChange(
            stored.pair_id, DecisionKind.REOPEN, question, answer, EDITED_AFTER_APPROVAL
        )
    return PairChange(stored.pair_id, DecisionKind.UPDATE, question, answer, "edited")


def decide_delete(stored: StoredPair, message_id: str) -> PairChange:
    """A deleted question or answer message takes its pair out of every future dataset."""
    return PairChange(
        stored.pair_id,
        DecisionKind.DROP,
        stored.question_text,
        stored.answer_text,
        f"message {message_id} deleted",
    )
