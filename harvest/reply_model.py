"""A learned reply linker: a small neural ranker over pairwise features, fitted on Ubuntu IRC.

For each message without the reply button, the candidates are the message itself (it
starts something new) and up to ``window`` earlier messages of its conversation; each gets
a feature row (:mod:`harvest.reply_features`) and a score from a one-hidden-layer network,
trained so that a softmax over one message's candidates puts its mass on the human
annotators' choice. Several such networks (an ensemble) average their log-probabilities.
The weights ship as JSON (``harvest/data/reply_model.json``, fitted by
``scripts/fit_linker.py`` on the training split of Kummerfeld et al., "A Large-Scale
Corpus for Conversation Disentanglement", ACL 2019, CC BY 4.0) and are scored with numpy,
so a fresh clone needs no data folder.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from harvest.errors import InputError
from harvest.linking import ImplicitLinker, LinkerConfig
from harvest.model import ChatMessage, Role
from harvest.reply_features import (
    FEATURES,
    PAIR_COLUMNS,
    QUERY_COLUMNS,
    SELF_QUERY_COLUMNS,
    ReplyFeatures,
    Seen,
)

__all__ = [
    "FEATURES",
    "LearnedLinker",
    "Network",
    "ReplyModel",
    "default_model",
    "load_model",
]

FORMAT: Final = "fanqa-reply-model"
_RANKED: Final = frozenset({Role.EXPERT, Role.MODERATOR})
VERSION: Final = 2
_NO_ROLES: Mapping[str, Role] = MappingProxyType({})
Array = npt.NDArray[np.float64]


@lru_cache(maxsize=1)
def _one_blas_thread() -> Callable[[], contextlib.AbstractContextManager[Any]]:
    """A context that runs numpy's BLAS on one thread. A multi-threaded BLAS spends far
    longer synchronising than computing on matrices this small, and much longer still on a
    busy machine (2 ms instead of 0.1 ms per message measured here under load)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return contextlib.nullcontext
    controller = ThreadpoolController()
    if all(lib.num_threads <= 1 for lib in controller.select(user_api="blas").lib_controllers):
        return contextlib.nullcontext
    return lambda: controller.limit(limits=1, user_api="blas")


