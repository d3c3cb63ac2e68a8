"""Is a reply an answer at all? ``is_answer_like`` is :func:`harvest.answer_kinds.is_answer`."""

from __future__ import annotations

from harvest.answer_kinds import is_answer

__all__ = ["is_answer_like"]

# Kept under its old name for callers; one implementation (answer_kinds) decides.
is_answer_like = is_answer
