"""A learned reply linker: logistic regression over pairwise features, fitted on Ubuntu IRC.

For each message, the candidates are the previous ``window`` messages of its conversation
and "none" (it starts something new); each gets a feature row (distance, time gap, name
mentions, speaker history, word overlap, question-ness, the rule linker's own choice) and
the model's score; the best candidate wins. Scoring is plain Python over coefficients
kept as JSON (``harvest/data/reply_model.json``, fitted by ``scripts/fit_linker.py`` on
the training split of Kummerfeld et al., ACL 2019, CC BY 4.0), so nothing else is needed.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from harvest.answer_kinds import AnswerKind, answer_kind
from harvest.errors import InputError
from harvest.linking import ImplicitLinker, LinkerConfig, name_aliases
from harvest.model import ChatMessage, Role
from harvest.questions import is_question

__all__ = ["FEATURES", "LearnedLinker", "ReplyModel", "default_model"]

_NO_ROLES: Mapping[str, Role] = MappingProxyType({})
_WORD_RE = re.compile(r"[a-z0-9_'\-\.]{3,}|[\u4e00-\u9fff]")
_TOKEN_STRIP = " \t:：,，>.!?！？。;；-~()（）[]【】\"'“”@"
_STOP = frozenset(
    [
        "the",
        "and",
        "you",
        "for",
        "are",
        "that",
        "this",
        "with",
        "have",
        "what",
        "how",
        "can",
        "but",
        "not",
        "your",
        "just",
        "was",
        "does",
        "its",
        "it's",
        "i'm",
        "don't",
        "there",
        "use",
        "any",
        "get",
        "then",
        "from",
        "will",
        "all",
        "out",
        "know",
        "try",
        "like",
        "yes",
        "one",
        "can't",
        "there's",
        "need",
        "want",
        "has",
        "got",
        "see",
        "ok",
    ]
)
_DIST = (1, 2, 3, 4, 6, 10, 20)  # distance buckets: d <= each bound, else the last
_RULE_REASONS = ("addressed", "called", "continuation", "question")

FEATURES: tuple[str, ...] = (
    "self",
    "self_x_question",
    "self_x_addresses",
    "self_x_greeting",
    "self_x_new_speaker",
    "self_x_rule_none",
    *(f"dist_le_{b}" for b in _DIST),
    "dist_far",
    "log_gap_minutes",
    "same_author",
    "child_names_parent_lead",
    "child_names_parent",
    "parent_names_child",
    "child_names_other",
    "parent_names_other",
    "parent_question",
    "child_question",
    "parent_question_x_other_author",
    "parent_latest_of_author",
    "parent_author_rank",
    "child_author_previous",
    "child_author_spoke_since",
    "talked_before",
    "overlap_jaccard",
    "overlap_shared",
    "child_ack",
    "child_ack_x_parent_question",
    "parent_command_x_child_bot",
    *(f"rule_{r}" for r in _RULE_REASONS),
    # crosses: a linear model cannot combine these by itself
    "names_parent_x_latest",
    "names_parent_x_parent_names_child",
    "names_parent_x_second",
    "latest_naming_child",
    "latest_naming_child_x_names_none",
    "previous_x_names_none",
    "near_x_names_none",
    "parent_question_x_names_none_x_near",
    "self_x_unnamed",
    "gap_over_5_minutes",
    "gap_over_30_minutes",
    "parent_ack",
    "parent_short",
    "same_author_same_addressee",
)
_INDEX = {name: i for i, name in enumerate(FEATURES)}


@dataclass(frozen=True, slots=True)
class ReplyModel:
    """Coefficients over :data:`FEATURES`, how many messages back it looks, and provenance."""

    weights: tuple[float, ...]
    bias: float = 0.0
    window: int = 40
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise InputError(
                f"reply model has {len(self.weights)} weights, expected {len(FEATURES)}",
                field="weights",
            )
        if self.window < 1:
            raise InputError("window must be >= 1", field="window")

    def score(self, row: Sequence[float]) -> float:
        """The linear score of one candidate (higher: more likely the parent)."""
        return self.bias + math.fsum(w * x for w, x in zip(self.weights, row, strict=True))

    def to_json(self) -> str:
        """The model as JSON, with feature names so a reader can check the order."""
        body = {
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "window": self.window,
            "meta": dict(self.meta),
        }
        return json.dumps(body, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReplyModel:
        """Read :meth:`to_json` output; InputError when it does not fit these features."""
        try:
            data = json.loads(text)
            names = data["features"]
            weights = tuple(float(w) for w in data["weights"])
            bias = float(data.get("bias", 0.0))
            window = int(data.get("window", 40))
            meta = data.get("meta", {})
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"not a reply model: {exc}", field="reply_model") from exc
        if list(names) != list(FEATURES):
            raise InputError("reply model features differ from this version's", field="features")
        return cls(weights, bias, window, meta)


def default_model() -> ReplyModel:
    """The model shipped with fanqa (fitted on the Ubuntu IRC training split)."""
    text = resources.files("harvest").joinpath("data/reply_model.json").read_text("utf-8")
    return ReplyModel.from_json(text)


class _Seen:
    """One earlier message, with what its features need."""

    __slots__ = (
        "ack",
        "at",
        "author",
        "command",
        "index",
        "message_id",
        "names",
        "question",
        "short",
        "words",
    )

    def __init__(
        self,
        message_id: str,
        author: str,
        at: float,
        index: int,
        words: frozenset[str],
        names: frozenset[str],
        question: bool,
        command: bool,
        ack: bool,
        short: bool,
    ) -> None:
        self.ack = ack
        self.short = short
        self.message_id = message_id
        self.author = author
        self.at = at
        self.index = index
        self.words = words
        self.names = names  # author ids this message names
        self.question = question
        self.command = command


class _Context:
    """A conversation's recent messages and who named whom."""

    __slots__ = ("aliases", "count", "named", "recent")

    def __init__(self, window: int) -> None:
        self.recent: deque[_Seen] = deque(maxlen=window)
        self.aliases: dict[str, str] = {}
        self.named: dict[tuple[str, str], int] = {}  # (author, named author) → index
        self.count = 0


