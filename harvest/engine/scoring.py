"""The confidence of one pair: a pure function of the engine's features (replaceable)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from harvest.answer_kinds import AnswerKind
from harvest.answer_kinds import answer_kind as classify_answer
from harvest.memo import memo_text
from harvest.model import Confidence, PairMethod, Role
from harvest.quality import is_answer_like

__all__ = ["PairFeatures", "Scorer", "answer_kind", "score_pair"]

_LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|org|io|net|cn|dev)\b", re.IGNORECASE)
_CODE = re.compile(r"`|^\s*[$>#] |\b(?:pip|npm|apt|sudo|git|docker)\s+\w", re.MULTILINE)
_STEPS = re.compile(r"(?:^|\n)\s*(?:\d+[.)、]|[-*•])\s+|→|->|先.{1,20}再|第[一二三四五]步")


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """What the engine knows about one pair when it scores it.

    ``link_reason``: ``reply``, ``thread`` or the implicit linker's reason (``addressed``,
    ``called``, ``continuation``, ``question``); ``question_detected``: the question reads
    as one (False for a thread that asks by nature); ``delay_seconds``: from the
    question's last line to the answer's first; ``position``: answers given before this one;
    ``link_prob``: for an implicit pair under learned linking, the highest of the learned
    reply linker's probabilities for its decision on each of the answer's messages (None
    otherwise: a reply button, a thread, the rules' linker).
    """

    method: PairMethod
    link_reason: str
    answerer_role: Role
    asker_role: Role
    answer_kind: str
    question_detected: bool
    delay_seconds: float
    answer_parts: int
    question_parts: int
    position: int
    link_prob: float | None = None


# features, question text, answer text → confidence. The precision work plugs in here.
Scorer = Callable[[PairFeatures, str, str], Confidence]


@memo_text
def answer_kind(text: str) -> str:
    """An answer's class for scoring: a kind of non-answer from ``harvest.answer_kinds`` (ack,
    clarifying, counter_question, small_talk, follow_up_question), filler, or the form of a
    real answer: link, code, steps, short or statement (English and Chinese)."""
    stripped = text.strip()
    kind = classify_answer(stripped)
    if kind is not AnswerKind.ANSWER:
        return kind.value
    if not is_answer_like(stripped):
        return "filler"
    if _LINK.search(stripped):
        return "link"
    if _CODE.search(stripped):
        return "code"
    if _STEPS.search(stripped):
        return "steps"
    cjk = sum(1 for ch in stripped if "\u3400" <= ch <= "\u9fff")
    if (cjk and len(stripped) < 8) or (not cjk and len(stripped.split()) < 4):
        return "short"
    return "statement"


_RULE_WEIGHT = {
    "reply": 1.4,
    "thread": 0.9,
    "addressed": 0.8,
    "question": 0.3,
    "called": 0.2,
    "continuation": -0.6,
}
_KIND_WEIGHT = {
    "link": 0.7,
    "code": 0.7,
    "steps": 0.7,
    "statement": 0.3,
    "short": -0.6,
    "counter_question": -1.6,
    "clarifying": -1.6,
    "follow_up_question": -1.6,
    "small_talk": -2.0,
    "ack": -2.5,
    "filler": -2.5,
}


def score_pair(features: PairFeatures, question: str, answer: str) -> Confidence:
    """A logistic score over hand-set weights: rule, answerer role, answer kind, timing.

    For an implicit link of the learned linker (``link_prob``), the confidence is the
    geometric mean of that score and the linker's probability for the link; both stay in
    the signals (``engine_confidence``, ``link_prob``). Pure and cheap; a learned scorer
    with the same signature may replace it.
    """
    del question, answer  # the rules only look at features; learned scorers read the text
    f = features
    z = -0.4 + _RULE_WEIGHT.get(f.link_reason, 0.0)
    if f.answerer_role in (Role.EXPERT, Role.MODERATOR):
        z += 1.2
    z += _KIND_WEIGHT.get(f.answer_kind, 0.0)
    if not f.question_detected:
        z -= 0.3
    if f.delay_seconds > 3600:
        z -= 0.5
    z -= 0.25 * min(f.position, 4)
    value = round(1.0 / (1.0 + math.exp(-z)), 4)
    rule = str(f.method) if f.method is not PairMethod.IMPLICIT else f"implicit:{f.link_reason}"
    signals: tuple[tuple[str, str | float | bool], ...] = (
        ("answerer_role", str(f.answerer_role)),
        ("asker_role", str(f.asker_role)),
        ("answer_kind", f.answer_kind),
        ("question_detected", f.question_detected),
        ("delay_s", round(f.delay_seconds, 1)),
        ("answer_parts", f.answer_parts),
        ("question_parts", f.question_parts),
        ("position", f.position),
    )
    if f.link_prob is not None and f.method is PairMethod.IMPLICIT:
        prob = round(f.link_prob, 4)
        signals += (("engine_confidence", value), ("link_prob", prob))
        value = round(math.sqrt(value * prob), 4)
    return Confidence(value, rule, signals)
