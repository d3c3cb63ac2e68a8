"""Evaluate base + optional adapter on held-out chat examples: answer loss, accuracy, chrF."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harvest.errors import TrainingError
from trainer.chat_format import answer_text, prompt_messages, tokenize_examples
from trainer.local.collate import PackedCollator, group_by_tokens
from trainer.metrics import answer_token_metrics, shifted_predictions

__all__ = ["EvalMetrics", "chrf", "evaluate", "mismatched"]

Example = Mapping[str, Any]


@dataclass(frozen=True)
class EvalMetrics:
    """Metrics of one model on one holdout.

    ``loss`` (mean NLL per answer token, end of turn included), ``perplexity`` = exp(loss),
    ``mean_token_accuracy`` and ``sequence_accuracy`` are measured under teacher forcing;
    ``chrf`` (0–100) compares greedy generations with the reference answers.
    ``question_gain`` = 1 − loss / loss-with-another-example's-question: the share of the
    answer loss the right question explains (≈ 0 for a model whose answers ignore the
    question); None when every reference answer is the same.
    """

    loss: float
    perplexity: float
    mean_token_accuracy: float
    sequence_accuracy: float
    chrf: float | None
    n: int
    question_gain: float | None = None
    generations: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, float | int | None]:
        """The numbers only (what the gate and the registry store)."""
        data = asdict(self)
        data.pop("generations")
        return data


def _teacher_forced(
    model: Any, tokenizer: Any, examples: Sequence[Example], max_len: int, batch_tokens: int
) -> dict[str, float]:
    import numpy as np
    import torch

    data = tokenize_examples(tokenizer, examples, max_len, source="holdout").examples
    collate = PackedCollator(pad_token_id=tokenizer.pad_token_id or 0)
    preds, nlls, labels = [], [], []
    with torch.inference_mode():
        for group in group_by_tokens([len(e.input_ids) for e in data], batch_tokens):
            batch = collate([data[i] for i in group])
            batch.pop("num_real_tokens")
            target = batch.pop("labels")
            batch = {k: v.to(model.device) if hasattr(v, "to") else v for k, v in batch.items()}
            pred, nll = shifted_predictions(model(**batch).logits, target.to(model.device))
            preds.append(pred.flatten().cpu().numpy())
            nlls.append(nll.flatten().cpu().numpy())
            labels.append(target.flatten().numpy())
    # Rows start with an unlabelled token, so flattening them never joins two answers.
    return answer_token_metrics(np.concatenate(preds), np.concatenate(nlls), np.concatenate(labels))


def mismatched(examples: Sequence[Example]) -> list[dict[str, Any]]:
    """Each answer behind the question of the next example that has a different answer.

    Empty when all answers are the same (nothing to mismatch).
    """
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


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (sacrebleu, character n-grams: fair to Chinese and English alike), 0–100."""
    from sacrebleu.metrics.chrf import CHRF

    return float(CHRF().corpus_score(list(hypotheses), [list(references)]).score)


def evaluate(
    base_model: str | Path,
    adapter_dir: str | Path | None,
    examples: Sequence[Example],
    *,
    max_new_tokens: int = 128,
    max_len: int = 1024,
    batch_tokens: int = 4096,
    generate: bool = True,
    device: str | None = None,
) -> EvalMetrics:
    """Score ``base_model`` (+ the LoRA in ``adapter_dir``) on ``examples``.

    ``generate=False`` skips the greedy generations (chrF is then None).
    """
    if not examples:
        raise TrainingError("no examples to evaluate on")
    from trainer.inference import LocalGenerator

    generator = LocalGenerator(base_model, adapter_dir, device=device)
    model, tokenizer = generator.model, generator.tokenizer
    forced = _teacher_forced(model, tokenizer, examples, max_len, batch_tokens)
    gain = None
    swapped = mismatched(examples)
    if swapped:
        other = _teacher_forced(model, tokenizer, swapped, max_len, batch_tokens)["loss"]
        gain = 1.0 - forced["loss"] / other if other > 0 else 0.0
    texts: tuple[str, ...] = ()
    score = None
    if generate:
        outs = generator.generate_batch(
            [prompt_messages(e) for e in examples], max_new_tokens=max_new_tokens
        )
        texts = tuple(g.text for g in outs)
        score = chrf(texts, [answer_text(e) for e in examples])
    loss = forced["loss"]
    return EvalMetrics(
        loss=loss,
        perplexity=math.exp(min(loss, 700.0)),
        mean_token_accuracy=forced["mean_token_accuracy"],
        sequence_accuracy=forced["sequence_accuracy"],
        chrf=score,
        n=len(examples),
        question_gain=gain,
        generations=texts,
    )
