"""Replies that answer nothing are not harvested as answers."""

from __future__ import annotations

import pytest

from harvest.quality import is_answer_like


@pytest.mark.parametrize(
    "text",
    ["坐等大佬回答", "同问", "+1", "thanks!", "谢谢", "me too", "蹲一个", "真的吗？", "why?"],
)
def test_fillers_and_counter_questions_are_not_answers(text: str) -> None:
    """Short fillers, thanks and bare "really?" replies are rejected."""
    assert is_answer_like(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "每月固定日期扣款就行",
        "Use the A share class if you hold for more than a year.",
        "OK so the fee is 0.15% a year, paid daily out of NAV.",
        "谢谢提问！QDII受外汇额度限制，所以会限购。",
        "yes",
    ],
)
def test_real_answers_pass(text: str) -> None:
    """Real answers, even short or polite ones, are kept."""
    assert is_answer_like(text) is True
