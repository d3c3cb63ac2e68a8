"""A community's own pair classifier, learned from its moderators' approvals and rejections.

Logistic regression (scikit-learn) over hashed character n-grams of the question and of
the answer plus the pairing engine's signals (method, rule score, answer kind, lengths,
language, overlap). Fitted from labelled pairs in well under a second for hundreds of
decisions; it re-scores a pair to a confidence in [0, 1]. A fitted classifier serialises
to versioned JSON bytes (coefficients only: hashing needs no vocabulary), so it can be
stored per community and loaded without refitting.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harvest.answer_kinds import AnswerKind, answer_kind
from harvest.engine.rules import score_answer
from harvest.engine.scoring import PairFeatures, Scorer, score_pair
from harvest.errors import InputError
from harvest.model import Confidence, PairMethod
from harvest.questions import detect_language, is_question, is_small_talk

__all__ = [
    "CLASSIFIED",
    "FORMAT_VERSION",
    "LabelledPair",
    "PairClassifier",
    "learned_scorer",
    "pair_signals",
    "with_classifier",
]

FORMAT_VERSION = 1
_HASH_BITS = 15  # per text field: 32,768 buckets for the question, as many for the answer
_NGRAMS = (2, 4)
_WORD_RE = re.compile(r"[a-z0-9]{3,}|[\u4e00-\u9fff]")
_URL_RE = re.compile(r"https?://|www\.", re.IGNORECASE)
_COMMAND_RE = re.compile(r"[`$/~]|sudo |apt|→|->")
SIGNALS: tuple[str, ...] = (
    *(f"method_{m.value}" for m in PairMethod),
    "rule_score",
    *(f"kind_{k.value}" for k in AnswerKind),
    "answer_is_question",
    "question_small_talk",
    "log_answer_chars",
    "log_question_chars",
    "same_language",
    "overlap",
    "answer_url",
    "answer_digits",
    "answer_command",
    "answer_messages",
)


@dataclass(frozen=True, slots=True)
class LabelledPair:
    """A pair as the classifier sees it, with a moderator's decision when known."""

    question: str
    answer: str
    method: PairMethod = PairMethod.REPLY
    score: float = 0.0
    answer_messages: int = 1
    approved: bool | None = None


def pair_signals(pair: LabelledPair) -> list[float]:
    """The engine's signals of ``pair``, in :data:`SIGNALS` order."""
    q, a = pair.question, pair.answer
    kind = answer_kind(a)
    qw = set(_WORD_RE.findall(q.lower()))
    aw = set(_WORD_RE.findall(a.lower()))
    union = len(qw | aw)
    out = [float(pair.method is m) for m in PairMethod]
    out.append(pair.score / 10.0)
    out.extend(float(kind is k) for k in AnswerKind)
    out += [
        float(is_question(a)),
        float(is_small_talk(q)),
        math.log1p(len(a)) / 5.0,
        math.log1p(len(q)) / 5.0,
        float(detect_language(q) == detect_language(a)),
        len(qw & aw) / union if union else 0.0,
        float(_URL_RE.search(a) is not None),
        float(any(c.isdigit() for c in a)),
        float(_COMMAND_RE.search(a) is not None),
        math.log(max(pair.answer_messages, 1)),
    ]
    return out


def _hasher(bits: int) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=_NGRAMS,
        n_features=2**bits,
        alternate_sign=False,
        norm="l2",
        lowercase=True,
    )


@functools.lru_cache(maxsize=4)
def _analyzer(bits: int) -> Any:
    return _hasher(bits).build_analyzer()


def _hashed(text: str, bits: int) -> dict[int, float]:
    """One text's row of :func:`_hasher` (bucket → l2-normalised count), computed without
    sklearn's per-call validation: scoring one pair as it is harvested costs a tenth."""
    from sklearn.utils import murmurhash3_32

    size = 2**bits
    counts: dict[int, float] = {}
    for gram in _analyzer(bits)(text):
        h = int(murmurhash3_32(gram, seed=0))
        index = (2147483647 - (size - 1)) % size if h == -2147483648 else abs(h) % size
        counts[index] = counts.get(index, 0.0) + 1.0
    norm = math.sqrt(sum(v * v for v in counts.values()))
    return {i: v / norm for i, v in counts.items()} if norm else {}


def _matrix(pairs: Sequence[LabelledPair], bits: int) -> Any:
    """Sparse rows: question n-grams, answer n-grams, then the signals."""
    from scipy.sparse import csr_matrix, hstack

    hasher = _hasher(bits)
    questions = hasher.transform([p.question for p in pairs])
    answers = hasher.transform([p.answer for p in pairs])
    signals = csr_matrix([pair_signals(p) for p in pairs])
    return hstack([questions, answers, signals], format="csr")


