"""The memory of one conversation behind the reply features (see harvest.reply_features).

A ring buffer of the last ``window`` messages (as :class:`Seen` records and as numpy
columns, so features are computed on the whole window at once), who named whom, who
replied to whom by the links chosen, each author's latest turn, word postings and
document frequencies. Everything older than the window is pruned regularly: memory stays
bounded whatever the length of the chat.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

import numpy as np
import numpy.typing as npt

from harvest.answer_kinds import AnswerKind, answer_kind
from harvest.linking import name_aliases
from harvest.questions import DEFAULT, QuestionConfig, is_question
from harvest.reply_layout import N_TEXT
from harvest.reply_text import SKETCH_SIZE, TOKEN_STRIP, content_words, text_flags, text_sketch

__all__ = ["ConversationState", "Seen"]

_DF_HALVE_AT: Final = 4096.0  # messages counted before the document frequencies are halved
_NAMED_KEEP: Final = 8  # per (author, named author): their latest naming messages


class Seen:
    """One message of the conversation: what its features need."""

    __slots__ = (
        "at",
        "author",
        "flags",
        "index",
        "lead",
        "message_id",
        "names",
        "parent_author",
        "parent_index",
        "prev_index",
        "sketch",
        "started",
        "stems",
        "thread",
        "thread_author",
        "weight",
        "words",
    )

    def __init__(
        self,
        message_id: str,
        author: int,
        at: float,
        index: int,
        names: frozenset[int],
        lead: int,
        words: frozenset[str],
        flags: list[float],
        prev_index: int,
        sketch: npt.NDArray[np.uint32] | None,
    ) -> None:
        self.message_id = message_id
        self.author = author  # the conversation's code for the author
        self.at = at
        self.index = index
        self.names = names  # authors (codes) it names
        self.lead = lead  # the author it opens by addressing (-1: none)
        self.words = words
        self.stems = frozenset(w[:4] for w in words if len(w) >= 4)
        self.weight = 1.0  # its words' summed rarity when it was remembered
        self.flags = flags  # TEXT_FEATURES
        self.prev_index = prev_index  # the author's previous message (-1: none)
        self.sketch = sketch
        self.parent_index = -1  # the message it was linked to (-1: none / itself)
        self.parent_author = -1
        self.started = True  # linked to nothing: it starts a conversation
        self.thread = index  # the message its conversation (by the links chosen) started with
        self.thread_author = author  # ... and who wrote that


class ConversationState:
    """What one conversation's recent messages left behind, fed in order: the window of
    :class:`Seen` records (and numpy columns of the same), who named and answered whom,
    word postings and document frequencies. :class:`harvest.reply_features.ReplyFeatures`
    computes the rows from it."""

    def __init__(self, window: int = 80, question: QuestionConfig = DEFAULT) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = w = window
        self.question = question
        self.count = 0  # messages remembered
        self.seen: list[Seen | None] = [None] * w  # ring buffer, slot = index % window
        self._index = np.full(w, -1, dtype=np.int64)
        self._at = np.zeros(w, dtype=np.float64)
        self._author = np.full(w, -1, dtype=np.int64)
        self._prev = np.full(w, -1, dtype=np.int64)
        self._parent = np.full(w, -1, dtype=np.int64)
        self._parent_author = np.full(w, -1, dtype=np.int64)
        self._started = np.zeros(w, dtype=np.float32)
        self._lead = np.full(w, -1, dtype=np.int64)
        self._thread = np.full(w, -1, dtype=np.int64)
        self._replies = np.zeros(w, dtype=np.float32)  # later messages linked to it
        self._thread_author = np.full(w, -1, dtype=np.int64)
        self._has_names = np.zeros(w, dtype=bool)
        self._flags = np.zeros((w, N_TEXT), dtype=np.float32)
        self._sketch = np.zeros((w, SKETCH_SIZE), dtype=np.uint32)
        self._has_sketch = np.zeros(w, dtype=bool)
        self._codes: dict[str, int] = {}  # author id → code
        self._next_code = 0
        self._display: dict[int, str] = {}  # code → lower-case name (partial matches)
        self._aliases: dict[str, int] = {}  # lower-case alias → code
        self._last_of: dict[int, int] = {}  # code → index of their latest message
        self._named: dict[tuple[int, int], deque[int]] = {}  # (code, named) → indices
        self._naming: dict[int, deque[int]] = {}  # code → messages naming them
        self._replied: dict[tuple[int, int], int] = {}  # (code, to code) → latest index
        self._partner: dict[int, int] = {}  # code → who they last exchanged with
        self._df: dict[str, float] = {}
        self._docs = 0.0
        self._ids: dict[str, int] = {}  # message id → index, for the window
        self._postings: dict[str, deque[int]] = {}  # word → messages with it
        self._stem_postings: dict[str, deque[int]] = {}

    # -- one message ---------------------------------------------------------------------

    def see(
        self,
        message_id: str,
        author_id: str,
        author_name: str,
        text: str,
        at: float,
        *,
        bot: bool = False,
    ) -> Seen:
        """The record of a new message (remembered by :meth:`commit`)."""
        code = self._codes.get(author_id)
        if code is None:
            code = self._codes[author_id] = self._next_code
            self._next_code += 1
        aliases = name_aliases(author_name) or (author_id.lower(),)
        self._display[code] = aliases[0]
        for alias in aliases:
            self._aliases[alias] = code
        low = text.lower()
        names: set[int] = set()
        lead = -1
        tokens = low[:300].split()
        for i, token in enumerate(tokens):
            who = self._aliases.get(token.strip(TOKEN_STRIP))
            if who is not None and who != code:
                names.add(who)
                if i == 0:
                    lead = who
        if lead < 0 and tokens and tokens[0][-1:] in (":", ",", ">"):
            lead = self._partial(tokens[0].strip(TOKEN_STRIP), code)
            if lead >= 0:
                names.add(lead)
        question = is_question(text, self.question)
        ack = answer_kind(text, config=self.question) is AnswerKind.ACK
        bot = bot or author_id.lower().endswith("bot") or aliases[0].endswith("bot")
        flags = text_flags(text, question, ack, bot)
        flags += [float(bool(names)), float(lead >= 0)]
        return Seen(
            message_id,
            code,
            at,
            self.count,
            frozenset(names),
            lead,
            content_words(low),
            flags,
            self._last_of.get(code, -1),
            text_sketch(low),
        )

    def find(self, message_id: str) -> Seen | None:
        """A remembered message of the window by id (an explicit reply's target)."""
        index = self._ids.get(message_id)
        return None if index is None else self._get(index)

    def commit(self, me: Seen, parent: Seen | None) -> None:
        """Remember ``me``, linked to ``parent`` (``None``: it starts something new)."""
        author = me.author
        if parent is not None and parent is not me:
            me.parent_index = parent.index
            me.parent_author = parent.author
            me.started = False
            me.thread = parent.thread
            me.thread_author = parent.thread_author
            if parent.author != author:
                self._replied[(author, parent.author)] = me.index
                self._partner[author] = parent.author
                self._partner[parent.author] = author
        for who in me.names:
            seq = self._named.get((author, who))
            if seq is None:
                seq = self._named[(author, who)] = deque(maxlen=_NAMED_KEEP)
            seq.append(me.index)
            naming = self._naming.get(who)
            if naming is None:
                naming = self._naming[who] = deque(maxlen=2 * _NAMED_KEEP)
            naming.append(me.index)
        me.weight = sum(self._idf(w) for w in me.words) or 1.0
        slot = me.index % self.window
        old = self.seen[slot]
        if old is not None and self._ids.get(old.message_id) == old.index:
            del self._ids[old.message_id]
        self._ids[me.message_id] = me.index
        self.seen[slot] = me
        self._index[slot] = me.index
        self._at[slot] = me.at
        self._author[slot] = author
        self._prev[slot] = me.prev_index
        self._parent[slot] = me.parent_index
        self._parent_author[slot] = me.parent_author
        self._started[slot] = float(me.started)
        self._lead[slot] = me.lead
        self._replies[slot] = 0.0
        if me.parent_index >= 0 and me.parent_index > me.index - self.window:
            self._replies[me.parent_index % self.window] += 1.0
        self._thread[slot] = me.thread
        self._thread_author[slot] = me.thread_author
        self._has_names[slot] = bool(me.names)
        self._flags[slot] = me.flags
        self._has_sketch[slot] = me.sketch is not None
        if me.sketch is not None:
            self._sketch[slot] = me.sketch
        self._last_of[author] = me.index
        for table, keys in ((self._postings, me.words), (self._stem_postings, me.stems)):
            for w in keys:
                post = table.get(w)
                if post is None:
                    post = table[w] = deque()
                post.append(me.index)
        df = self._df
        for w in me.words:
            df[w] = df.get(w, 0.0) + 1.0
        self._docs += 1.0
        if self._docs >= _DF_HALVE_AT:
            self._docs /= 2.0
            self._df = {w: c / 2.0 for w, c in df.items() if c >= 1.0}
        self.count += 1
        if self.count % (16 * self.window) == 0:
            self._prune()

    # -- helpers -------------------------------------------------------------------------

    def _get(self, index: int) -> Seen | None:
        if index < 0 or index < self.count - self.window:
            return None
        return self.seen[index % self.window]

    def _replied_to_by(self, author: int) -> list[int]:
        """Messages of the window ``author`` linked a message of theirs to."""
        return [
            s.parent_index
            for s in self.seen
            if s is not None and s.author == author and s.parent_index >= 0
        ]

    def _latest_naming(self, me: Seen) -> int:
        naming = self._naming.get(me.author)
        if naming and naming[-1] >= self.count - self.window:
            return naming[-1]
        return -1

    def _partial(self, name: str, code: int) -> int:
        """The one recent speaker whose name starts with ``name`` (3+ letters), else -1."""
        if len(name) < 3:
            return -1
        found = -1
        for who in {int(a) for a in self._author if a >= 0}:
            if who != code and self._display.get(who, "").startswith(name):
                if found >= 0:
                    return -1
                found = who
        return found

    def _idf(self, word: str) -> float:
        return math.log((self._docs + 2.0) / (self._df.get(word, 0.0) + 1.0))

    def _prune(self) -> None:
        """Forget who-named-whom and turns older than the window (memory stays bounded)."""
        oldest = self.count - self.window
        self._named = {k: v for k, v in self._named.items() if v[-1] >= oldest}
        self._naming = {k: v for k, v in self._naming.items() if v[-1] >= oldest}
        self._replied = {k: v for k, v in self._replied.items() if v >= oldest}
        self._last_of = {a: i for a, i in self._last_of.items() if i >= oldest}
        for table in (self._postings, self._stem_postings):
            for w in list(table):
                post = table[w]
                while post and post[0] < oldest:
                    post.popleft()
                if not post:
                    del table[w]
        active = set(self._last_of)
        self._codes = {a: i for a, i in self._codes.items() if i in active}
        self._partner = {a: b for a, b in self._partner.items() if a in active}
        if len(self._aliases) > 8 * self.window + 1024:
            self._aliases = {n: a for n, a in self._aliases.items() if a in active}
            self._display = {a: n for a, n in self._display.items() if a in active}
