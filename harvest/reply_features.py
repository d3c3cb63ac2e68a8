"""Pairwise features of a message and each earlier message it may reply to.

:class:`ReplyFeatures` is fed one conversation's messages in order. For each it gives the
candidate parents — the message itself first (it starts something new), then up to
``window`` earlier messages, latest first — and a feature matrix, one row per candidate;
once the caller has decided, :meth:`ReplyFeatures.commit` records the choice, so later
messages can use who talks to whom. Fitting (``scripts/fit_linker.py``) and live linking
(:class:`harvest.reply_model.LearnedLinker`) compute rows with this same code.

The features follow Kummerfeld et al. (ACL 2019, "A Large-Scale Corpus for Conversation
Disentanglement") where they can be computed online, and add some of fanqa's: distance
and time gap in bins, who names whom (either way, at the start or anywhere), each
speaker's previous turn, who talked to whom before (by name or by an earlier link), word
overlap weighted by how rare each word is in this chat so far (no vocabulary ships, so
any language works), near-duplicate text (MinHash of character trigrams), what each text
is (question, greeting, thanks, yes / no, URL, command, length) and the rule linker's own
choice. Nothing looks ahead. Per message the work is a few dozen numpy operations on
the window plus a loop over candidates for word overlap.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection

import numpy as np
import numpy.typing as npt

from harvest.reply_layout import (
    C_DIST,
    C_GAP,
    C_PREV,
    C_RULE,
    C_SHARED,
    C_TEXT,
    DIST_BOUNDS,
    FEATURES,
    GAP_BOUNDS,
    I_QUERY,
    I_SELF_QUERY,
    N_FEATURES,
    N_QUERY,
    N_TEXT,
    PAIR_COL,
    PAIR_COLUMNS,
    PREV_BINS,
    PREV_BOUNDS,
    QUERY_COL,
    QUERY_COLUMNS,
    QUERY_FEATURES,
    SELF_QUERY_COLUMNS,
    TEXT_BOT,
    TEXT_COMMAND,
)
from harvest.reply_state import ConversationState, Seen
from harvest.reply_text import SKETCH_SIZE, TEXT_FEATURES

__all__ = [
    "FEATURES",
    "PAIR_COLUMNS",
    "QUERY_COLUMNS",
    "QUERY_FEATURES",
    "SELF_QUERY_COLUMNS",
    "TEXT_FEATURES",
    "ReplyFeatures",
    "Seen",
]

Matrix = npt.NDArray[np.float32]


def _member(values: npt.NDArray[np.int64], wanted: Collection[int]) -> npt.NDArray[np.bool_]:
    """``np.isin`` for the few values a message names (faster for small sets)."""
    out = np.zeros(len(values), dtype=bool)
    for v in wanted:
        out |= values == v
    return out


def _runs(
    values: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[int]]:
    """For each position: how many earlier positions hold the same value, how many hold it
    in all, and the distinct values."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_mask = np.empty(len(values), dtype=bool)
    starts_mask[0] = True
    starts_mask[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(starts_mask) - 1
    starts = np.flatnonzero(starts_mask)
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values)) - starts[group]
    counts = np.diff(np.append(starts, len(values)))
    total = np.empty(len(values), dtype=np.int64)
    total[order] = counts[group]
    return rank, total, ordered[starts].tolist()


def _lookup(
    values: dict[int, int], keys: npt.NDArray[np.int64], default: int
) -> npt.NDArray[np.int64]:
    """``values[key]`` for each of ``keys`` (``default`` when absent), vectorised."""
    out = np.full(len(keys), default, dtype=np.int64)
    for key, value in values.items():
        out[keys == key] = value
    return out