@dataclass(frozen=True, slots=True)
class PairClassifier:
    """Coefficients over hashed n-grams and signals; ``decisions`` it was fitted on."""

    weights: dict[int, float]
    bias: float
    decisions: int
    bits: int = _HASH_BITS
    version: int = FORMAT_VERSION

    @classmethod
    def fit(cls, pairs: Sequence[LabelledPair], *, c: float = 1.0) -> PairClassifier:
        """Fit on pairs with a decision; InputError unless both outcomes occur."""
        from sklearn.linear_model import LogisticRegression

        known = [p for p in pairs if p.approved is not None]
        labels = [int(bool(p.approved)) for p in known]
        if len(set(labels)) < 2:
            raise InputError(
                "need at least one approved and one rejected pair to learn from",
                field="decisions",
            )
        model = LogisticRegression(C=c, max_iter=1000)
        model.fit(_matrix(known, _HASH_BITS), labels)
        coef = model.coef_[0]
        weights = {int(i): round(float(coef[i]), 5) for i in coef.nonzero()[0]}
        weights = {i: w for i, w in weights.items() if w != 0.0}
        return cls(weights, float(model.intercept_[0]), len(known))

    def confidences(self, pairs: Sequence[LabelledPair]) -> list[float]:
        """P(approved) of each pair, in [0, 1]."""
        if not pairs:
            return []
        rows = _matrix(pairs, self.bits)
        weights = self.weights
        out: list[float] = []
        for r in range(rows.shape[0]):
            start, end = rows.indptr[r], rows.indptr[r + 1]
            z = self.bias + sum(
                weights.get(int(j), 0.0) * float(v)
                for j, v in zip(rows.indices[start:end], rows.data[start:end], strict=True)
            )
            out.append(1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0))))
        return out

    def confidence(self, pair: LabelledPair) -> float:
        """P(approved) of one pair (the same value as :meth:`confidences`, computed per pair
        without building a sparse matrix: what the harvest engine calls for each new pair)."""
        weights, size = self.weights, 2**self.bits
        z = self.bias
        for offset, text in ((0, pair.question), (size, pair.answer)):
            for index, value in _hashed(text, self.bits).items():
                z += weights.get(offset + index, 0.0) * value
        for k, value in enumerate(pair_signals(pair)):
            if value:
                z += weights.get(2 * size + k, 0.0) * value
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def to_bytes(self) -> bytes:
        """Versioned JSON: what a community's stored classifier is."""
        body = {
            "format": "fanqa-pair-classifier",
            "version": self.version,
            "bits": self.bits,
            "ngrams": list(_NGRAMS),
            "signals": list(SIGNALS),
            "bias": self.bias,
            "decisions": self.decisions,
            "weights": {str(i): w for i, w in sorted(self.weights.items())},
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PairClassifier:
        """Read :meth:`to_bytes`; InputError for another format or version."""
        try:
            body = json.loads(data)
            if body.get("format") != "fanqa-pair-classifier":
                raise ValueError("not a fanqa pair classifier")
            if body.get("version") != FORMAT_VERSION or body.get("signals") != list(SIGNALS):
                raise ValueError(f"classifier version {body.get('version')} is not supported")
            weights = {int(k): float(v) for k, v in body["weights"].items()}
            return cls(weights, float(body["bias"]), int(body["decisions"]), int(body["bits"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"cannot read classifier: {exc}", field="classifier") from exc


_OWN_SIGNALS = ("rules_confidence", "classifier_decisions", "classifier_version")
CLASSIFIED = "+classifier"  # the end of the rule of a pair the classifier scored


def with_classifier(
    rules: Confidence, value: float, decisions: int, version: int | None = None
) -> Confidence:
    """``rules`` (a pair's confidence, rule and signals) with the classifier's ``value`` in
    its place; the rules' own value is kept as ``rules_confidence``. ``rules`` may already be
    a classifier's (a pending pair re-scored by a newer fit): its rules' value stays."""
    kept = tuple((k, v) for k, v in rules.signals if k not in _OWN_SIGNALS)
    own = dict(rules.signals).get("rules_confidence", rules.value)
    extra: tuple[tuple[str, str | float | bool], ...] = (
        ("rules_confidence", own),
        ("classifier_decisions", decisions),
    )
    if version is not None:
        extra += (("classifier_version", version),)
    rule = rules.rule.removesuffix(CLASSIFIED) + CLASSIFIED
    return Confidence(round(value, 4), rule, (*kept, *extra))


def learned_scorer(
    classifier: PairClassifier, base: Scorer = score_pair, *, version: int | None = None
) -> Scorer:
    """An engine :data:`~harvest.engine.scoring.Scorer`: ``base``'s confidence replaced by
    the community classifier's (``version``: its stored version), the rule and signals kept
    (and the rules' own value)."""

    def score(features: PairFeatures, question: str, answer: str) -> Confidence:
        rules = base(features, question, answer)
        rank = score_answer(features.answerer_role, features.method, features.position)
        pair = LabelledPair(question, answer, features.method, rank, features.answer_parts)
        value = classifier.confidence(pair)
        return with_classifier(rules, value, classifier.decisions, version)

    return score
