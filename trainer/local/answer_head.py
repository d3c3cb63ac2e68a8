"""TRL's fused LM head, scored on the answer positions only when training on a CPU.

TRL's ``SFTTrainer`` patches the model so that ``model(..., fused_lm_head=True)`` returns
per-token log-probabilities (plus the entropy and top-1 hits it logs) without building the
full logits. On GPUs with Triton it scores only the positions with a label; elsewhere it
scores every position (prompt tokens too, a third of the tokens on ``bench/train_throughput``)
through a torch fallback of its Triton kernel that makes about a dozen passes over each
``tokens × vocab`` tile. On the tiny CPU model that head was a third of a training step.

``use_answer_head`` wraps TRL's patched forward: on a CPU, for the plain case (no logit
scaling or soft-capping, temperature 1, no pre-shifted labels, no MoE router loss), it runs
the backbone, keeps the positions whose next-token label is not ``-100`` and scores them with
``AnswerLogProbs`` (chunks of tokens against the whole vocabulary: one log-softmax, the
label's log-probability, the entropy and the argmax; the backward recomputes the chunk's
logits). It returns
TRL's own ``FusedCausalLMOutput`` with the same fields, zero on ignored positions, so TRL's
``compute_loss`` (loss, entropy and token-accuracy metrics) runs unchanged. Anything else —
CUDA, another device, the unusual cases — goes to TRL's head.
"""

from __future__ import annotations

import functools
import types
from typing import Any

__all__ = ["use_answer_head"]

_CHUNK_ELEMENTS = 1 << 24  # logits per chunk (64 MB in fp32): tokens per chunk = this / vocab


def _scalers(config: Any) -> bool:
    """Whether the model scales or soft-caps its logits (TRL's head handles those)."""
    text = config.get_text_config()
    names = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier")
    return any(getattr(text, n, None) is not None for n in (*names, "logits_scaling"))


