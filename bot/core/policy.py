"""What to answer: the answering policy of a chat, feedback reactions, and the posted answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from harvest.questions import detect_language

__all__ = [
    "FEEDBACK_DOWN",
    "FEEDBACK_UP",
    "AnswerPolicy",
    "effective_policy",
    "feedback_of",
    "format_answer",
    "should_answer",
]

FEEDBACK_UP = frozenset({"👍", "❤", "❤️", "🔥", "👏", "💯"})
FEEDBACK_DOWN = frozenset({"👎", "💩", "🤮"})


class AnswerPolicy:
    """The answering policies a chat can have.

    ``mention`` answers when the bot is mentioned or replied to, ``auto`` also answers a
    question nobody answered within the community's ``auto_answer_after_min``, ``off`` never.
    """

    MENTION = "mention"
    AUTO = "auto"
    OFF = "off"
    ALL = (MENTION, AUTO, OFF)


def effective_policy(chat_policy: str | None, community_policy: str | None) -> str:
    """The chat's own policy, else its community's; off when the chat is not linked."""
    return chat_policy or community_policy or AnswerPolicy.OFF


def should_answer(policy: str, *, mentions_bot: bool, is_correction: bool, question: str) -> bool:
    """Answer a new message now? Only when addressed, allowed, and there is a question."""
    return (
        mentions_bot and not is_correction and policy != AnswerPolicy.OFF and bool(question.strip())
    )


def feedback_of(emoji: str) -> str | None:
    """``up`` / ``down`` when a reaction on a bot answer is feedback, else None."""
    bare = emoji.rstrip("\ufe0f")
    if bare in FEEDBACK_UP or emoji in FEEDBACK_UP:
        return "up"
    if bare in FEEDBACK_DOWN or emoji in FEEDBACK_DOWN:
        return "down"
    return None


class AnswerLike(Protocol):
    """The parts of an answer that are posted."""

    @property
    def text(self) -> str: ...
    @property
    def abstained(self) -> bool: ...
    @property
    def sources(self) -> Sequence[int]: ...


def format_answer(
    result: AnswerLike, question: str, links: dict[int, str | None] | None = None
) -> str:
    """The text the bot posts: the answer, then its sources (pair ids, with links if known)."""
    if result.abstained:
        return result.text  # the notice, already in the asker's language, or silence
    shown = list(result.sources[:3])
    if not shown:
        return result.text
    links = links or {}
    parts = [f"#{pid} {links[pid]}" if links.get(pid) else f"#{pid}" for pid in shown]
    label = "来源" if detect_language(question) == "zh" else "Sources"
    return f"{result.text}\n\n{label}: {', '.join(parts)}"