class LearnedLinker(ImplicitLinker):
    """An :class:`ImplicitLinker` whose guesses a :class:`ReplyModel` re-ranks.

    Explicit replies pass through; otherwise the rule linker's choice becomes one feature
    among many and the best-scoring candidate (or none) is the link. ``last_reason`` is
    the rule's reason when both agree, ``"continuation"`` for the author's own previous
    message, else ``"learned"``.
    """

    def __init__(
        self,
        config: LinkerConfig | None = None,
        roles: Mapping[str, Role] = _NO_ROLES,
        model: ReplyModel | None = None,
    ) -> None:
        super().__init__(config, roles)
        self.model = model or default_model()
        self._contexts: OrderedDict[tuple[str, str, str], _Context] = OrderedDict()

    def feed_at(self, msg: ChatMessage, at: float) -> str | None:
        rule = super().feed_at(msg, at)
        if msg.is_service:
            return rule
        ctx = self._context(msg)
        seen = self._seen(ctx, msg, at)
        if msg.reply_to_id is not None and not msg.is_topic_root:
            self._add(ctx, seen)
            return rule
        ids, rows = self.candidates(ctx, seen, msg.text, rule, self.last_reason)
        scores = [self.model.score(row) for row in rows]
        best = max(range(len(scores)), key=scores.__getitem__)
        target = ids[best]
        self._add(ctx, seen)
        if target != rule:
            mine = target is not None and any(
                s.message_id == target and s.author == msg.author_id for s in ctx.recent
            )
            self.last_reason = None if target is None else "continuation" if mine else "learned"
            self.also = ()
        return target

    def rows_for(self, msg: ChatMessage, at: float) -> tuple[list[str | None], list[list[float]]]:
        """Candidates and feature rows of ``msg`` (then remembered): for fitting a model."""
        rule = ImplicitLinker.feed_at(self, msg, at)
        ctx = self._context(msg)
        seen = self._seen(ctx, msg, at)
        out = self.candidates(ctx, seen, msg.text, rule, self.last_reason)
        self._add(ctx, seen)
        return out

    def candidates(
        self, ctx: _Context, me: _Seen, text: str, rule: str | None, reason: str | None
    ) -> tuple[list[str | None], list[list[float]]]:
        """The candidate parents (None first) and one feature row each."""
        n = len(FEATURES)
        ids: list[str | None] = [None]
        first = [0.0] * n
        kind = AnswerKind.ACK if me.ack else AnswerKind.ANSWER
        question = me.question
        lead = text.strip()[:1] == "@" or bool(me.names)
        new_speaker = all(s.author != me.author for s in ctx.recent)
        first[_INDEX["self"]] = 1.0
        first[_INDEX["self_x_question"]] = float(question)
        first[_INDEX["self_x_addresses"]] = float(lead)
        first[_INDEX["self_x_greeting"]] = float(kind is AnswerKind.ACK)
        first[_INDEX["self_x_new_speaker"]] = float(new_speaker)
        first[_INDEX["self_x_rule_none"]] = float(rule is None)
        rows = [first]
        latest: dict[str, int] = {}
        my_previous = -1
        for s in ctx.recent:
            latest[s.author] = s.index
            if s.author == me.author:
                my_previous = s.index
        author_rank: dict[str, int] = {}
        ack = kind is AnswerKind.ACK
        naming_me = [s.index for s in ctx.recent if me.author in s.names]
        latest_naming = naming_me[-1] if naming_me else -1
        names_none = not me.names
        first[_INDEX["self_x_unnamed"]] = float(names_none and latest_naming < 0)
        for s in reversed(ctx.recent):
            rank = author_rank.get(s.author, 0) + 1
            author_rank[s.author] = rank
            row = [0.0] * n
            d = me.index - s.index
            for b in _DIST:
                if d <= b:
                    row[_INDEX[f"dist_le_{b}"]] = 1.0
                    break
            else:
                row[_INDEX["dist_far"]] = 1.0
            row[_INDEX["log_gap_minutes"]] = math.log1p(max(me.at - s.at, 0.0) / 60.0)
            same = s.author == me.author
            row[_INDEX["same_author"]] = float(same)
            names_parent = s.author in me.names
            row[_INDEX["child_names_parent"]] = float(names_parent)
            row[_INDEX["child_names_parent_lead"]] = float(names_parent and lead)
            row[_INDEX["parent_names_child"]] = float(me.author in s.names)
            row[_INDEX["child_names_other"]] = float(bool(me.names) and not names_parent)
            row[_INDEX["parent_names_other"]] = float(bool(s.names) and me.author not in s.names)
            row[_INDEX["parent_question"]] = float(s.question)
            row[_INDEX["child_question"]] = float(question)
            row[_INDEX["parent_question_x_other_author"]] = float(s.question and not same)
            row[_INDEX["parent_latest_of_author"]] = float(latest[s.author] == s.index)
            row[_INDEX["parent_author_rank"]] = math.log(rank)
            row[_INDEX["child_author_previous"]] = float(s.index == my_previous)
            row[_INDEX["child_author_spoke_since"]] = float(my_previous > s.index and not same)
            talked = ctx.named.get((s.author, me.author), -1) >= 0 or (
                ctx.named.get((me.author, s.author), -1) >= 0
            )
            row[_INDEX["talked_before"]] = float(talked)
            shared = len(me.words & s.words)
            union = len(me.words | s.words)
            row[_INDEX["overlap_jaccard"]] = shared / union if union else 0.0
            row[_INDEX["overlap_shared"]] = math.log1p(shared)
            row[_INDEX["child_ack"]] = float(ack)
            row[_INDEX["child_ack_x_parent_question"]] = float(ack and s.question)
            row[_INDEX["parent_command_x_child_bot"]] = float(
                s.command and me.author.lower().endswith("bot")
            )
            if rule == s.message_id and reason in _RULE_REASONS:
                row[_INDEX[f"rule_{reason}"]] = 1.0
            is_latest = latest[s.author] == s.index
            names_me = me.author in s.names
            row[_INDEX["names_parent_x_latest"]] = float(names_parent and is_latest)
            row[_INDEX["names_parent_x_parent_names_child"]] = float(names_parent and names_me)
            row[_INDEX["names_parent_x_second"]] = float(names_parent and rank == 2)
            row[_INDEX["latest_naming_child"]] = float(s.index == latest_naming)
            row[_INDEX["latest_naming_child_x_names_none"]] = float(
                s.index == latest_naming and names_none
            )
            row[_INDEX["previous_x_names_none"]] = float(s.index == my_previous and names_none)
            row[_INDEX["near_x_names_none"]] = float(d <= 2 and names_none and not same)
            row[_INDEX["parent_question_x_names_none_x_near"]] = float(
                s.question and names_none and d <= 4 and not same
            )
            row[_INDEX["parent_ack"]] = float(s.ack)
            row[_INDEX["parent_short"]] = float(s.short)
            row[_INDEX["same_author_same_addressee"]] = float(same and bool(s.names & me.names))
            gap = me.at - s.at
            row[_INDEX["gap_over_5_minutes"]] = float(gap > 300)
            row[_INDEX["gap_over_30_minutes"]] = float(gap > 1800)
            ids.append(s.message_id)
            rows.append(row)
        return ids, rows

    def _context(self, msg: ChatMessage) -> _Context:
        key = (msg.platform, msg.chat_id, msg.thread_id or "")
        ctx = self._contexts.get(key)
        if ctx is None:
            if len(self._contexts) >= self.config.max_conversations:
                self._contexts.popitem(last=False)
            ctx = self._contexts[key] = _Context(self.model.window)
        else:
            self._contexts.move_to_end(key)
        return ctx

    def _seen(self, ctx: _Context, msg: ChatMessage, at: float) -> _Seen:
        for alias in name_aliases(msg.author_name):
            ctx.aliases[alias] = msg.author_id
        low = msg.text.lower()
        names = frozenset(
            who
            for token in low[:200].split()
            if (who := ctx.aliases.get(token.strip(_TOKEN_STRIP))) is not None
            and who != msg.author_id
        )
        words = frozenset(w for w in _WORD_RE.findall(low) if w not in _STOP)
        question = is_question(msg.text, self.config.question)
        command = low.lstrip()[:1] == "!"
        ack = answer_kind(msg.text, config=self.config.question) is AnswerKind.ACK
        short = len(low.split()) <= 3
        return _Seen(
            msg.message_id,
            msg.author_id,
            at,
            ctx.count,
            words,
            names,
            question,
            command,
            ack,
            short,
        )

    def _add(self, ctx: _Context, seen: _Seen) -> None:
        for who in seen.names:
            ctx.named[(seen.author, who)] = seen.index
        if len(ctx.named) > 4 * self.config.max_speakers:
            ctx.named.clear()
        ctx.recent.append(seen)
        ctx.count += 1