@dataclass(frozen=True, slots=True)
class Network:
    """One ranker: ``score = w2 · tanh(W1 · (x - mean) / scale + b1) + b2``."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    w1: tuple[tuple[float, ...], ...]  # hidden × features
    b1: tuple[float, ...]
    w2: tuple[float, ...]
    b2: float

    def check(self, n_features: int) -> None:
        """InputError unless every shape fits ``n_features`` inputs and all are finite."""
        hidden = len(self.b1)
        shapes_ok = (
            len(self.mean) == n_features
            and len(self.scale) == n_features
            and hidden > 0
            and len(self.w1) == hidden
            and all(len(row) == n_features for row in self.w1)
            and len(self.w2) == hidden
        )
        if not shapes_ok:
            raise InputError("reply model weights do not fit its features", field="members")
        values = [*self.mean, *self.scale, *self.b1, *self.w2, self.b2]
        values.extend(v for row in self.w1 for v in row)
        if not all(math.isfinite(v) for v in values) or min(self.scale) <= 0:
            raise InputError("reply model weights are not finite numbers", field="members")

    def to_dict(self) -> dict[str, Any]:
        r = _round
        return {
            "mean": [r(v) for v in self.mean],
            "scale": [r(v) for v in self.scale],
            "w1": [[r(v) for v in row] for row in self.w1],
            "b1": [r(v) for v in self.b1],
            "w2": [r(v) for v in self.w2],
            "b2": r(self.b2),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Network:
        return cls(
            tuple(float(v) for v in data["mean"]),
            tuple(float(v) for v in data["scale"]),
            tuple(tuple(float(v) for v in row) for row in data["w1"]),
            tuple(float(v) for v in data["b1"]),
            tuple(float(v) for v in data["w2"]),
            float(data["b2"]),
        )


def _round(value: float) -> float:
    return float(f"{value:.6g}")


@dataclass(frozen=True, slots=True)
class ReplyModel:
    """An ensemble of :class:`Network` rankers over :data:`FEATURES`, and provenance.

    ``window``: earlier messages considered. ``self_bias``: added to the "starts something
    new" candidate's log-probability (chosen on dev: > 0 links less, more precisely).
    """

    members: tuple[Network, ...]
    window: int = 80
    self_bias: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)
    _packed: tuple[Array, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.members:
            raise InputError("reply model has no networks", field="members")
        if self.window < 1:
            raise InputError("window must be >= 1", field="window")
        if not math.isfinite(self.self_bias):
            raise InputError("self_bias must be a finite number", field="self_bias")
        for net in self.members:
            net.check(len(FEATURES))
        # All members' first layers as one matrix, the normalisation folded in.
        w1s, b1s = [], []
        for net in self.members:
            scale = np.asarray(net.scale)
            w1 = np.asarray(net.w1) / scale
            w1s.append(w1)
            b1s.append(np.asarray(net.b1) - w1 @ np.asarray(net.mean))
        w2 = np.zeros((sum(len(n.b1) for n in self.members), len(self.members)))
        start = 0
        for j, net in enumerate(self.members):
            w2[start : start + len(net.b1), j] = net.w2
            start += len(net.b1)
        w1 = np.vstack(w1s).T.astype(np.float32)  # features × (members · hidden)
        packed = (
            np.concatenate(b1s).astype(np.float32),
            w2.astype(np.float32),
            np.array([n.b2 for n in self.members], dtype=np.float32),
            np.ascontiguousarray(w1[PAIR_COLUMNS]),
            np.ascontiguousarray(w1[QUERY_COLUMNS]),
            w1[0] + 0.0,
            np.ascontiguousarray(w1[SELF_QUERY_COLUMNS]),
        )
        object.__setattr__(self, "_packed", packed)

    @property
    def kind(self) -> str:
        return f"mlp x{len(self.members)}, {len(self.members[0].b1)} hidden"

    @property
    def size_bytes(self) -> int:
        return len(self.to_json().encode())

    def log_probs(self, rows: npt.ArrayLike) -> Array:
        """Each candidate's log-probability (row 0: "starts something new"), ensembled.

        ``rows`` as :class:`ReplyFeatures` lays them out: the query block the same on
        every row, the pair block only on candidates, "self" and self × query only on row
        0; so the query's part of the hidden layer is computed once.
        """
        b1, w2, b2, w_pair, w_query, w_self, w_self_query = self._packed
        x = np.asarray(rows, dtype=np.float32)
        query = x[0, QUERY_COLUMNS]
        base = query @ w_query + b1
        hidden = np.empty((len(x), len(b1)), dtype=np.float32)
        hidden[0] = base + w_self * x[0, 0] + x[0, SELF_QUERY_COLUMNS] @ w_self_query
        if len(x) > 1:
            with _one_blas_thread()():
                hidden[1:] = x[1:, PAIR_COLUMNS] @ w_pair + base
        scores = np.tanh(hidden, out=hidden) @ w2 + b2  # candidates × members
        scores = scores - scores.max(axis=0)
        logp = scores - np.log(np.exp(scores).sum(axis=0))
        out: Array = logp.mean(axis=1).astype(np.float64)
        out[0] += self.self_bias
        return out

    def choose(self, rows: npt.ArrayLike) -> tuple[int, float]:
        """The best candidate's position and its probability (renormalised)."""
        logp = self.log_probs(rows)
        best = int(np.argmax(logp))
        probs = np.exp(logp - logp[best])
        return best, float(1.0 / probs.sum())

    def to_json(self) -> str:
        """The model as JSON, with feature names so a reader can check the order."""
        body = {
            "format": FORMAT,
            "version": VERSION,
            "features": list(FEATURES),
            "window": self.window,
            "self_bias": _round(self.self_bias),
            "meta": dict(self.meta),
            "members": [net.to_dict() for net in self.members],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReplyModel:
        """Read :meth:`to_json` output; InputError when it is not a model these features fit."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"reply model is not JSON: {exc}", field="reply_model") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(
                "not a fanqa reply model (refit with scripts/fit_linker.py)", field="format"
            )
        if data.get("version") != VERSION:
            raise InputError(
                f"reply model version {data.get('version')!r}; this fanqa reads {VERSION}",
                field="version",
            )
        if data.get("features") != list(FEATURES):
            raise InputError("reply model features differ from this version's", field="features")
        try:
            members = tuple(Network.from_dict(m) for m in data["members"])
            window = int(data.get("window", 80))
            bias = float(data.get("self_bias", 0.0))
            meta = data.get("meta") or {}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"reply model is malformed: {exc!r}", field="members") from exc
        return cls(members, window, bias, meta)


def load_model(path: str | Path) -> ReplyModel:
    """The reply model in file ``path``; InputError naming the file when it is unusable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read reply model {path}: {exc}", field="reply_model") from exc
    try:
        return ReplyModel.from_json(text)
    except InputError as exc:
        raise InputError(f"{path}: {exc}", field=exc.field) from exc


@lru_cache(maxsize=1)
def default_model() -> ReplyModel:
    """The model shipped with fanqa (fitted on the Ubuntu IRC training split), read once."""
    text = resources.files("harvest").joinpath("data/reply_model.json").read_text("utf-8")
    return ReplyModel.from_json(text)


class LearnedLinker(ImplicitLinker):
    """An :class:`ImplicitLinker` whose links a :class:`ReplyModel` chooses.

    Explicit replies and topic roots pass through (and are remembered). Otherwise the rule
    linker's choice is one feature among many and the model's best candidate (or none) is
    the link, with two exceptions where the rules' choice stands: the author is an expert
    or moderator (roles are not in the IRC data the model learned from, the rules answer
    an open question with a ranked member's next message), or the model's probability for
    a choice the rules did not make is under ``min_confidence`` (default: the config's
    ``learned_min_confidence``; 0 lets the model decide alone). ``last_reason`` is the
    rule's reason when the rules' choice stands, ``"continuation"`` for the author's own
    earlier message, else ``"learned"``; ``last_confidence`` is the model's probability for
    the link returned (``None`` for messages it did not decide).
    """

    def __init__(
        self,
        config: LinkerConfig | None = None,
        roles: Mapping[str, Role] = _NO_ROLES,
        model: ReplyModel | None = None,
        *,
        min_confidence: float | None = None,
    ) -> None:
        super().__init__(config, roles)
        if min_confidence is None:
            min_confidence = self.config.learned_min_confidence
        if not 0.0 <= min_confidence <= 1.0:
            raise InputError("min_confidence must be in [0, 1]", field="min_confidence")
        self.model = model or default_model()
        self.min_confidence = min_confidence
        self._features: OrderedDict[tuple[str, str, str], ReplyFeatures] = OrderedDict()

    def feed_at(self, msg: ChatMessage, at: float) -> str | None:
        rule = super().feed_at(msg, at)
        reason = self.last_reason
        self.last_confidence = None
        if msg.is_service:
            return rule
        feats = self._conversation_features(msg)
        me = feats.see(msg.message_id, msg.author_id, msg.author_name, msg.text, at, bot=msg.is_bot)
        if msg.is_topic_root or msg.reply_to_id is not None:
            replied = msg.reply_to_id if not msg.is_topic_root else None
            feats.commit(me, feats.find(replied) if replied else None)
            return rule
        cands, rows = feats.rows(me, rule, reason)
        logp = self.model.log_probs(rows)
        probs = np.exp(logp - logp.max())
        probs /= probs.sum()
        best = int(np.argmax(probs))
        chosen = cands[best]
        target = None if chosen is None else chosen.message_id
        if target != rule and (
            (rule is not None and self.roles.get(msg.author_id) in _RANKED)
            or self._unsure(chosen, me, float(probs[best]))
        ):  # the rules' choice stands
            at_rule = next(
                (i for i, c in enumerate(cands) if c is not None and c.message_id == rule),
                0 if rule is None else -1,
            )
            feats.commit(me, cands[at_rule] if at_rule >= 0 else None)
            self.last_confidence = float(probs[at_rule]) if at_rule >= 0 else None
            return rule
        feats.commit(me, chosen)
        self.last_confidence = float(probs[best])
        if target != rule:
            mine = chosen is not None and chosen.author == me.author
            self.last_reason = None if chosen is None else "continuation" if mine else "learned"
            self.also = ()
        return target

    def _unsure(self, chosen: Seen | None, me: Seen, probability: float) -> bool:
        """Whether the model's choice is too unsure to override the rules'."""
        return probability < self.min_confidence

    def scores_for(self, msg: ChatMessage) -> Sequence[tuple[str | None, float]]:
        """Each candidate of ``msg`` (``None``: it starts something new) with its
        log-probability, without remembering ``msg``: for tests and inspection."""
        feats = self._conversation_features(msg)
        at = msg.sent_at.timestamp()
        me = feats.see(msg.message_id, msg.author_id, msg.author_name, msg.text, at)
        cands, rows = feats.rows(me)
        logp = self.model.log_probs(rows)
        return [
            (None if c is None else c.message_id, float(p))
            for c, p in zip(cands, logp, strict=True)
        ]

    def _conversation_features(self, msg: ChatMessage) -> ReplyFeatures:
        key = (msg.platform, msg.chat_id, msg.thread_id or "")
        feats = self._features.get(key)
        if feats is None:
            if len(self._features) >= self.config.max_conversations:
                self._features.popitem(last=False)
            feats = ReplyFeatures(self.model.window, self.config.question)
            self._features[key] = feats
        else:
            self._features.move_to_end(key)
        return feats
