"""Turn a chronological stream of chat messages into question → answer pairs."""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from harvest.answer_kinds import AnswerKind, answer_kind
from harvest.errors import InputError
from harvest.linking import ImplicitLinker, LinkerConfig
from harvest.model import ChatMessage, PairedAnswer, PairMethod, Role
from harvest.quality import is_answer_like
from harvest.questions import DEFAULT, QuestionConfig, is_question
from harvest.reply_model import LearnedLinker

__all__ = [
    "Pairer",
    "PairingConfig",
    "answer_for_reply",
    "is_harvestable",
    "pair_all",
    "role_of",
    "score_answer",
    "should_merge",
    "strip_address",
]

_NO_ROLES: Mapping[str, Role] = MappingProxyType({})
_K = TypeVar("_K")
_RANKED = (Role.MODERATOR, Role.EXPERT)
# Linker reasons that only follow turn-taking (not a name): they do not end an answer.
_WEAK_LINKS = frozenset({"called", "continuation"})
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
    ``precision``: the precision rules (see :mod:`harvest.answer_kinds`): acks, clarifying
    and counter-questions and the helper's own follow-up questions are dropped from
    answers; an asker's reply to their helper continues the exchange on the first
    question instead of starting a pair; one message @mentioning several askers answers
    each; a long-lived topic (Telegram forum) is not a question by itself. Off: the
    pairer without them (the bench's baseline). ``learned_linking``: implicit links come
    from :class:`harvest.reply_model.LearnedLinker` (the shipped model) instead of the rules.
    """

    merge_window: float = 120.0
    threads: bool = True
    implicit: bool = True
    max_tracked: int = 20_000
    question: QuestionConfig = field(default=DEFAULT)
    linker: LinkerConfig | None = None
    precision: bool = True
    learned_linking: bool = False

    def __post_init__(self) -> None:
        if self.merge_window < 0:
            raise InputError("merge_window must be >= 0", field="merge_window")
        if self.max_tracked < 1:
            raise InputError("max_tracked must be >= 1", field="max_tracked")


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


def should_merge(prev: ChatMessage, nxt: ChatMessage, window: float) -> bool:
    """True when ``nxt`` continues ``prev``: same author and place, within ``window`` s.

    ``nxt`` may reply to nothing, to ``prev`` or to what ``prev`` replied to; a reply to
    anything else starts something new.
    """
    if (
        prev.author_id != nxt.author_id
        or prev.chat_id != nxt.chat_id
        or prev.platform != nxt.platform
        or prev.thread_id != nxt.thread_id
        or not is_harvestable(nxt)
    ):
        return False
    gap = (nxt.sent_at - prev.sent_at).total_seconds()
    if not 0 <= gap <= window:
        return False
    target = nxt.reply_to_id
    return target is None or target == prev.message_id or target == prev.reply_to_id


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


def answer_for_reply(
    question: ChatMessage,
    reply: ChatMessage,
    roles: Mapping[str, Role] = _NO_ROLES,
    config: QuestionConfig = DEFAULT,
) -> PairedAnswer | None:
    """The pair made by ``reply`` answering ``question`` with the reply button, if any.

    For the live bot, one message at a time: ``reply`` must reply to ``question`` (a
    topic root never does), come from another member, and ``question`` must read as one,
    unless it starts its own thread (a Discord forum post: ``thread_id == message_id``),
    which asks by nature, as the importer also treats it.
    """
    starts_thread = question.thread_id is not None and question.thread_id == question.message_id
    if (
        reply.reply_to_id != question.message_id
        or reply.is_topic_root
        or reply.chat_id != question.chat_id
        or reply.author_id == question.author_id
        or not is_harvestable(reply)
        or not is_harvestable(question)
        or not (starts_thread or is_question(question.text, config))
        or not is_answer_like(reply.text)
    ):
        return None
    return PairedAnswer(
        chat_id=question.chat_id,
        question_id=question.message_id,
        answer_ids=(reply.message_id,),
        question_text=question.text.strip(),
        answer_text=strip_address(reply.text.strip(), question.author_name),
        asker_id=question.author_id,
        answerer_id=reply.author_id,
        method=PairMethod.REPLY,
        score=score_answer(role_of(reply, roles), PairMethod.REPLY),
    )


class _Group:
    """An author's consecutive messages in one place: a question may span several."""

    __slots__ = (
        "answered",
        "answers",
        "answers_to",
        "author_id",
        "checked",
        "closed",
        "last_at",
        "msgs",
        "qid",
        "qidx",
        "qtext",
    )

    def __init__(self, msg: ChatMessage, at: float, root: bool = False) -> None:
        self.author_id = msg.author_id
        # Set when these messages answer another member's question (the exchange's question).
        self.answers_to: _Group | None = None
        # A topic root: another member asked in the topic, so it is no longer one question.
        self.closed = False
        self.msgs = [msg]
        self.last_at = at
        self.answered = False  # frozen once answered: later messages start a new group
        self.answers = 0
        self.checked = 1 if root else 0  # messages looked at by is_question ...
        self.qidx = 0 if root else -1  # ... and the first that is a question (a root is)
        self.qid = ""
        self.qtext = ""

    def is_question(self, detect: Callable[[ChatMessage], bool]) -> bool:
        msgs = self.msgs
        if self.qidx < 0:
            for i in range(self.checked, len(msgs)):
                if detect(msgs[i]):
                    self.qidx = i
                    break
            self.checked = len(msgs)
        return self.qidx >= 0

    def freeze(self) -> None:
        """Fix the question's id and text at its first answer."""
        if self.qid:
            return
        self.answered = True
        msgs = self.msgs
        self.qid = msgs[self.qidx if self.qidx > 0 else 0].message_id
        if len(msgs) == 1:
            self.qtext = msgs[0].text.strip()
        else:
            self.qtext = "\n".join([m.text.strip() for m in msgs])


class _Answer:
    """An answer being built; emitted once its answerer's merge window has passed."""

    __slots__ = ("answerer", "group", "last_at", "method", "msgs", "position", "role")

    def __init__(
        self, group: _Group, msg: ChatMessage, at: float, method: PairMethod, role: Role
    ) -> None:
        self.group = group
        self.msgs = [msg]
        self.answerer = msg.author_id
        self.last_at = at
        self.method = method
        self.role = role
        self.position = group.answers
        group.answers += 1


class Pairer:
    """Incremental pairing: ``feed`` messages in order, collect what it returns, ``flush``.

    Memory is bounded by ``config.max_tracked`` recent messages, whatever the stream's
    length. Rules: an explicit reply (or, with ``implicit``, a linked message) from another
    member to a question (or to any message of a question group: an asker's consecutive
    messages within the merge window) is an answer; the answerer's follow-ups within the
    window that reply to nobody else are merged into it; with ``threads``, other members'
    messages in a thread / forum topic answer its first message. Bots, service, empty and
    media-only messages, self-answers and topic roots (which "reply" to the topic's
    creation) never answer.
    """

    def __init__(
        self, config: PairingConfig | None = None, roles: Mapping[str, Role] = _NO_ROLES
    ) -> None:
        self.config = config = config or PairingConfig()
        self.roles = roles
        self._linker: ImplicitLinker | None = None
        if config.implicit:
            linker_config = config.linker or LinkerConfig(question=config.question)
            if config.learned_linking:
                self._linker = LearnedLinker(linker_config, roles)
            else:
                self._linker = ImplicitLinker(linker_config, roles)
        self._window = config.merge_window
        self._threads = config.threads
        qcfg = config.question
        self._detect: Callable[[ChatMessage], bool] = lambda m: is_question(m.text, qcfg)
        if self._linker is not None and self._linker.config.question == qcfg:
            self._detect = self._linker.is_question  # one cache for both
        self._max = config.max_tracked
        self._precise = config.precision
        # (chat, message id) → its author's group; the oldest go first (memory stays flat).
        self._messages: dict[tuple[str, str | None], _Group] = {}
        self._order: deque[tuple[str, str | None]] = deque()
        self._roots: dict[tuple[str, str], _Group] = {}
        # (chat, thread, author) → the author's latest group / open answer there.
        self._current: dict[tuple[str, str, str], _Group] = {}
        self._pending: OrderedDict[tuple[str, str, str], _Answer] = OrderedDict()
        self._expire_at = float("inf")  # no pending answer can close before this

    def feed(self, msg: ChatMessage) -> list[PairedAnswer]:
        """Take the next message; return the answers that can no longer grow."""
        out = self._feed(msg)
        if out:
            out = [p for p in out if self._answer_like(p.answer_text)]
        return out

    def _feed(self, msg: ChatMessage) -> list[PairedAnswer]:
        at = msg.sent_at.timestamp()
        window = self._window
        pending = self._pending
        out: list[PairedAnswer] = []
        if at > self._expire_at:
            self._expire(at, out)
        if msg.is_bot or msg.is_service:
            return out
        target = None if msg.is_topic_root else msg.reply_to_id
        method = PairMethod.REPLY
        weak = False  # linked by turn-taking only: may still be an answer's follow-up
        if self._linker is not None:
            linked = self._linker.feed_at(msg, at)
            if target is None and linked is not None:
                target, method = linked, PairMethod.IMPLICIT
                weak = self._linker.last_reason in _WEAK_LINKS
        text = msg.text
        if not text or text.isspace():
            return out
        chat = msg.chat_id
        author = msg.author_id
        thread = msg.thread_id if self._threads else None
        key = (chat, thread or "", author)
        entry = self._messages.get((chat, target)) if target is not None else None
        target_author = entry.author_id if entry is not None else None
        answer = pending.get(key)
        # 0. (precision) the asker answering their helper: the exchange goes on
        if (
            self._precise
            and entry is not None
            and entry.answers_to is not None
            and entry.answers_to.author_id == author
            and target_author != author
        ):
            # The asker replies to their helper: answering what the helper asked, or
            # adding details, continues the exchange; a new question of theirs does not.
            if self._asks_back(entry, target) or not (weak or self._detect(msg)):
                self._continue_exchange(msg, at, entry, entry.answers_to)
                return out
            entry = None  # not an answer to the helper's message (roles are not reversed)
            target_author = None
        # 1. a follow-up of an open answer
        if (
            answer is not None
            and at - answer.last_at <= window
            and (
                target is None
                or target_author == author
                or entry is answer.group
                or (weak and not (entry is not None and entry.is_question(self._detect)))
            )
        ):
            answer.msgs.append(msg)
            answer.last_at = at
            pending.move_to_end(key)
            self._remember(msg, at, key, True, False)
            return out
        # 2. a reply (or link) to another member's question group
        group: _Group | None = None
        if entry is not None and target_author != author and entry.is_question(self._detect):
            group = entry
        # 3. a message in another member's thread
        root: _Group | None = None
        if thread is not None:
            root = self._thread_root(chat, thread, msg.message_id)
            if (
                self._precise
                and root is not None
                and not root.closed
                and root.author_id != author
                and msg.platform == "telegram"
                and self._detect(msg)
            ):
                root.closed = True  # another member asks here: the topic is not one question
            if (
                group is None
                and root is not None
                and root.author_id != author
                and (root.msgs[0].message_id == thread or self._topic_asks(root))
            ):
                # A thread started from a message (a Discord forum post) asks by nature.
                group, method = root, PairMethod.THREAD
        if answer is not None and (group is not None or target_author not in (None, author)):
            del pending[key]
            self._emit_to(answer, out)
        if group is not None:
            group.freeze()
            pending[key] = _Answer(group, msg, at, method, role_of(msg, self.roles))
            if at + window < self._expire_at:
                self._expire_at = at + window
            if len(pending) > self._max:
                self._emit_to(pending.popitem(last=False)[1], out)
            made = self._remember(msg, at, key, False, False)
            if self._precise:
                made.answers_to = group
        else:
            continuing = target is None or target_author == author
            self._remember(msg, at, key, continuing, thread is not None and root is None)
        if self._precise and self._linker is not None and self._linker.also:
            self._answer_others(msg, at, self._linker.also, out)
        return out

    def _asks_back(self, entry: _Group, target: str | None) -> bool:
        """True when ``target``, a message of ``entry``, reads as a question."""
        for m in entry.msgs:
            if m.message_id == target:
                return self._detect(m)
        return False

    def _answer_like(self, text: str) -> bool:
        """An answer's text passes; with ``precision`` :meth:`_emit` already kept only
        answer messages, without it the text must not be an ack."""
        if self._precise:
            return True
        return answer_kind(text, config=self.config.question) is not AnswerKind.ACK

    def _topic_asks(self, root: _Group) -> bool:
        """A topic's first message asks for its topic when it reads as a question.

        With ``precision``, a Telegram forum topic (a long-lived place: announcements, a
        help corner) stops being one question once another member asks in it; from then on
        its messages pair by reply or implicit link like any group's.
        """
        return not root.closed and root.is_question(self._detect)

    def _continue_exchange(
        self, msg: ChatMessage, at: float, entry: _Group, question: _Group
    ) -> None:
        """The asker's reply to their helper joins the question; the helper's answer stays open."""
        chat = msg.chat_id
        mkey = (chat, msg.message_id)
        self._messages[mkey] = question
        self._order.append(mkey)
        if len(self._order) > self._max:
            self._messages.pop(self._order.popleft(), None)
        thread = msg.thread_id if self._threads else None
        hkey = (chat, thread or "", entry.author_id)
        helper = self._pending.get(hkey)
        if helper is not None and helper.group is question:
            helper.last_at = at
            self._pending.move_to_end(hkey)

    def _answer_others(
        self, msg: ChatMessage, at: float, targets: tuple[str, ...], out: list[PairedAnswer]
    ) -> None:
        """One message @mentioning several askers answers each one's open question."""
        for target in targets:
            group = self._messages.get((msg.chat_id, target))
            if group is None or group.author_id == msg.author_id:
                continue
            if not group.is_question(self._detect):
                continue
            group.freeze()
            answer = _Answer(group, msg, at, PairMethod.IMPLICIT, role_of(msg, self.roles))
            self._emit_to(answer, out)

    def flush(self) -> list[PairedAnswer]:
        """Emit every answer still open (end of an import)."""
        out: list[PairedAnswer] = []
        for answer in self._pending.values():
            self._emit_to(answer, out)
        out = [p for p in out if self._answer_like(p.answer_text)]
        self._pending.clear()
        self._expire_at = float("inf")
        return out

    def _expire(self, at: float, out: list[PairedAnswer]) -> None:
        """Emit the answers whose merge window closed before ``at`` (oldest first)."""
        pending = self._pending
        window = self._window
        self._expire_at = float("inf")
        while pending:
            first = next(iter(pending.values()))
            if at - first.last_at <= window:
                self._expire_at = first.last_at + window
                break
            pending.popitem(last=False)
            self._emit_to(first, out)

    def _thread_root(self, chat: str, thread: str, message_id: str) -> _Group | None:
        """The question group of ``thread``, if known (its starter may sit outside it)."""
        rkey = (chat, thread)
        root = self._roots.get(rkey)
        if root is None and message_id != thread:
            root = self._messages.get(rkey)
            if root is not None:
                self._set_root(rkey, root)
        return root

    def _set_root(self, rkey: tuple[str, str], group: _Group) -> None:
        roots = self._roots
        roots[rkey] = group
        if len(roots) > 2 * self._max:
            self._roots = _newest(roots, self._max)

    def _remember(
        self, msg: ChatMessage, at: float, key: tuple[str, str, str], continuing: bool, root: bool
    ) -> _Group:
        """Add ``msg`` to its author's group (or start one; a thread's first is its root)."""
        current = self._current
        group = current.get(key) if continuing else None
        if group is not None and not group.answered and at - group.last_at <= self._window:
            group.msgs.append(msg)
            group.last_at = at
        else:
            # A thread started from this message asks by nature; a Telegram topic's first
            # message only if it reads as a question (its id is not the topic's).
            asks = root and not (
                self._precise and msg.platform == "telegram" and msg.message_id != key[1]
            )
            group = _Group(msg, at, root=asks)
            if root:
                self._set_root((key[0], key[1]), group)
            current[key] = group
            if len(current) > 2 * self._max:
                self._current = _newest(current, self._max)
        mkey = (key[0], msg.message_id)
        messages = self._messages
        messages[mkey] = group
        order = self._order
        order.append(mkey)
        if len(order) > self._max:
            messages.pop(order.popleft(), None)
        return group

    def _emit_to(self, answer: _Answer, out: list[PairedAnswer]) -> None:
        """Append the pair ``answer`` makes, if any, to ``out``."""
        pair = self._emit(answer)
        if pair is not None:
            out.append(pair)

    def _emit(self, answer: _Answer) -> PairedAnswer | None:
        """The pair of ``answer``; with ``precision`` only its answer messages (or None).

        Acks, clarifying / counter-questions and the answerer's own follow-up questions
        are left out (see :func:`harvest.answer_kinds.answer_kind`).
        """
        group = answer.group
        msgs = answer.msgs
        if self._precise:
            qcfg = self.config.question
            kept: list[ChatMessage] = []
            for m in msgs:
                kind = answer_kind(m.text, follows_answer=bool(kept), config=qcfg)
                if kind is AnswerKind.ANSWER:
                    kept.append(m)
            if not kept:
                return None
            msgs = kept
        first = msgs[0]
        if len(msgs) == 1:
            ids: tuple[str, ...] = (first.message_id,)
            text = first.text.strip()
        else:
            ids = tuple([m.message_id for m in msgs])
            text = "\n".join([m.text.strip() for m in msgs])
        text = strip_address(text, group.msgs[0].author_name)
        return PairedAnswer(
            chat_id=first.chat_id,
            question_id=group.qid,
            answer_ids=ids,
            question_text=group.qtext,
            answer_text=text,
            asker_id=group.author_id,
            answerer_id=answer.answerer,
            method=answer.method,
            score=score_answer(answer.role, answer.method, answer.position),
        )


def _newest(groups: dict[_K, _Group], keep: int) -> dict[_K, _Group]:
    """The ``keep`` most recently active entries of ``groups`` (bounds memory)."""
    recent = sorted(groups.items(), key=lambda item: item[1].last_at)[-keep:]
    return dict(recent)


def pair_all(
    messages: Iterable[ChatMessage],
    config: PairingConfig | None = None,
    roles: Mapping[str, Role] = _NO_ROLES,
) -> list[PairedAnswer]:
    """Every pair in ``messages`` (chronological), in the order the answers close."""
    pairer = Pairer(config, roles)
    out: list[PairedAnswer] = []
    for msg in messages:
        out.extend(pairer.feed(msg))
    out.extend(pairer.flush())
    return out
