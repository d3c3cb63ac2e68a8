"""Pairing rules shared by the engine: configuration, roles, answer ranking, addressing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from harvest.errors import InputError
from harvest.linking import LinkerConfig
from harvest.model import ChatMessage, PairMethod, Role
from harvest.questions import DEFAULT, QuestionConfig

__all__ = [
    "PairingConfig",
    "is_harvestable",
    "role_of",
    "score_answer",
    "strip_address",
]

_NO_ROLES: Mapping[str, Role] = MappingProxyType({})
_RANKED = (Role.MODERATOR, Role.EXPERT)
_METHOD_WEIGHT = {
    PairMethod.MANUAL: 3.0,
    PairMethod.REPLY: 2.0,
    PairMethod.THREAD: 1.5,
    PairMethod.IMPLICIT: 1.0,
}


@dataclass(frozen=True, slots=True)
class PairingConfig:
    """How a community's messages are paired.

    ``merge_window``: seconds within which an answerer's follow-ups join their answer
    (and an asker's follow-ups join their question). ``threads``: a thread / forum topic's
    first message is the question and other members' messages in it are answers.
    ``implicit``: messages without ``reply_to_id`` are linked by :class:`ImplicitLinker`.
    ``max_tracked``: recent messages remembered (memory stays flat on any import size).
    ``max_answer_parts``: the most messages one answer merges; the answerer's further
    follow-ups stay out of it (a busy chat's helper can chain a dozen lines within the
    window, an answer no moderator reads as one).
    ``forum_platforms``: platforms whose threads are long-lived forum topics (Telegram):
    a topic asks only when its first message is a question, where a thread started from
    a message elsewhere (a Discord forum post) asks by nature.
    ``precision`` (the precision rules of :mod:`harvest.answer_kinds`): acks, clarifying
    and counter-questions and the answerer's own follow-up questions are left out of
    answers; an asker's reply to their helper continues the exchange on the first
    question instead of making a pair; one message @mentioning several askers answers
    each; a forum topic stops being one question once another member asks in it; a
    message to a member on a line that asks nothing answers their newer question, or the
    question its author is helping them with (:meth:`Exchanges.answered`); a question
    linked by turn-taking only asks, it answers nothing; the answerer's talk with a third
    member stays out of their answer; a question about the one it is said to ("nick: have
    you tried X?") asks nothing to pair; a member's line to whoever helps them reports on
    their own problem and answers none of the helper's questions; a turn taken that opens
    by addressing someone else ("oga: …") answers not the asker; a channel bot's reply to
    a command said for a member ("!ipod | max82fr") answers that member's question; once
    the asker thanked a helper by a reply or a name, the helper's later message linked to
    the question by a guess (not the reply button) answers it no more. Off:
    the pairer without them (the pair-quality bench's baseline). ``learned_linking``:
    implicit links from :class:`harvest.reply_model.LearnedLinker` instead of the rules.
    """

    merge_window: float = 120.0
    threads: bool = True
    implicit: bool = True
    max_tracked: int = 20_000
    max_answer_parts: int = 6
    question: QuestionConfig = field(default=DEFAULT)
    linker: LinkerConfig | None = None
    forum_platforms: frozenset[str] = frozenset({"telegram"})
    precision: bool = True
    learned_linking: bool = False

    def __post_init__(self) -> None:
        if self.merge_window < 0:
            raise InputError("merge_window must be >= 0", field="merge_window")
        if self.max_tracked < 1:
            raise InputError("max_tracked must be >= 1", field="max_tracked")
        if self.max_answer_parts < 1:
            raise InputError("max_answer_parts must be >= 1", field="max_answer_parts")


def is_harvestable(msg: ChatMessage) -> bool:
    """A member's message with text: not a bot, not a service message, not media only."""
    text = msg.text
    return not (msg.is_bot or msg.is_service or not text or text.isspace())


def role_of(msg: ChatMessage, roles: Mapping[str, Role] = _NO_ROLES) -> Role:
    """The author's role: from ``roles`` by author id, else a role name the source gave."""
    role = roles.get(msg.author_id)
    if role is not None:
        return role
    for name in msg.author_roles:
        lowered = name.strip().lower()
        if lowered in ("moderator", "mod", "admin", "administrator", "owner", "creator"):
            return Role.MODERATOR
        if lowered == "expert":
            return Role.EXPERT
    return Role.MEMBER


def score_answer(role: Role, method: PairMethod, position: int = 0) -> float:
    """Rank of a candidate answer: experts/moderators first, then method, then earliest."""
    ranked = 10.0 if role in _RANKED else 0.0
    return ranked + _METHOD_WEIGHT[method] + 1.0 / (2 + max(position, 0))


_LEADING_AT = re.compile(r"^(?:@[\w.]+[\s,:，：、]*)+")
_ADDRESS_END = " \t\n,:，：、"


def strip_address(text: str, asker_name: str = "") -> str:
    """The answer without the mention of the asker it opens with.

    ``@bob try X`` and ``Bob, try X`` (a Telegram name mention is just the name) become
    ``try X``: who was addressed is not part of the answer a model should learn.
    """
    out = _LEADING_AT.sub("", text, count=1)
    name = asker_name.strip()
    if (
        out == text
        and name
        and text.startswith(name)
        and text[len(name) : len(name) + 1] in (_ADDRESS_END)
    ):
        out = text[len(name) :].lstrip(_ADDRESS_END)
    return out if out.strip() else text
