"""The one harvest engine: fed messages in order (and edits / deletes), it decides pairs."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from types import MappingProxyType

from harvest.engine.building import PairBuilder
from harvest.engine.decisions import Decision, Fed
from harvest.engine.exchanges import Exchanges, directs, relays
from harvest.engine.rules import PairingConfig, role_of
from harvest.engine.scoring import Scorer, score_pair
from harvest.engine.state import Answer as _Answer
from harvest.engine.state import Group as _Group
from harvest.engine.state import newest, retext
from harvest.linking import ImplicitLinker, LinkerConfig
from harvest.model import ChatMessage, PairMethod, Role
from harvest.questions import is_question

__all__ = ["HarvestEngine"]

_NO_ROLES: Mapping[str, Role] = MappingProxyType({})
# Linker reasons that only follow turn-taking (not a name): they do not end an answer.
_WEAK_LINKS = frozenset({"called", "continuation"})


class HarvestEngine:
    """Incremental pairing, question detection, implicit linking and scoring in one place.

    ``feed`` messages in time order; with ``incremental`` it decides ``new`` the moment an
    answer appears and ``update`` as it grows (the live bot stores these), and always
    ``close`` once the answerer's merge window passed or at :meth:`flush` (an import stores
    these); folding either stream gives the same pairs. Memory is bounded by
    ``config.max_tracked`` recent messages whatever the stream's length.

    Rules: an explicit reply (or, with ``config.implicit``, a linked message) from another
    member to a question (or any message of a question group: an asker's consecutive
    messages within the merge window) is an answer; the answerer's follow-ups within the
    window that reply to nobody else join it; with ``config.threads``, other members'
    messages in a thread answer its starter (a Discord forum post asks by nature, a
    Telegram forum topic only when its first message asks). Bots, service, empty and
    media-only messages, self-answers and fillers never answer.
    """

    def __init__(
        self,
        config: PairingConfig | None = None,
        roles: Mapping[str, Role] = _NO_ROLES,
        *,
        scorer: Scorer = score_pair,
        incremental: bool = True,
    ) -> None:
        self.config = config = config or PairingConfig()
        self.roles = roles
        self.scorer = scorer
        self.incremental = incremental
        builder = PairBuilder(
            precise=config.precision,
            question=config.question,
            roles=roles,
            scorer=scorer,
            incremental=incremental,
        )
        self._publish = builder.publish
        self._close = builder.close
        self._answer_all = builder.answer_all
        self._linker: ImplicitLinker | None = None
        if config.implicit:
            linker_config = config.linker or LinkerConfig(question=config.question)
            if config.learned_linking:  # numpy and the model load only when asked for
                from harvest.reply_model import LearnedLinker

                self._linker = LearnedLinker(linker_config, roles)
            else:
                self._linker = ImplicitLinker(linker_config, roles)
        self._window = config.merge_window
        self._threads = config.threads
        self._precise = config.precision
        qcfg = config.question
        self._detect: Callable[[ChatMessage], bool] = lambda m: is_question(m.text, qcfg)
        if self._linker is not None and self._linker.config.question == qcfg:
            self._detect = self._linker.is_question  # one cache for both
        self._max = config.max_tracked
        # (chat, message id) → its author's group; the oldest go first (memory stays flat).
        self._messages: dict[tuple[str, str], _Group] = {}
        self._order: deque[tuple[str, str]] = deque()
        self._roots: dict[tuple[str, str], _Group] = {}
        # (chat, thread, author) → the author's latest group / open answer there.
        self._current: dict[tuple[str, str, str], _Group] = {}
        self._pending: OrderedDict[tuple[str, str, str], _Answer] = OrderedDict()
        self._exchanges = Exchanges(config.max_tracked)
        self._expire_at = float("inf")  # no pending answer can close before this

    # -- what callers ask --------------------------------------------------------------

    def knows(self, chat_id: str, message_id: str) -> bool:
        """True when ``message_id`` of ``chat_id`` is in the window (a reply can pair)."""
        return (chat_id, message_id) in self._messages

    def has_root(self, chat_id: str, thread_id: str) -> bool:
        """True when the question of thread ``thread_id`` is known."""
        return (chat_id, thread_id) in self._roots

    def asks(self, msg: ChatMessage) -> bool:
        """Whether ``msg`` reads as a question (pass it to :meth:`feed` to detect once)."""
        return bool(msg.text) and not (msg.is_bot or msg.is_service) and self._detect(msg)

    def feed(self, msg: ChatMessage, *, asks: bool | None = None) -> Fed:
        """Take the next message; return what it decided and whether it asks.

        ``asks``: the message's question flag when the caller already has it (:meth:`asks`).
        """
        at = msg.sent_at.timestamp()
        out: list[Decision] = []
        if at > self._expire_at:
            self._expire(at, out)
        if msg.is_bot or msg.is_service:
            return Fed(out, False)
        target = None if msg.is_topic_root else msg.reply_to_id
        method, reason = PairMethod.REPLY, "reply"
        weak = False  # linked by turn-taking only: may still be an answer's follow-up
        link_prob = None  # the learned linker's probability for its decision on ``msg``
        if self._linker is not None:
            linked = self._linker.feed_at(msg, at)
            link_prob = self._linker.last_confidence
            if target is None and linked is not None:
                target, method = linked, PairMethod.IMPLICIT
                reason = self._linker.last_reason or "implicit"
                weak = reason in _WEAK_LINKS
        text = msg.text
        if not text or text.isspace():
            return Fed(out, False)
        if asks is None:
            asks = self._detect(msg)
        chat, author = msg.chat_id, msg.author_id
        thread = msg.thread_id if self._threads else None
        key = (chat, thread or "", author)
        entry = self._messages.get((chat, target)) if target is not None else None
        target_author = entry.author_id if entry is not None else None
        pending = self._pending
        answer = pending.get(key)
        asking = asks  # as a question to pair: not a helper's question to whom they help
        relayed = relays(entry, target, author) if self._precise and entry is not None else None
        if relayed is not None:  # a bot's reply to a command said for a member's question
            entry, target_author, reason = relayed, relayed.author_id, "reply"
        directed = target_author not in (None, author) and directs(reason, text, entry)
        helped = False  # said to the member who helps its author: their own exchange
        if self._precise:
            back = directed and self._asks_back(entry, target)
            helper = target_author if directed else None
            helped = helper is not None and self._exchanges.helping(chat, helper, author, at)
            asking = self._exchanges.note(msg, at, asks, target, target_author, directed, back)
        # 0. (precision) the asker replies to their helper: answering what the helper asked,
        # or adding details, continues the exchange; a new question of theirs does not
        if (
            self._precise
            and entry is not None
            and entry.answers_to is not None
            and entry.answers_to.author_id == author
            and target_author != author
        ):
            if self._asks_back(entry, target) or not (weak or asks):
                self._continue_exchange(msg, at, entry, entry.answers_to)
                return Fed(out, asks)
            entry = None  # not an answer to the helper's message: roles are not reversed
            target_author = None
        if (
            self._precise
            and directed
            and entry is not None
            and (entry.qidx < 0 or entry.answered)
            and entry.answers_to is None
            and target is not None
        ):  # to a member, on nothing they asked: their latest question, or the one helped on
            latest = self._current.get((chat, thread or "", entry.author_id))
            named = method is PairMethod.IMPLICIT  # a reply button names its message
            entry = self._exchanges.answered(chat, author, entry, target, latest, named, at)
        asker = answer.group.author_id if answer is not None else None
        precise, ex = self._precise, self._exchanges
        if (
            answer is not None
            and at - answer.last_at <= self._window
            and len(answer.msgs) < self.config.max_answer_parts
            and (
                target is None
                or (target_author == author and not (precise and ex.said_aside(answer, target)))
                or entry is answer.group
                or (
                    weak
                    and not (entry is not None and entry.qidx >= 0)
                    # turn-taking with a third member is no follow-up of the answer
                    and not (precise and target_author not in (None, author, asker))
                )
            )
        ):
            answer.grow(msg, at, link_prob)
            pending.move_to_end(key)
            self._remember(msg, at, key, True, False, asking)
            self._publish(answer, out)
            return Fed(out, asks)
        # 2. a reply (or link) to another member's question group
        group = entry if entry is not None and target_author != author and entry.qidx >= 0 else None
        if self._precise and group is not None and not directed and target is not None:
            turns = self._linker.turns_since if self._linker is not None else 0
            group = None if ex.answers_nothing(msg, asks, reason, target, group, turns) else group
        if helped or (precise and group is not None and ex.thanked(chat, group, author, method)):
            group = None  # reporting back to a helper; talk after the asker's thanks
        # 3. a message in another member's thread
        root: _Group | None = None
        if thread is not None:
            root = self._thread_root(chat, thread, msg.message_id)
            if (
                self._precise
                and asking
                and root is not None
                and not root.natural
                and root.author_id != author
                and msg.platform in self.config.forum_platforms
            ):
                root.closed = True  # another member asks here: the topic is not one question
            if (
                group is None
                and root is not None
                and root.author_id != author
                and root.qidx >= 0
                and not root.closed
            ):
                group, method, reason = root, PairMethod.THREAD, "thread"
        if answer is not None and (group is not None or target_author not in (None, author)):
            del pending[key]
            self._close(answer, out)
        if group is not None:
            group.freeze()
            answer = _Answer(group, msg, at, method, reason, role_of(msg, self.roles), link_prob)
            pending[key] = answer
            self._expire_at = min(self._expire_at, at + self._window)
            if len(pending) > self._max:
                self._close(pending.popitem(last=False)[1], out)
            made = self._remember(msg, at, key, False, False, asking)
            if self._precise:
                made.answers_to = group
                self._exchanges.take_up(chat, author, group)
            self._publish(answer, out)
        else:
            continuing = target is None or target_author == author
            self._remember(msg, at, key, continuing, thread is not None and root is None, asking)
        linker = self._linker
        if self._precise and linker is not None and linker.also:
            found = [self._messages.get((chat, t)) for t in linker.also]
            self._answer_all(msg, at, [g for g in found if g is not None], out, link_prob)
        return Fed(out, asks)

    def flush(self) -> list[Decision]:
        """Close every answer still open (the end of an import)."""
        out: list[Decision] = []
        for answer in self._pending.values():
            self._close(answer, out)
        self._pending.clear()
        self._expire_at = float("inf")
        return out

    # -- history, edits and deletes -----------------------------------------------------

    def recall(self, msg: ChatMessage, *, root: bool = False) -> None:
        """Remember an older stored message as context (a question a reply may answer;
        with ``root``, its thread's starter) without deciding anything: how a restarted
        bot finds what a new message refers to."""
        if msg.is_bot or msg.is_service or not msg.text.strip():
            return
        mkey = (msg.chat_id, msg.message_id)
        group = self._messages.get(mkey)
        thread = msg.thread_id if self._threads else None
        if group is None:
            starter = thread is not None and (root or msg.message_id == thread)
            natural = starter and self._natural(msg)
            group = _Group(msg, msg.sent_at.timestamp(), self._detect(msg), natural)
            self._track(mkey, group)
        if root and thread is not None and (msg.chat_id, thread) not in self._roots:
            self._set_root((msg.chat_id, thread), group)

    def edit(self, chat_id: str, message_id: str, text: str) -> None:
        """A message's text changed: later pairs built from the window use the new text.

        Pairs already decided are re-decided by :func:`harvest.engine.edits.decide_edit`
        over what was stored (the window may no longer hold them).
        """
        group = self._messages.get((chat_id, message_id))
        if group is not None:
            group.msgs = [retext(m, message_id, text) for m in group.msgs]
            flags = [self._detect(m) for m in group.msgs]
            group.detected = any(flags)
            group.qidx = 0 if group.natural else (flags.index(True) if group.detected else -1)
        for answer in self._pending.values():
            if answer.msgs[0].chat_id == chat_id:
                answer.msgs = [retext(m, message_id, text) for m in answer.msgs]

    def delete(self, chat_id: str, message_id: str) -> None:
        """A message is gone: nothing replies to it any more and its open answer stops."""
        self._messages.pop((chat_id, message_id), None)
        for key, answer in list(self._pending.items()):
            if answer.msgs[0].chat_id == chat_id and any(
                m.message_id == message_id for m in answer.msgs
            ):
                del self._pending[key]

    # -- precision (harvest.answer_kinds) -------------------------------------------------

    def _asks_back(self, entry: _Group | None, target: str | None) -> bool:
        """True when ``target``, a message of ``entry``, reads as a question."""
        found = entry.message(target) if entry is not None else None
        return found is not None and self._detect(found)

    def _continue_exchange(
        self, msg: ChatMessage, at: float, entry: _Group, question: _Group
    ) -> None:
        """The asker's reply to their helper joins the question; the helper's answer stays
        open (its merge window restarts), so the message that resolves it joins it."""
        self._track((msg.chat_id, msg.message_id), question)
        thread = msg.thread_id if self._threads else None
        hkey = (msg.chat_id, thread or "", entry.author_id)
        helper = self._pending.get(hkey)
        if helper is not None and helper.group is question:
            helper.last_at = at
            self._pending.move_to_end(hkey)

    # -- internals -----------------------------------------------------------------------

    def _natural(self, msg: ChatMessage) -> bool:
        """A thread starter asks by nature when the thread was started from it (its id is
        the thread's: a Discord forum post); a long-lived forum topic's first post
        (Telegram, whose topic id is the creation service message's) does not."""
        return msg.message_id == msg.thread_id or msg.platform not in self.config.forum_platforms

    def _expire(self, at: float, out: list[Decision]) -> None:
        """Close the answers whose merge window ended before ``at`` (oldest first)."""
        pending = self._pending
        window = self._window
        self._expire_at = float("inf")
        while pending:
            first = next(iter(pending.values()))
            if at - first.last_at <= window:
                self._expire_at = first.last_at + window
                break
            pending.popitem(last=False)
            self._close(first, out)

    def _thread_root(self, chat: str, thread: str, message_id: str) -> _Group | None:
        """The question group of ``thread``, if known (its starter may sit outside it)."""
        rkey = (chat, thread)
        root = self._roots.get(rkey)
        if root is None and message_id != thread:
            root = self._messages.get(rkey)
            if root is not None:
                if root.msgs[0].message_id == thread:  # the thread was started from it
                    root.natural = True
                    root.qidx = 0
                self._set_root(rkey, root)
        return root

    def _set_root(self, rkey: tuple[str, str], group: _Group) -> None:
        roots = self._roots
        roots[rkey] = group
        if len(roots) > 2 * self._max:
            self._roots = newest(roots, self._max)

    def _remember(
        self,
        msg: ChatMessage,
        at: float,
        key: tuple[str, str, str],
        continuing: bool,
        root: bool,
        asks: bool,
    ) -> _Group:
        """Add ``msg`` to its author's group (or start one; a thread's first is its root)."""
        current = self._current
        group = current.get(key) if continuing else None
        if group is not None and not group.answered and at - group.last_at <= self._window:
            group.add(msg, at, asks)
        else:
            group = _Group(msg, at, asks, root and self._natural(msg))
            if root:
                self._set_root((key[0], key[1]), group)
            current[key] = group
            if len(current) > 2 * self._max:
                self._current = newest(current, self._max)
        self._track((key[0], msg.message_id), group)
        return group

    def _track(self, mkey: tuple[str, str], group: _Group) -> None:
        self._messages[mkey] = group
        order = self._order
        order.append(mkey)
        if len(order) > self._max:
            self._messages.pop(order.popleft(), None)
