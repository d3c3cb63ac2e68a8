"""LoRA dropout on CPUs with a cheaper random mask.

peft puts an ``nn.Dropout`` in front of every LoRA layer. On a CPU, torch draws its keep-mask
with ``bernoulli_``, one double-precision draw per element; on the tiny model of
``bench/train_throughput.py`` those masks were a fifth of a training step (profiled: 350 calls,
≈0.64 ms each). ``use_cpu_dropout`` swaps each LoRA layer's dropout for :class:`MaskDropout`,
the same inverted dropout (each element kept with probability ``1 - p`` and scaled by
``1 / (1 - p)``; identity in eval mode) whose mask comes from 24 random bits per element
(``p`` is exact to 2⁻²⁴), drawn from torch's seeded generator, so runs stay reproducible.
Only layers whose weights are on a CPU are touched; on GPUs peft's dropout stays.
"""

from __future__ import annotations

from typing import Any

__all__ = ["mask_dropout", "use_cpu_dropout"]

_BITS = 24
_LOW = (1 << _BITS) - 1


def mask_dropout(p: float) -> Any:
    """A ``torch.nn.Module``: inverted dropout with probability ``p`` (0 ≤ p < 1)."""
    import torch

    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")

    class MaskDropout(torch.nn.Module):
        """Inverted dropout whose keep-mask is ``(random int32 & 2²⁴-1) ≥ p·2²⁴``."""

        def __init__(self, p: float) -> None:
            super().__init__()
            self.p = p
            self.threshold = round(p * (1 << _BITS))
            self.scale = 1.0 / (1.0 - p)

        def forward(self, x: Any) -> Any:
            if not self.training or self.threshold == 0:
                return x
            bits = torch.empty(x.shape, dtype=torch.int32, device=x.device).random_()
            keep = bits.bitwise_and_(_LOW) >= self.threshold
            return x * keep * self.scale

        def extra_repr(self) -> str:
            return f"p={self.p}"

    return MaskDropout(p)


def use_cpu_dropout(model: Any) -> int:
    """Swap the ``nn.Dropout`` of every LoRA layer of ``model`` whose weights are on a CPU
    for :func:`mask_dropout`; returns how many were swapped. Idempotent."""
    import torch

    swapped = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, torch.nn.ModuleDict):
            continue
        weight = getattr(module, "weight", None)
        if weight is None or weight.device.type != "cpu":
            continue
        for name, layer in list(dropouts.items()):
            if type(layer) is torch.nn.Dropout and layer.p > 0:
                replacement = mask_dropout(layer.p)
                replacement.train(layer.training)
                dropouts[name] = replacement
                swapped += 1
    return swapped
