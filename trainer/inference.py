"""Greedy answers from a local base model plus an optional LoRA adapter (merged, loaded once)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.chat_format import render

__all__ = ["Generation", "LocalGenerator", "clear_cache", "load_model", "merge_adapter"]

_CACHE: OrderedDict[tuple[str, str | None, float, str], tuple[Any, Any]] = OrderedDict()
_CACHE_SIZE = 2
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Generation:
    """One answer: its text, the mean log-probability of its tokens, how many, whether it ended."""

    text: str
    mean_logprob: float
    tokens: int
    finished: bool


def _device(device: str | None) -> str:
    import torch

    return device or ("cuda" if torch.cuda.is_available() else "cpu")


def _adapter_stamp(adapter_dir: str | None) -> float:
    if adapter_dir is None:
        return 0.0
    files = list(Path(adapter_dir).glob("adapter_model.*"))
    return max((f.stat().st_mtime for f in files), default=0.0)


def load_model(
    base_model: str | Path, adapter_dir: str | Path | None = None, *, device: str | None = None
) -> tuple[Any, Any]:
    """(model, tokenizer), the adapter merged into the base; cached per (base, adapter, device).

    A re-written adapter (newer file) is a new cache key. The tokenizer comes from the adapter
    folder when it holds one (training saves it there), else from the base.
    """
    base = str(base_model)
    adapter = None if adapter_dir is None else str(adapter_dir)
    dev = _device(device)
    key = (base, adapter, _adapter_stamp(adapter), dev)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        loaded = _load(base, adapter, dev)
        _CACHE[key] = loaded
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return loaded


def _load(base: str, adapter: str | None, device: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    model: Any = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    source = base
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        if (Path(adapter) / "tokenizer_config.json").exists():
            source = adapter
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer


def clear_cache() -> None:
    """Forget every loaded model (e.g. after a rollback deleted an adapter)."""
    with _LOCK:
        _CACHE.clear()


def merge_adapter(base_model: str | Path, adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Save base + adapter as one plain HF model (for servers without LoRA support)."""
    model, tokenizer = _load(str(base_model), str(adapter_dir), "cpu")
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _stop_ids(model: Any, tokenizer: Any) -> list[int]:
    ids = {tokenizer.eos_token_id}
    configured = model.generation_config.eos_token_id
    ids.update(configured if isinstance(configured, list) else [configured])
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(im_end, int) and im_end != tokenizer.unk_token_id:
        ids.add(im_end)
    return sorted(i for i in ids if isinstance(i, int))


class LocalGenerator:
    """Greedy generation with a (cached) merged model; stops at the end-of-turn token."""

    def __init__(
        self,
        base_model: str | Path,
        adapter_dir: str | Path | None = None,
        *,
        device: str | None = None,
    ) -> None:
        self.model, self.tokenizer = load_model(base_model, adapter_dir, device=device)
        self.stop_ids = _stop_ids(self.model, self.tokenizer)

    def generate(
        self, messages: Sequence[Mapping[str, Any]], max_new_tokens: int = 256
    ) -> Generation:
        """Answer one conversation (the messages before the answer)."""
        return self.generate_batch([messages], max_new_tokens=max_new_tokens)[0]

    def generate_batch(
        self,
        conversations: Sequence[Sequence[Mapping[str, Any]]],
        max_new_tokens: int = 256,
        *,
        batch_size: int = 16,
    ) -> list[Generation]:
        """Answer many conversations, ``batch_size`` at a time (left-padded)."""
        out: list[Generation] = []
        for lo in range(0, len(conversations), batch_size):
            out += self._batch(conversations[lo : lo + batch_size], max_new_tokens)
        return out

    def _batch(
        self, conversations: Sequence[Sequence[Mapping[str, Any]]], max_new_tokens: int
    ) -> list[Generation]:
        import torch
        from transformers import GenerationConfig

        tok = self.tokenizer
        prompts = [
            tok(render(tok, list(c), add_generation_prompt=True), add_special_tokens=False)[
                "input_ids"
            ]
            for c in conversations
        ]
        width = max(len(p) for p in prompts)
        pad = tok.pad_token_id
        ids = torch.tensor([[pad] * (width - len(p)) + list(p) for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        config = GenerationConfig(  # type: ignore[no-untyped-call]
            do_sample=False,
            max_new_tokens=max_new_tokens,
            eos_token_id=self.stop_ids,
            pad_token_id=pad,
            return_dict_in_generate=True,
            output_logits=True,
        )
        device = self.model.device
        with torch.inference_mode():
            result = self.model.generate(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                generation_config=config,
            )
        new = result.sequences[:, width:].cpu()
        logits = torch.stack(result.logits, dim=1).float().cpu()
        chosen = logits.log_softmax(-1).gather(-1, new[..., None]).squeeze(-1)
        return [self._one(row, scores) for row, scores in zip(new, chosen, strict=True)]

    def _one(self, row: Any, scores: Any) -> Generation:
        tokens = row.tolist()
        stops = [i for i, t in enumerate(tokens) if t in self.stop_ids]
        n = stops[0] + 1 if stops else len(tokens)
        text = self.tokenizer.decode(tokens[: stops[0] if stops else n], skip_special_tokens=True)
        mean = float(scores[:n].mean()) if n else 0.0
        return Generation(text=text.strip(), mean_logprob=mean, tokens=n, finished=bool(stops))
