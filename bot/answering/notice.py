"""What the bot says when it abstains, in the asker's language."""

from __future__ import annotations

from harvest.questions import detect_language

__all__ = ["ABSTAIN_NOTICE", "notice_for"]

ABSTAIN_NOTICE = (
    "I'm not sure about this one; a moderator will follow up. / "
    "这个问题我不太确定，稍后会有管理员跟进。"
)

_NOTICE_EN, _NOTICE_ZH = (part.strip() for part in ABSTAIN_NOTICE.split(" / ", 1))


def notice_for(question: str) -> str:
    """The abstain notice in the question's language (both halves when it is unclear)."""
    lang = detect_language(question)
    if lang == "zh":
        return _NOTICE_ZH
    if lang == "en":
        return _NOTICE_EN
    return ABSTAIN_NOTICE
