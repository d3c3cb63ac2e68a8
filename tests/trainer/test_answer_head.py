"""The CPU answer-only LM head gives what TRL's fused head gives: log-probabilities, entropy,
top-1 hits, loss and gradients, zero on the ignored positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _graph_names(tensor: Any) -> set[str]:
    seen, todo = set(), [tensor.grad_fn]
    while todo:
        fn = todo.pop()
        if fn is None or fn.name() in seen:
            continue
        seen.add(fn.name())
        todo.extend(next_fn for next_fn, _ in fn.next_functions)
    return seen


def _outputs(tiny_base: Path, answer_head: bool, bias: bool) -> dict[str, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from trainer.local.answer_head import use_answer_head

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    if bias:  # a head with a bias (Qwen-style heads have none; some models do)
        head = model.get_output_embeddings()
        head.bias = torch.nn.Parameter(torch.randn(head.weight.shape[0]) * 0.1)
    with torch.no_grad():  # sharper distributions than the random init: real top-1 hits
        model.get_output_embeddings().weight.mul_(8.0)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))  # as SFTTrainer does
    model = get_peft_model(
        model, LoraConfig(task_type="CAUSAL_LM", r=4, lora_dropout=0.0, target_modules="all-linear")
    )
    if answer_head:
        use_answer_head(model.get_base_model())
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(3, 400, (1, 60), generator=generator)
    positions = torch.cat([torch.arange(25), torch.arange(35)]).unsqueeze(0)
    with torch.no_grad():  # labels: the model's own top-1 on half the answer positions
        greedy = model(input_ids=ids, position_ids=positions, use_cache=False).logits.argmax(-1)
    labels = ids.clone()
    labels[:, :10] = -100  # the first example's prompt
    labels[:, 25:40] = -100  # the second example's prompt
    labels[:, 45:55] = greedy[:, 44:54]
    out = model(input_ids=ids, position_ids=positions, labels=labels, fused_lm_head=True)
    out.loss.backward()
    lora_a = model.base_model.model.model.layers[0].self_attn.q_proj.lora_A["default"].weight
    lora_b = model.base_model.model.model.layers[1].mlp.down_proj.lora_B["default"].weight
    return {
        "out": out,
        "graph": _graph_names(out.loss),
        "grad_a": lora_a.grad.clone(),
        "grad_b": lora_b.grad.clone(),
    }


@pytest.mark.parametrize("bias", [False, True])
def test_answer_head_matches_trls_fused_head(tiny_base: Path, bias: bool) -> None:
    import torch

    trl = _outputs(tiny_base, answer_head=False, bias=bias)
    ours = _outputs(tiny_base, answer_head=True, bias=bias)
    assert "AnswerLogProbsBackward" in ours["graph"]  # the answer head ran, not TRL's
    assert "AnswerLogProbsBackward" not in trl["graph"]
    a, b = trl["out"], ours["out"]
    assert torch.equal(a.label_mask, b.label_mask)
    assert int(a.is_top1.sum()) >= 5  # the greedy labels are hits
    assert torch.equal(a.is_top1, b.is_top1)
    for name in ("log_probs", "entropy"):
        got, want = getattr(b, name), getattr(a, name)
        assert bool((got[~b.label_mask] == 0).all())
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b.loss, a.loss, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ours["grad_a"], trl["grad_a"], rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(ours["grad_b"], trl["grad_b"], rtol=1e-4, atol=1e-7)
    assert float(ours["grad_b"].abs().sum()) > 0


def test_answer_head_leaves_plain_forward_alone(tiny_base: Path) -> None:
    """Without ``fused_lm_head`` (generation, evaluation logits) the model's own forward runs."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from trainer.local.answer_head import use_answer_head

    model = AutoModelForCausalLM.from_pretrained(tiny_base).eval()
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        before = model(input_ids=ids).logits
        add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
        use_answer_head(model)
        use_answer_head(model)  # idempotent
        after = model(input_ids=ids).logits
    torch.testing.assert_close(after, before)


@pytest.mark.parametrize("chunk_elements", [1 << 24, 7 * 50])  # one chunk; chunks of 7 rows
def test_answer_logprobs_match_trls_kernel_with_ties_and_chunks(
    chunk_elements: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row by row against TRL's chunked kernel, including exact ties for the top token (the
    first maximum counts, as TRL's ``is_top1``) and the recomputing backward of several chunks."""
    import torch
    from trl.kernels.chunked_logprob import ChunkedLogProbFunction

    from trainer.local import answer_head

    monkeypatch.setattr(answer_head, "_CHUNK_ELEMENTS", chunk_elements)
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(50, 8, generator=generator)
    weight[31] = weight[7]  # tokens 7 and 31 always tie
    hidden = torch.randn(40, 8, generator=generator)
    hidden[:10] = weight[7] * 3  # rows whose top tokens are the tied 7 and 31
    targets = torch.randint(0, 50, (40,), generator=generator)
    targets[:5], targets[5:10] = 7, 31  # 7 is the first maximum: a hit; 31 is not
    targets[10:20] = (hidden[10:20] @ weight.t()).argmax(-1)  # untied hits
    upstream = torch.randn(40, generator=generator)
    results = []
    for kernel in ("trl", "ours"):
        h, w = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
        if kernel == "trl":
            outputs = ("entropy", "is_top1")
            log_p, entropy, _, _, top1 = ChunkedLogProbFunction.apply(
                h, w, None, targets, 1.0, 32768, None, 1.0, outputs
            )
        else:
            log_p, entropy, top1 = answer_head._function().apply(h, w, None, targets)
        (log_p * upstream).sum().backward()
        results.append((log_p, entropy, top1, h.grad, w.grad))
    (trl_lp, trl_ent, trl_top, trl_gh, trl_gw), (lp, ent, top, gh, gw) = results
    assert top[:5].all() and not top[5:10].any() and top[10:20].all()
    assert torch.equal(top, trl_top)
    torch.testing.assert_close(lp, trl_lp, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ent, trl_ent, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gh, trl_gh, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(gw, trl_gw, rtol=1e-4, atol=1e-4)