class ReplyFeatures(ConversationState):
    """Feature rows for one conversation's messages, fed in order (see the module doc)."""

    def rows(
        self, me: Seen, rule: str | None = None, reason: str | None = None
    ) -> tuple[list[Seen | None], Matrix]:
        """Candidates (``None`` = ``me`` starts something new, first) and their rows.

        ``rule`` / ``reason``: the rule linker's choice for ``me`` (a message id) and why.
        """
        k = min(self.count, self.window)
        slots = (self.count - 1 - np.arange(k)) % self.window  # latest first
        seen = self.seen
        cands: list[Seen | None] = [None]
        cands.extend(seen[i] for i in slots.tolist())
        xt = np.zeros(
            (N_FEATURES, k + 1), dtype=np.float32
        )  # filled by feature: rows are contiguous
        query = np.array(self._query(me, rule, slots), dtype=np.float32)
        xt[I_QUERY:I_SELF_QUERY] = query[:, None]
        xt[0, 0] = 1.0
        xt[I_SELF_QUERY:, 0] = query
        if k:
            self._pairs(me, cands, slots, rule, reason, xt[:, 1:])
        return cands, xt.T

    # -- features ------------------------------------------------------------------------

    def _query(self, me: Seen, rule: str | None, slots: npt.NDArray[np.int64]) -> list[float]:
        query = [0.0] * N_QUERY
        query[:N_TEXT] = me.flags
        prev = self._get(me.prev_index)
        if prev is None:
            query[QUERY_COL["q_author_new"]] = 1.0
            query[QUERY_COL["q_prev_far"]] = 1.0
        else:
            back = me.index - prev.index
            for b in PREV_BINS:
                if back <= b:
                    query[QUERY_COL[f"q_prev_le_{b}"]] = 1.0
                    break
            else:
                query[QUERY_COL["q_prev_far"]] = 1.0
            gap = me.at - prev.at
            query[QUERY_COL["q_prev_gap_le_60s"]] = float(gap <= 60.0)
            query[QUERY_COL["q_prev_gap_le_5m"]] = float(gap <= 300.0)
            query[QUERY_COL["q_prev_was_start"]] = float(prev.started)
            query[QUERY_COL["q_prev_named_someone"]] = float(bool(prev.names))
        latest = self._latest_naming(me)
        query[QUERY_COL["q_named_recently"]] = float(latest >= 0)
        query[QUERY_COL["q_named_by_last"]] = float(latest >= 0 and latest == self.count - 1)
        query[QUERY_COL["q_rule_none"]] = float(rule is None)
        if len(slots):
            span = max(me.at - float(self._at[slots[-1]]), 60.0)
            query[QUERY_COL["q_log_rate"]] = math.log1p(60.0 * len(slots) / span)
        return query

    def _pairs(
        self,
        me: Seen,
        cands: list[Seen | None],
        slots: npt.NDArray[np.int64],
        rule: str | None,
        reason: str | None,
        x: Matrix,
    ) -> None:
        """Fill the candidates' rows ``x`` (latest first)."""
        k = len(slots)
        c = PAIR_COL
        author = me.author
        index = self._index[slots]
        auth = self._author[slots]
        rows = np.arange(k)
        d = me.index - index
        x[C_DIST + np.searchsorted(DIST_BOUNDS, d), rows] = 1.0
        x[c["dist_scaled"]] = np.minimum(d, 100) / 100.0
        gap = np.maximum(me.at - self._at[slots], 0.0)
        x[C_GAP + np.searchsorted(GAP_BOUNDS, gap), rows] = 1.0
        x[c["log_gap_minutes"]] = np.log1p(gap / 60.0)
        same = auth == author
        x[c["same_author"]] = same
        # Who names whom.
        q_names_c = _member(auth, me.names)
        c_names_q = _member(index, self._naming.get(author, ()))
        x[c["q_names_c"]] = q_names_c
        x[c["q_leads_c"]] = auth == me.lead
        x[c["c_names_q"]] = c_names_q
        x[c["c_leads_q"]] = self._lead[slots] == author
        x[c["q_names_other"]] = bool(me.names) & ~q_names_c
        x[c["c_names_other"]] = self._has_names[slots] & ~c_names_q
        latest_naming = self._latest_naming(me)
        x[c["c_latest_naming_q"]] = index == latest_naming
        if me.names:
            naming = [i for who in me.names for i in self._naming.get(who, ())]
            x[c["same_addressee"]] = ~same & _member(index, naming)
        # Turns: each author's latest message, who spoke in between.
        threads = self._thread[slots]
        theirs, _, authors = _runs(auth)  # their own messages after each candidate
        first = theirs == 0
        in_thread, size, _ = _runs(threads)
        latest_in = in_thread == 0
        with_me = threads[same]
        x[c["c_latest_of_author"]] = first
        x[c["log_authors_between"]] = np.log1p(np.cumsum(first) - first)
        mine = same.astype(np.float32)
        mine_after = np.cumsum(mine) - mine  # my messages after the candidate
        their_after = np.where(same, 0.0, theirs)
        x[c["log_turns_between"]] = np.log1p(mine_after + their_after)
        x[c["q_silent_since"]] = me.prev_index < index
        x[c["c_is_q_prev"]] = index == me.prev_index
        # Per author of the window: earlier names and replies between the two.
        named = self._named
        never = 1 << 62
        first_qc: dict[int, int] = {}
        last_qc: dict[int, int] = {}
        first_cq: dict[int, int] = {}
        last_cq: dict[int, int] = {}
        for other in authors:
            if other == author:
                continue
            qc = named.get((author, other))
            if qc:
                first_qc[other], last_qc[other] = qc[0], qc[-1]
            cq = named.get((other, author))
            if cq:
                first_cq[other], last_cq[other] = cq[0], cq[-1]
        if first_qc:
            x[c["q_named_c_before"]] = _lookup(first_qc, auth, never) < index
            x[c["q_named_c_between"]] = _lookup(last_qc, auth, -1) > index
        if first_cq:
            x[c["c_named_q_before"]] = _lookup(first_cq, auth, never) < index
            x[c["c_named_q_between"]] = _lookup(last_cq, auth, -1) > index
        replied = self._replied
        x[c["q_replied_to_c"]] = _member(auth, [a for a in authors if (author, a) in replied])
        # Earlier links.
        parent_author = self._parent_author[slots]
        replied_to_me = (parent_author == author) & ~same
        x[c["c_replied_to_q"]] = replied_to_me
        if replied_to_me.any():
            x[c["c_latest_reply_to_q"], int(np.argmax(replied_to_me))] = 1.0
        partner = self._partner.get(author, -2)
        is_partner = auth == partner
        x[c["c_is_partner"]] = is_partner
        if is_partner.any():
            x[c["c_partner_latest"], int(np.argmax(is_partner))] = 1.0
        x[c["c_was_start"]] = self._started[slots]
        prev = self._get(me.prev_index)
        if prev is not None and prev.parent_index >= 0:
            pp = prev.parent_index
            x[c["c_parent_is_q_prev_parent"]] = (self._parent[slots] == pp) | (index == pp)
        if rule is not None and reason in C_RULE:
            found = self._ids.get(rule)
            if found is not None and 0 <= self.count - 1 - found < k:
                x[C_RULE[reason], self.count - 1 - found] = 1.0
        # Conversations so far (by the links chosen).
        x[c["c_latest_in_thread"]] = latest_in
        x[c["c_thread_has_q"]] = np.isin(threads, with_me) if len(with_me) else False
        x[c["c_thread_started_by_q"]] = self._thread_author[slots] == author
        if prev is not None:
            x[c["c_thread_of_q_prev"]] = self._thread[slots] == prev.thread
        replies = self._replies[slots]
        x[c["c_has_reply"]] = replies > 0
        x[c["log_c_replies"]] = np.log1p(replies)
        x[c["c_replied_by_q"]] = _member(index, self._replied_to_by(author))
        x[c["log_thread_size"]] = np.log1p(size)
        # The candidate's own turn.
        prev_index = self._prev[slots]
        back = index - prev_index
        prev_bin = np.where(prev_index < 0, 3, np.searchsorted(PREV_BOUNDS, back))
        x[C_PREV + prev_bin, rows] = 1.0
        x[c["c_prev_same_author"]] = (prev_index >= 0) & (back == 1)
        x[c["c_next_same_author"], 1:] = auth[:-1] == auth[1:]  # the message after it
        flags = self._flags[slots]
        x[C_TEXT : C_TEXT + N_TEXT] = flags.T
        if me.flags[TEXT_BOT]:
            x[c["c_is_command_q_bot"]] = flags[:, TEXT_COMMAND]
        # Text: shared words (weighted by rarity), shared stems, near-duplicates.
        if me.sketch is not None:
            has = self._has_sketch[slots]
            same_hashes = (self._sketch[slots] == me.sketch).sum(axis=1)
            jac = same_hashes * np.where(has, 1 / SKETCH_SIZE, 0.0)
            x[c["gram_jaccard"]] = jac
            x[c["gram_dup"]] = jac >= 0.6
        self._overlap(me, x)

    def _overlap(self, me: Seen, x: Matrix) -> None:
        """Shared words (weighted by rarity) and shared stems, per candidate.

        Looked up in the window's postings (word → messages with it), so the work grows
        with the message's words, not with the window.
        """
        words = me.words
        x[C_SHARED] = 1.0  # shared_0 unless found below
        if not words:
            return
        idf = {w: self._idf(w) for w in words}
        mine = sum(idf.values()) or 1.0
        oldest = self.count - min(self.count, self.window)
        last = self.count - 1
        seen = self.seen
        window = self.window
        n_words = len(words)
        c = PAIR_COL
        zero, one, two, five = C_SHARED, C_SHARED + 1, C_SHARED + 2, C_SHARED + 3
        frac_c, frac_q, overlap, cosine = (
            c["shared_frac_c"],
            c["shared_frac_q"],
            c["idf_overlap"],
            c["cosine"],
        )
        for i, common in self._postings_hits(self._postings, words, oldest).items():
            other = seen[i % window]
            assert other is not None
            j = last - i
            n = len(common)
            weight = sum(idf[w] for w in common)
            x[zero, j] = 0.0
            x[one if n == 1 else two, j] = 1.0
            if n >= 5:
                x[five, j] = 1.0
            x[frac_c, j] = n / len(other.words)
            x[frac_q, j] = n / n_words
            x[overlap, j] = weight / mine
            x[cosine, j] = weight / math.sqrt(mine * other.weight)
        if me.stems:
            n_stems = len(me.stems)
            one, two, frac = c["stem_shared_1"], c["stem_shared_2plus"], c["stem_frac_q"]
            for i, common in self._postings_hits(self._stem_postings, me.stems, oldest).items():
                j = last - i
                m = len(common)
                x[one if m == 1 else two, j] = 1.0
                x[frac, j] = m / n_stems

    @staticmethod
    def _postings_hits(
        postings: dict[str, deque[int]], words: frozenset[str], oldest: int
    ) -> dict[int, list[str]]:
        """Message index → the ``words`` it shares, over messages from ``oldest`` on."""
        hits: dict[int, list[str]] = {}
        for w in words:
            post = postings.get(w)
            if not post:
                continue
            while post and post[0] < oldest:
                post.popleft()
            for i in post:
                found = hits.get(i)
                if found is None:
                    hits[i] = [w]
                else:
                    found.append(w)
        return hits
