"""Attention over TRL's padding-free rows without the dense block-diagonal mask.

TRL packs a batch into one row with positions restarting at each example (and hands the
boundaries to the model as ``cu_seq_lens_q``). FlashAttention reads those boundaries and
attends within each example; PyTorch's SDPA, the kernel on CPUs and on GPUs without
``flash-attn``, gets from transformers a dense ``L × L`` block-diagonal mask instead, so a
row of 16 examples pays 16 × the attention work of the examples themselves (and builds an
``L × L`` mask per step). On the tiny CPU model that ate the whole gain of packing
(``bench/train_throughput.py``: 1.04× the padded baseline).

``packed_sdpa`` is the same SDPA kernel called once per example (``is_causal``, no mask),
registered with transformers' own extension points (``AttentionInterface`` and
``AttentionMaskInterface``) under the name ``"sdpa_packed"``. Rows that are not packed, and
any call with a padding mask (generation of a padded batch), take transformers' ``sdpa``
path unchanged.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

__all__ = ["PACKED_SDPA", "register"]

PACKED_SDPA = "sdpa_packed"


def _bounds(kwargs: dict[str, Any], length: int) -> list[int] | None:
    """Example boundaries in the row: TRL's ``cu_seq_lens_q``, else restarts of the positions."""
    cu = kwargs.get("cu_seq_lens_q")
    if cu is not None:
        bounds = [int(b) for b in cu.tolist()]
    else:
        positions = kwargs.get("position_ids")
        if positions is None or positions.shape[0] != 1:
            return None
        starts = (positions[0] == 0).nonzero().flatten().tolist()
        if len(starts) <= 1:
            return None
        bounds = [*starts, length]
    if len(bounds) < 3 or bounds[0] != 0 or bounds[-1] != length:
        return None
    return bounds


def packed_sdpa(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """SDPA per packed example; shapes as transformers' attention functions take and return."""
    import torch
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    length = query.shape[2]
    bounds = None
    if attention_mask is None and query.shape[0] == 1 and key.shape[2] == length:
        bounds = _bounds(kwargs, length)
    if bounds is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    groups = getattr(module, "num_key_value_groups", 1)
    if groups > 1:
        key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    sizes = [hi - lo for lo, hi in itertools.pairwise(bounds)]
    # one split per tensor (its backward is one concatenation; slicing each example would
    # allocate and copy a full-size gradient per example)
    pieces = [
        torch.nn.functional.scaled_dot_product_attention(
            q, k, v, dropout_p=dropout, scale=scaling, is_causal=True
        )
        for q, k, v in zip(
            query.split(sizes, dim=2),
            key.split(sizes, dim=2),
            value.split(sizes, dim=2),
            strict=True,
        )
        if q.shape[2]
    ]
    out = torch.cat(pieces, dim=2)
    return out.transpose(1, 2).contiguous(), None


def _mask(*, attention_mask: Any = None, **kwargs: Any) -> Any:
    """No mask for unpadded rows (the attention finds the examples itself); SDPA's otherwise."""
    from transformers.masking_utils import sdpa_mask

    if attention_mask is None or bool(attention_mask.all()):
        return None
    return sdpa_mask(attention_mask=attention_mask, **kwargs)


@functools.cache
def register() -> str:
    """Make ``attn_implementation="sdpa_packed"`` known to transformers (idempotent)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(PACKED_SDPA, packed_sdpa)
    AttentionMaskInterface.register(PACKED_SDPA, _mask)
    return PACKED_SDPA