def _answer_logprobs() -> Any:
    import torch

    class AnswerLogProbs(torch.autograd.Function):
        """log p(label), entropy and top-1 hit of ``hidden @ weight.T (+ bias)`` per row,
        in chunks of rows; the entropy and the hits carry no gradient. A single chunk keeps
        its probabilities for the backward; more chunks recompute theirs there."""

        @staticmethod
        def forward(ctx: Any, hidden: Any, weight: Any, bias: Any, targets: Any) -> Any:
            n = hidden.shape[0]
            step = max(1, _CHUNK_ELEMENTS // weight.shape[0])
            log_probs = hidden.new_empty(n, dtype=torch.float32)
            entropy = hidden.new_empty(n, dtype=torch.float32)
            is_top1 = torch.empty(n, dtype=torch.bool, device=hidden.device)
            log_z = hidden.new_empty(n, dtype=torch.float32)
            kept = None
            for lo in range(0, n, step):
                hi = min(lo + step, n)
                logits = torch.nn.functional.linear(hidden[lo:hi], weight, bias).float()
                target = targets[lo:hi].unsqueeze(1)
                log_p = torch.log_softmax(logits, dim=-1)
                picked = log_p.gather(1, target).squeeze(1)
                log_probs[lo:hi] = picked
                log_z[lo:hi] = logits.gather(1, target).squeeze(1) - picked
                probs = log_p.exp()
                entropy[lo:hi] = -(probs * log_p).sum(-1)
                if n <= step:
                    kept = probs
                # top-1: the label beats every other token; on an exact tie the first maximum
                # wins, as argmax (and TRL) decide (amax is several times cheaper than argmax)
                other = log_p.scatter_(1, target, -torch.inf).amax(-1)
                hit = picked > other
                tied = (picked == other).nonzero().squeeze(1)
                if tied.numel():
                    hit[tied] = logits[tied].argmax(-1) == targets[lo:hi][tied]
                is_top1[lo:hi] = hit
            ctx.save_for_backward(hidden, weight, bias, targets, log_z, kept)
            ctx.mark_non_differentiable(entropy, is_top1)
            ctx.set_materialize_grads(False)
            return log_probs, entropy, is_top1

        @staticmethod
        def backward(ctx: Any, grad_log_probs: Any, *_: Any) -> Any:
            hidden, weight, bias, targets, log_z, kept = ctx.saved_tensors
            if grad_log_probs is None:
                return None, None, None, None
            need_h, need_w, need_b = ctx.needs_input_grad[:3]
            n = hidden.shape[0]
            step = max(1, _CHUNK_ELEMENTS // weight.shape[0])
            grad_h = torch.empty_like(hidden) if need_h else None
            grad_w = torch.zeros_like(weight, dtype=torch.float32) if need_w else None
            grad_b = torch.zeros_like(bias, dtype=torch.float32) if need_b else None
            rows = torch.arange(min(step, n), device=hidden.device)
            for lo in range(0, n, step):
                hi = min(lo + step, n)
                g = grad_log_probs[lo:hi].float().unsqueeze(1)
                if kept is not None:
                    probs = kept * -g
                else:
                    logits = torch.nn.functional.linear(hidden[lo:hi], weight, bias).float()
                    probs = logits.sub_(log_z[lo:hi].unsqueeze(1)).exp_().mul_(-g)
                # d log p(t) / dz = onehot(t) - softmax(z), times the incoming gradient
                probs[rows[: hi - lo], targets[lo:hi]] += g.squeeze(1)
                dz = probs.to(hidden.dtype)
                if grad_h is not None:
                    grad_h[lo:hi] = dz @ weight
                if grad_w is not None:
                    grad_w.addmm_(dz.t().float(), hidden[lo:hi].float())
                if grad_b is not None:
                    grad_b += dz.float().sum(0)
            return (
                grad_h,
                None if grad_w is None else grad_w.to(weight.dtype),
                None if grad_b is None else grad_b.to(bias.dtype),
                None,
            )

    return AnswerLogProbs


@functools.cache
def _function() -> Any:
    return _answer_logprobs()


def use_answer_head(model: Any) -> None:
    """Route ``model(..., fused_lm_head=True)`` on a CPU through the answer-only head.

    ``model`` is the model TRL patched with ``add_fused_lm_head`` (the PEFT base model);
    call after building the ``SFTTrainer``. Idempotent.
    """
    if getattr(model.forward, "_fanqa_answer_head", False):
        return
    trl_forward = model.forward
    scaled = _scalers(model.config)

    @functools.wraps(trl_forward)
    def forward(
        self: Any,
        *args: Any,
        fused_lm_head: bool = False,
        labels: Any = None,
        shift_labels: Any = None,
        num_items_in_batch: Any = None,
        **kwargs: Any,
    ) -> Any:
        head = self.get_output_embeddings()
        if (
            not fused_lm_head
            or scaled
            or shift_labels is not None
            or labels is None
            or kwargs.get("output_router_logits")
            or getattr(self.config.get_text_config(), "output_router_logits", False)
            or head is None
            or head.weight.device.type != "cpu"
            or type(head.weight).__name__ == "DTensor"
        ):
            return trl_forward(
                *args,
                fused_lm_head=fused_lm_head,
                labels=labels,
                shift_labels=shift_labels,
                num_items_in_batch=num_items_in_batch,
                **kwargs,
            )
        from trl.trainer.utils import FusedCausalLMOutput

        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        labels = labels[:, 1:].to(hidden.device)
        mask = labels != -100
        log_probs, entropy, is_top1 = _function().apply(
            hidden[mask], head.weight, head.bias, labels[mask]
        )
        log_probs = log_probs.new_zeros(mask.shape).masked_scatter(mask, log_probs)
        entropy = entropy.new_zeros(mask.shape).masked_scatter(mask, entropy)
        is_top1 = is_top1.new_zeros(mask.shape).masked_scatter(mask, is_top1)
        count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
        return FusedCausalLMOutput(
            loss=-log_probs.sum() / count,
            log_probs=log_probs,
            entropy=entropy,
            is_top1=is_top1,
            label_mask=mask,
        )

    forward._fanqa_answer_head = True  # type: ignore[attr-defined]
    model.forward = types.MethodType(forward, model)
