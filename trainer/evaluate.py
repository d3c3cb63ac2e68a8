"""Evaluate any model on held-out chat examples: the same metrics for every backend.

Every model answers through a ``Generator`` (a local LoRA, a hosted fine-tuned model, a vLLM
server), so every model gets the same generation metrics, on the same scale:

- ``chrf`` (0–100, sacrebleu's character n-grams, fair to Chinese and English alike) of the
  greedy answers against the reference answers;
- ``question_gain`` = 1 − chrF(answers, another example's answer) / chrF(answers, their own):
  the share of the match the right question explains (≈ 0 for a model that says the same
  whatever it is asked; None when every reference answer is the same);
- ``exact_match``, ``finished_rate`` (ended before the token limit), ``mean_logprob``.

A generator that exposes its ``model`` and ``tokenizer`` (a local model) is also scored under
teacher forcing: ``loss`` (mean NLL per answer token, end of turn included), ``perplexity``,
``mean_token_accuracy``, ``sequence_accuracy``. The gate shows those but decides on the
metrics every backend has.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harvest.errors import TrainingError
from trainer.chat_format import answer_text, prompt_messages, tokenize_examples
from trainer.generation import Generation, Generator
from trainer.metrics import answer_token_metrics, shifted_predictions

__all__ = ["EvalMetrics", "chrf", "evaluate", "mismatched", "other_answers"]

Example = Mapping[str, Any]


@dataclass(frozen=True)
class EvalMetrics:
    """Metrics of one model on one holdout (see the module docstring), and its answers."""

    chrf: float
    question_gain: float | None
    exact_match: float
    finished_rate: float
    mean_logprob: float
    n: int
    loss: float | None = None
    perplexity: float | None = None
    mean_token_accuracy: float | None = None
    sequence_accuracy: float | None = None
    generations: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, float | int | None]:
        """The numbers only (what the gate and the registry store); unmeasured ones left out."""
        data: dict[str, float | int | None] = {
            "chrf": self.chrf,
            "question_gain": self.question_gain,
            "exact_match": self.exact_match,
            "finished_rate": self.finished_rate,
            "mean_logprob": self.mean_logprob,
            "n": self.n,
        }
        forced = {
            "loss": self.loss,
            "perplexity": self.perplexity,
            "mean_token_accuracy": self.mean_token_accuracy,
            "sequence_accuracy": self.sequence_accuracy,
        }
        return data | {k: v for k, v in forced.items() if v is not None}


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (sacrebleu), 0–100."""
    from sacrebleu.metrics.chrf import CHRF

    return float(CHRF().corpus_score(list(hypotheses), [list(references)]).score)


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


def mismatched(examples: Sequence[Example]) -> list[dict[str, Any]]:
    """Each answer behind the question of the next example that has a different answer."""
    answers = [answer_text(e) for e in examples]
    out = []
    for i, answer in enumerate(answers):
        other = next(
            (
                j % len(answers)
                for j in range(i + 1, i + len(answers))
                if answers[j % len(answers)] != answer
            ),
            None,
        )
        if other is None:
            return []
        prompt = prompt_messages(examples[other])
        out.append({"messages": [*prompt, {"role": "assistant", "content": answer}]})
    return out


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _generate(
    generator: Generator,
    examples: Sequence[Example],
    max_new_tokens: int,
    on_progress: Callable[[int], None] | None,
) -> list[Generation]:
    prompts = [prompt_messages(e) for e in examples]
    batch = getattr(generator, "generate_batch", None)
    outs: list[Generation] = []
    step = 8 if batch is not None else 1
    for lo in range(0, len(prompts), step):
        chunk = prompts[lo : lo + step]
        if batch is not None:
            outs += batch(chunk, max_new_tokens=max_new_tokens)
        else:
            outs += [generator.generate(chunk[0], max_new_tokens=max_new_tokens)]
        if on_progress is not None:
            on_progress(len(outs))
    return outs


def _teacher_forced(model: Any, tokenizer: Any, examples: Sequence[Example]) -> dict[str, float]:
    """Loss and accuracies over answer tokens, one right-padded batch of 8 at a time."""
    import numpy as np
    import torch

    data = tokenize_examples(tokenizer, examples, 1024, source="holdout").examples
    pad = tokenizer.pad_token_id or 0
    preds, nlls, labels = [], [], []
    with torch.inference_mode():
        for lo in range(0, len(data), 8):
            chunk = data[lo : lo + 8]
            width = max(len(e.input_ids) for e in chunk)
            ids = torch.tensor([e.input_ids + [pad] * (width - len(e.input_ids)) for e in chunk])
            target = torch.tensor([e.labels + [-100] * (width - len(e.labels)) for e in chunk])
            lengths = torch.tensor([len(e.input_ids) for e in chunk])
            mask = (torch.arange(width)[None, :] < lengths[:, None]).long()
            device = model.device
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            pred, nll = shifted_predictions(logits, target.to(model.device))
            preds.append(pred.flatten().cpu().numpy())
            nlls.append(nll.flatten().cpu().numpy())
            labels.append(target.flatten().numpy())
    # Rows start with an unlabelled token, so flattening them never joins two answers.
    return answer_token_metrics(np.concatenate(preds), np.concatenate(nlls), np.concatenate(labels))


def evaluate(
    generator: Generator,
    examples: Sequence[Example],
    *,
    max_new_tokens: int = 128,
    on_progress: Callable[[int], None] | None = None,
) -> EvalMetrics:
    """Answer every example's prompt with ``generator`` and score it (see the module doc).

    ``on_progress(done)`` is called as answers come in (a caller's heartbeat).
    """
    if not examples:
        raise TrainingError("no examples to evaluate on")
    references = [answer_text(e) for e in examples]
    outs = _generate(generator, examples, max_new_tokens, on_progress)
    texts = [g.text.strip() for g in outs]
    score = chrf(texts, references)
    others = other_answers(references)
    gain = None
    if others is not None:
        gain = 1.0 - chrf(texts, others) / score if score > 0 else 0.0
    n = len(examples)
    forced: dict[str, float] = {}
    model, tokenizer = getattr(generator, "model", None), getattr(generator, "tokenizer", None)
    if model is not None and tokenizer is not None:
        forced = _teacher_forced(model, tokenizer, examples)
    loss = forced.get("loss")
    return EvalMetrics(
        chrf=score,
        question_gain=gain,
        exact_match=sum(_fold(t) == _fold(r) for t, r in zip(texts, references, strict=True)) / n,
        finished_rate=sum(1 for g in outs if g.finished) / n,
        mean_logprob=sum(g.mean_logprob for g in outs) / n,
        n=n,
        loss=loss,
        perplexity=None if loss is None else math.exp(min(loss, 700.0)),
        mean_token_accuracy=forced.get("mean_token_accuracy"),
        sequence_accuracy=forced.get("sequence_accuracy"),
        generations=tuple(texts),
    )
