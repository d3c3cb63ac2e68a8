"""Evaluate a model that only answers (a chat API) on held-out examples; the hosted gate policy.

A chat API gives no loss under teacher forcing, so a hosted candidate is judged on its
generations: ``chrf`` (0–100, sacrebleu, fair to Chinese and English) against the reference
answers, and ``question_gain`` = 1 − chrF(generations, another example's answer) /
chrF(generations, their own answers): the share of the match that the right question
explains (≈ 0 for a model that says the same thing whatever it is asked). Also reported:
``exact_match`` (share of answers equal to the reference after whitespace folding),
``mean_logprob`` and ``finished_rate`` (answers that ended before the token limit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harvest.errors import TrainingError
from trainer.chat_format import answer_text, prompt_messages
from trainer.evaluate import chrf
from trainer.gate import GatePolicy
from trainer.generation import Generator

__all__ = ["HOSTED_POLICY", "ChatEval", "evaluate_chat", "other_answers"]

# chrF must improve by 2 % on the live model; answers that ignore the question never pass.
HOSTED_POLICY = GatePolicy(primary_metric="chrf", margin=0.02, floors={"question_gain": 0.2})


@dataclass(frozen=True)
class ChatEval:
    """The metrics of one model on one holdout, and its generations."""

    chrf: float
    question_gain: float | None
    exact_match: float
    mean_logprob: float
    finished_rate: float
    n: int
    generations: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, float | int | None]:
        """The numbers only (what the gate and the registry store)."""
        return {
            "chrf": self.chrf,
            "question_gain": self.question_gain,
            "exact_match": self.exact_match,
            "mean_logprob": self.mean_logprob,
            "finished_rate": self.finished_rate,
            "n": self.n,
        }


def other_answers(answers: Sequence[str]) -> list[str] | None:
    """For each answer, the next different answer in the list; None when all are the same."""
    out = []
    n = len(answers)
    for i, own in enumerate(answers):
        rotated = (answers[(i + j) % n] for j in range(1, n))
        other = next((a for a in rotated if a != own), None)
        if other is None:
            return None
        out.append(other)
    return out


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def evaluate_chat(
    generator: Generator,
    examples: Sequence[Mapping[str, Any]],
    *,
    max_new_tokens: int = 128,
    on_progress: Callable[[int], None] | None = None,
) -> ChatEval:
    """Generate an answer for every example's prompt and score them (see the module doc)."""
    if not examples:
        raise TrainingError("no examples to evaluate on")
    references = [answer_text(e) for e in examples]
    outs = []
    for i, example in enumerate(examples):
        outs.append(generator.generate(prompt_messages(example), max_new_tokens=max_new_tokens))
        if on_progress is not None:
            on_progress(i + 1)
    texts = [g.text.strip() for g in outs]
    score = chrf(texts, references)
    others = other_answers(references)
    gain = None
    if others is not None:
        gain = 1.0 - chrf(texts, others) / score if score > 0 else 0.0
    n = len(examples)
    return ChatEval(
        chrf=score,
        question_gain=gain,
        exact_match=sum(_fold(t) == _fold(r) for t, r in zip(texts, references, strict=True)) / n,
        mean_logprob=sum(g.mean_logprob for g in outs) / n,
        finished_rate=sum(1 for g in outs if g.finished) / n,
        n=n,
        generations=tuple(texts),
    )
