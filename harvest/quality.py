"""Is a reply an answer at all? Filters "同问", "+1", "thanks", "坐等大佬" and the like."""

from __future__ import annotations

import re

__all__ = ["is_answer_like"]

_FILLER = re.compile(
    r"^(?:同问|同求|坐等|蹲|蹲一个|顶|顶一下|插眼|mark|\+1|me too|same(?: here| question)?|"
    r"bump|thanks?|thank you|thx|ty|谢谢|多谢|感谢|好的|收到|ok|okay|哈+|lol|666+|赞|学习了|"
    r"真的吗|really|why|为什么|啥|what|huh|嗯+)[\s!！?？.。~～]*$",
    re.IGNORECASE,
)
_WAITING = re.compile(r"(坐等|等大佬|求大佬|蹲一个|同问|waiting for|following this)", re.IGNORECASE)


def _is_short(text: str) -> bool:
    if len(text) <= 12:
        return True
    cjk = any("\u3400" <= ch <= "\u9fff" for ch in text)
    return not cjk and len(text.split()) <= 3 and len(text) <= 24


def is_answer_like(text: str) -> bool:
    """False for empty text and short fillers ("同问", "+1", "thanks", "坐等大佬回答")."""
    stripped = text.strip()
    if not stripped:
        return False
    if _FILLER.match(stripped):
        return False
    return not (_is_short(stripped) and _WAITING.search(stripped))
