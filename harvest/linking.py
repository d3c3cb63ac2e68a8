"""Implicit reply links for messages sent without the reply button (mentions, "name:", turns)."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from itertools import islice
from types import MappingProxyType

from mypy_extensions import mypyc_attr

from harvest.answer_kinds import starts_new_topic
from harvest.linking_config import LinkerConfig
from harvest.linking_state import STRIP_CHARS, Conversation, Recent, Speaker, name_aliases
from harvest.model import ChatMessage, Role
from harvest.questions import detect_language, is_question

__all__ = ["ImplicitLinker", "LinkerConfig", "name_aliases"]

_NO_ROLES: Mapping[str, Role] = MappingProxyType({})
_MENTION_RE = re.compile(r"@([^\s@,，:：;；!?！？。()（）]+)")
# A leading "name:" / "name," / "name -" / "name>" (names may contain spaces, up to 32 chars).
_LEADING_RE = re.compile(r"\s*([^:：,，>]{1,32}?)\s*(?:[:：,，>]|\s-\s)")
# What ends such a name: without one in the first 48 characters _LEADING_RE cannot match
# (a plain scan, much cheaper than the lazy match failing at every length).
_LEADING_END_RE = re.compile(r"[:：,，>]|\s-\s")
_PARTIAL_SCAN = 64  # recent messages whose authors a partial name ("futur:") may mean
_PARTNERS = 8  # per speaker: latest message sent to each of this many partners
_TAIL_WORDS = 3  # a name among the last words also addresses ("try LXDE, gremuchnik")


# The learned linker (interpreted: numpy-bound) extends it.
@mypyc_attr(allow_interpreted_subclasses=True)
class ImplicitLinker:
    """Fed messages in order, says which earlier message each one replies to.

    An explicit ``reply_to_id`` is passed through (and teaches the linker who talks to
    whom). Without one, in order: a message addressed to recent speakers (``@name``,
    ``name: …``, ``name, …``, a leading name, else a name anywhere) replies to that
    speaker's latest message to this author, else to their latest message not addressed
    to someone else; an author who was addressed since they last spoke replies to that
    message; an author's quick follow-up continues their own previous message (the link
    points at the author's own message); a regular answerer's message after an unanswered
    question in the same language answers it, unless it opens with a topic shift ("btw").
    Otherwise ``None``: a new conversation. ``also`` lists the further messages a message
    addressed to several speakers answers.
    """

    def __init__(
        self, config: LinkerConfig | None = None, roles: Mapping[str, Role] = _NO_ROLES
    ) -> None:
        self.config = config or LinkerConfig()
        self.roles = roles
        # (platform, chat, thread) → state; least recently used first.
        self._conversations: OrderedDict[tuple[str, str, str], Conversation] = OrderedDict()
        # Why the last fed message got its link: "reply", "addressed", "called",
        # "continuation", "question", or None.
        self.last_reason: str | None = None
        # Further messages the last fed message answers: "@ann @bob @cy here's the link"
        # replies to ann's message and also to bob's and cy's.
        self.also: tuple[str, ...] = ()
        # For a "question" link: how many messages others said between that question and
        # the message linked to it (a turn taken right after it: 0; an expert's or a
        # moderator's: 0 too, they answer later).
        self.turns_since = 0
        # The learned linker's probability for the link it returned (None here: rules).
        self.last_confidence: float | None = None
        self._extra: list[Speaker] = []
        # The message fed last and its record: the engine asks whether it is a question
        # right after feeding it (no second look-up).
        self._last_msg: ChatMessage | None = None
        self._last_rec: Recent | None = None

    def feed(self, msg: ChatMessage) -> str | None:
        """The id of the message ``msg`` replies to, or ``None``; remembers ``msg``."""
        return self.feed_at(msg, msg.sent_at.timestamp())

    def feed_at(self, msg: ChatMessage, at: float) -> str | None:
        """:meth:`feed` with ``msg.sent_at`` already in POSIX seconds (saves a conversion)."""
        self.last_reason = None
        self.also = ()
        self._extra = []
        if msg.is_service:
            return None if msg.is_topic_root else msg.reply_to_id
        conv = self._conversation(msg)
        speaker = self._speaker(conv, msg)
        target: str | None
        addressed = False
        if msg.reply_to_id is not None and not msg.is_topic_root:
            target = msg.reply_to_id
            addressed = True
            self.last_reason = "reply"
        elif msg.is_topic_root:
            target = None
            self.last_reason = None
        else:
            target, addressed = self._guess(conv, speaker, msg.text, at)
        self._remember(conv, speaker, msg, at, target, addressed)
        return target

    def is_question(self, msg: ChatMessage) -> bool:
        """``is_question(msg.text)`` under this linker's config, shared with its own cache."""
        if msg is self._last_msg:
            rec = self._last_rec
        else:
            key = (msg.platform, msg.chat_id, msg.thread_id or "")
            conv = self._conversations.get(key)
            rec = conv.by_id.get(msg.message_id) if conv is not None else None
        if rec is None:
            return is_question(msg.text, self.config.question)
        if rec.question is None:
            rec.question = is_question(rec.text, self.config.question)
        return rec.question

    # -- guessing ----------------------------------------------------------------------

    def _guess(
        self, conv: Conversation, me: Speaker, text: str, at: float
    ) -> tuple[str | None, bool]:
        window = self.config.window_seconds
        other = self._addressee(conv, text, me)
        if other is not None and at - other.last_at <= window:
            self.last_reason = "addressed"
            also = [self._target_of(sp, me, at) for sp in self._extra if at - sp.last_at <= window]
            self.also = tuple(dict.fromkeys(t for t in also if t is not None))
            return self._target_of(other, me, at), True
        if me.called_by is not None and me.called_seq > me.last_seq and at - me.called_at <= window:
            self.last_reason = "called"
            return me.called_by, False
        if me.last_id is not None and at - me.last_at <= self.config.continuation_seconds:
            self.last_reason = "continuation"
            return me.last_id, False
        if self._is_regular(me) and not starts_new_topic(text):
            question = self._open_question(conv, me, at, text)
            if question is not None:
                self.last_reason = "question"
                return question, False
        self.last_reason = None
        return None, False

    def _target_of(self, other: Speaker, me: Speaker, at: float) -> str | None:
        """``other``'s latest message to ``me`` (if recent), else their latest free one."""
        to_me = other.sent_to.get(me.author_id)
        if to_me is not None and at - to_me[1] <= self.config.window_seconds:
            return to_me[0]
        return other.free_id or other.last_id

    def _addressee(self, conv: Conversation, text: str, me: Speaker) -> Speaker | None:
        """The recent speaker ``text`` is addressed to: ``@name``, a leading name, a name.

        Every further ``@name`` of a known speaker is kept in ``_extra``.
        """
        aliases = conv.aliases
        mine = me.author_id
        if "@" in text:
            named: list[Speaker] = []
            for m in _MENTION_RE.finditer(text):
                who = aliases.get(m.group(1).lower().rstrip(STRIP_CHARS))
                speaker = conv.speakers.get(who) if who is not None and who != mine else None
                if speaker is not None and speaker not in named:
                    named.append(speaker)
            if named:
                self._extra = named[1:]
                return named[0]
        words = text[:64].lower().split()
        if not words:
            return None
        who = aliases.get(words[0].strip(STRIP_CHARS))
        if who is None or who == mine:
            lead = _LEADING_RE.match(text, 0, 48) if _LEADING_END_RE.search(text, 0, 48) else None
            if lead is not None:
                name = lead.group(1).lower().strip(STRIP_CHARS)
                who = aliases.get(name)
                if who is None and name.isascii() and " " not in name:
                    who = self._partial(conv, name, me)
        if who is None or who == mine:
            tail = words if len(text) <= 64 else text[-48:].lower().split()
            for word in tail[-1 : -_TAIL_WORDS - 1 : -1]:
                found = aliases.get(word.strip(STRIP_CHARS))
                if found is not None and found != mine and len(word) >= 3:
                    who = found
                    break
        if who is not None and who != mine:
            return conv.speakers.get(who)
        return None

    def _partial(self, conv: Conversation, name: str, me: Speaker) -> str | None:
        """The one recent speaker whose name starts with ``name`` (3+ chars), if unique."""
        if len(name) < 3:
            return None
        found: str | None = None
        seen: set[str] = {me.author_id}
        for rec in islice(reversed(conv.recent), _PARTIAL_SCAN):
            author_id = rec.author_id
            if author_id in seen:
                continue
            seen.add(author_id)
            speaker = conv.speakers.get(author_id)
            if speaker is not None and speaker.aliases and speaker.aliases[0].startswith(name):
                if found is not None:
                    return None
                found = author_id
        return found

    def _is_regular(self, me: Speaker) -> bool:
        role = self.roles.get(me.author_id)
        if role is Role.EXPERT or role is Role.MODERATOR:
            return True
        return me.answers >= self.config.regular_min_answers

    def _open_question(self, conv: Conversation, me: Speaker, at: float, text: str) -> str | None:
        """The latest unanswered question since my last message, in the language of my
        message ``text`` (told only when a question is found; each question's is kept)."""
        language: str | None = None
        role = self.roles.get(me.author_id)
        ranked = role is Role.EXPERT or role is Role.MODERATOR
        limit = self.config.ranked_question_seconds if ranked else self.config.question_seconds
        qcfg = self.config.question
        for turns, rec in enumerate(islice(reversed(conv.recent), self.config.question_lookback)):
            if at - rec.at > limit:
                break
            if rec.author_id == me.author_id:
                break  # only questions asked since my last message
            if rec.answered:
                continue
            if rec.question is None:
                rec.question = is_question(rec.text, qcfg)
            if not rec.question:
                continue
            if language is None:
                language = detect_language(text)
            if rec.language is None:
                rec.language = detect_language(rec.text)
            if rec.language == language:
                self.turns_since = 0 if ranked else turns  # experts answer later
                return rec.message_id
        return None

    # -- state -------------------------------------------------------------------------

    def _conversation(self, msg: ChatMessage) -> Conversation:
        key = (msg.platform, msg.chat_id, msg.thread_id or "")
        conversations = self._conversations
        conv = conversations.get(key)
        if conv is None:
            if len(conversations) >= self.config.max_conversations:
                conversations.popitem(last=False)
            conv = conversations[key] = Conversation(self.config.recent_messages)
        else:
            conversations.move_to_end(key)
        return conv

    def _speaker(self, conv: Conversation, msg: ChatMessage) -> Speaker:
        speakers = conv.speakers
        speaker = speakers.get(msg.author_id)
        if speaker is None:
            speaker = speakers[msg.author_id] = Speaker(msg.author_id, msg.author_name)
            if len(speakers) > 2 * self.config.max_speakers:
                self._prune(conv)
        elif msg.author_name != speaker.name:
            self._forget(conv, speaker)  # renamed
            speaker.name = msg.author_name
            speaker.aliases = name_aliases(msg.author_name)
        aliases = conv.aliases
        for alias in speaker.aliases:
            aliases[alias] = msg.author_id
        return speaker

    def _prune(self, conv: Conversation) -> None:
        """Keep the ``max_speakers`` most recently active speakers."""
        ranked = sorted(conv.speakers.values(), key=lambda sp: sp.last_seq)
        cut = len(ranked) - self.config.max_speakers
        for speaker in ranked[:cut]:
            self._forget(conv, speaker)
        conv.speakers = {sp.author_id: sp for sp in ranked[cut:]}

    @staticmethod
    def _forget(conv: Conversation, speaker: Speaker) -> None:
        for alias in speaker.aliases:
            if conv.aliases.get(alias) == speaker.author_id:
                del conv.aliases[alias]

    def _remember(
        self,
        conv: Conversation,
        me: Speaker,
        msg: ChatMessage,
        at: float,
        target: str | None,
        addressed: bool,
    ) -> None:
        recent = conv.recent
        by_id = conv.by_id
        if len(recent) == recent.maxlen and by_id.get(recent[0].message_id) is recent[0]:
            del by_id[recent[0].message_id]
        rec = Recent(msg.message_id, msg.author_id, at, msg.text)
        recent.append(rec)
        by_id[msg.message_id] = rec
        self._last_msg, self._last_rec = msg, rec
        parent = by_id.get(target) if target is not None else None
        to_other = parent is not None and parent.author_id != me.author_id
        if parent is not None and to_other:
            other_id = parent.author_id
            parent.answered = True
            sent_to = me.sent_to
            sent_to.pop(other_id, None)
            if len(sent_to) >= _PARTNERS:
                del sent_to[next(iter(sent_to))]
            sent_to[other_id] = (msg.message_id, at)
            me.answers += 1
            other = conv.speakers.get(other_id)
            if other is not None:
                other.called_by = msg.message_id
                other.called_at = at
                other.called_seq = conv.seq
        me.last_id = msg.message_id
        me.last_at = at
        me.last_seq = conv.seq
        conv.seq += 1
        if not (addressed and to_other):
            me.free_id = msg.message_id
