"""The engine's working state: question groups and answers being built."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from harvest.model import ChatMessage, PairMethod, Role

__all__ = ["Answer", "Group", "names", "newest", "retext"]

_K = TypeVar("_K")


class Group:
    """An author's consecutive messages in one place: a question may span several."""

    __slots__ = (
        "answered",
        "answers",
        "answers_to",
        "author_id",
        "closed",
        "detected",
        "last_at",
        "msgs",
        "natural",
        "qid",
        "qidx",
    )

    def __init__(self, msg: ChatMessage, at: float, asks: bool, natural: bool = False) -> None:
        self.author_id = msg.author_id
        self.msgs = [msg]
        self.last_at = at
        self.answered = False  # frozen once answered: later messages start a new group
        self.answers = 0
        self.natural = natural  # a thread starter that asks by nature (a forum post)
        self.qidx = 0 if (asks or natural) else -1  # the first message that asks
        self.detected = asks  # a message reads as a question (not only by nature)
        self.qid = ""
        # precision: set when these messages answer another member's question group
        self.answers_to: Group | None = None
        # precision: a forum topic's root once another member asked in the topic
        self.closed = False

    def add(self, msg: ChatMessage, at: float, asks: bool) -> None:
        if asks:
            self.detected = True
            if self.qidx < 0:
                self.qidx = len(self.msgs)
        self.msgs.append(msg)
        self.last_at = at

    def message(self, message_id: str | None) -> ChatMessage | None:
        """The message ``message_id`` when it is one of the group's."""
        for m in self.msgs:
            if m.message_id == message_id:
                return m
        return None

    def freeze(self) -> None:
        """Fix the question's id at its first answer."""
        if not self.qid:
            self.answered = True
            self.qid = self.msgs[max(self.qidx, 0)].message_id

    def text(self) -> str:
        msgs = self.msgs
        if len(msgs) == 1:
            return msgs[0].text.strip()
        return "\n".join([m.text.strip() for m in msgs])


class Answer:
    """An answer being built; it grows with its answerer's follow-ups within the window."""

    __slots__ = (
        "answerer",
        "emitted",
        "first_at",
        "group",
        "last_at",
        "link_probs",
        "method",
        "msgs",
        "position",
        "reason",
        "role",
    )

    def __init__(
        self,
        group: Group,
        msg: ChatMessage,
        at: float,
        method: PairMethod,
        reason: str,
        role: Role,
        link_prob: float | None = None,
    ) -> None:
        self.group = group
        self.msgs = [msg]
        self.answerer = msg.author_id
        self.first_at = self.last_at = at
        self.method = method
        self.reason = reason
        self.role = role
        # message id → the learned linker's probability for its decision on that message
        self.link_probs: dict[str, float] = {}
        if link_prob is not None:
            self.link_probs[msg.message_id] = link_prob
        self.emitted = False
        self.position = group.answers
        group.answers += 1

    def grow(self, msg: ChatMessage, at: float, link_prob: float | None = None) -> None:
        """A follow-up of the answerer joins the answer."""
        self.msgs.append(msg)
        self.last_at = at
        if link_prob is not None:
            self.link_probs[msg.message_id] = link_prob

    def key(self) -> tuple[str, str, str]:
        return (self.msgs[0].chat_id, self.group.qid, self.msgs[0].message_id)


def retext(msg: ChatMessage, message_id: str, text: str) -> ChatMessage:
    """``msg`` with ``text`` when it is ``message_id``, else ``msg`` itself."""
    return replace(msg, text=text) if msg.message_id == message_id else msg


def newest(groups: dict[_K, Group], keep: int) -> dict[_K, Group]:
    """The ``keep`` most recently active entries of ``groups`` (bounds memory)."""
    recent = sorted(groups.items(), key=lambda item: item[1].last_at)[-keep:]
    return dict(recent)


def names(text: str, name: str) -> bool:
    """Whether ``text`` opens with ``name`` (or ``@name``) as its addressee: "max82fr: run
    dmesg" names max82fr, however a linker tied the message to one of theirs."""
    wanted = name.strip().lower()
    head = text.lstrip().lstrip("@")[: len(wanted) + 1].lower()
    if len(wanted) < 2 or not head.startswith(wanted):
        return False
    rest = head[len(wanted) :]
    return not rest or not (rest.isalnum() or rest in "_-")
