"""Evaluate any model on held-out chat examples: the same metrics for every backend.

Every model answers through a ``Generator`` (a local LoRA, a hosted fine-tuned model, a vLLM
server), so every model gets the same generation metrics, on the same scale:

- ``chrf`` (0–100, sacrebleu's character n-grams, fair to Chinese and English alike) of the
  greedy answers against the reference answers;
- ``question_gain``: how much more often than chance an answer is closer to its own
  reference than to every other reference answer in the same script (0 for a model that
  says the same, or a random answer, whatever it is asked; 1 when each answer is closest
  to its own reference; see ``question_gain``);
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

__all__ = ["EvalMetrics", "chrf", "evaluate", "question_gain"]

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


def _script(text: str) -> bool:
    """Whether ``text`` is written in CJK characters (the other answer must match it)."""
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def question_gain(texts: Sequence[str], references: Sequence[str]) -> float | None:
    """How much more often than chance each answer is closest to its own reference.

    For every example: is the answer's sentence chrF with its own reference higher than with
    every other reference answer of the holdout in the same script (Chinese or not; any
    script when there is no other)? A tie counts as a fair coin toss among the tied answers.
    The hit rate is corrected for chance (1 / the number of candidates): 0 for a model that
    ignores the question (the same answer for all, or a random one), 1 when every answer is
    closest to its own reference. None when every
    reference answer is the same. Same script, because against an answer in the other
    language any answer in the asker's language would look as if it followed the question.
    """
    from sacrebleu.metrics.chrf import CHRF

    scorer = CHRF()
    hits = chance = 0.0
    counted = 0
    distinct = sorted(set(references))
    for text, own in zip(texts, references, strict=True):
        others = [r for r in distinct if r != own]
        same = [r for r in others if _script(r) == _script(own)]
        others = same or others
        if not others:
            continue
        score = scorer.sentence_score(text, [own]).score
        rivals = [scorer.sentence_score(text, [o]).score for o in others]
        if score >= max(rivals):  # a tie is a coin toss between the tied answers
            hits += 1.0 / (1 + sum(r == score for r in rivals))
        chance += 1.0 / (1 + len(others))
        counted += 1
    if not counted:
        return None
    rate, base = hits / counted, chance / counted
    return (rate - base) / (1.0 - base)


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
    gain = question_gain(texts, references)
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
