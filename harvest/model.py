"""The platform-neutral message every source (exports, live bots, console) becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["ChatMessage", "Confidence", "PairMethod", "PairedAnswer", "Role"]


class Role(StrEnum):
    """A member's role in a community; experts and moderators rank first as answerers."""

    MODERATOR = "moderator"
    EXPERT = "expert"
    MEMBER = "member"


class PairMethod(StrEnum):
    """How an answer was tied to its question."""

    REPLY = "reply"  # the answer used the platform's reply feature
    THREAD = "thread"  # the answer sits in the question's thread / forum topic
    IMPLICIT = "implicit"  # linked without a reply (mention, "name:", next message)
    MANUAL = "manual"  # a moderator said so (console, correction of a bot answer)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat message, as every platform and export is translated to.

    Ids are strings because platforms disagree on their shape (Telegram ints,
    Discord snowflakes, export-local numbers). ``reply_to_id`` and ``thread_id`` are
    ids of messages in the same chat. ``sent_at`` is timezone-aware UTC.
    """

    platform: str
    chat_id: str
    message_id: str
    author_id: str
    author_name: str
    text: str
    sent_at: datetime
    reply_to_id: str | None = None
    thread_id: str | None = None
    is_bot: bool = False
    is_service: bool = False
    has_media: bool = False
    edited_at: datetime | None = None
    # Roles the source itself knows (e.g. DiscordChatExporter author.roles); informational.
    author_roles: tuple[str, ...] = field(default=())
    # For a Telegram forum: the first message of a topic replies to the topic's creation
    # service message; a source marks such roots so pairing does not treat them as replies.
    is_topic_root: bool = False


@dataclass(frozen=True, slots=True)
class Confidence:
    """How likely a pair is a good question → answer, in [0, 1], and why.

    ``rule``: how the answer was tied to the question (``reply``, ``thread``,
    ``implicit:addressed`` …); ``signals``: the features the score was computed from.
    """

    value: float
    rule: str
    signals: tuple[tuple[str, str | float | bool], ...] = ()

    def as_json(self) -> dict[str, object]:
        """The reason as stored on the pair and printed by ``fanqa pairs show --json``."""
        return {"rule": self.rule, "signals": dict(self.signals)}


@dataclass(frozen=True, slots=True)
class PairedAnswer:
    """A question and one candidate answer found by pairing (not yet stored)."""

    chat_id: str
    question_id: str
    answer_ids: tuple[str, ...]
    question_text: str
    answer_text: str
    asker_id: str
    answerer_id: str
    method: PairMethod
    # Higher ranks first: experts/moderators, replies over implicit links, earlier answers.
    score: float = 0.0
    # How likely the pair is good (the engine's scorer); None where nothing scored it.
    confidence: Confidence | None = field(default=None, compare=False)
