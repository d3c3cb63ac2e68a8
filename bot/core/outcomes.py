"""What one harvested event did: the outcome the service turns into cards and replies (pure)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HarvestOutcome"]


@dataclass(frozen=True, slots=True)
class HarvestOutcome:
    """What one event did: ``kind`` is ignored | duplicate | stored | paired | merged |
    edited | reopened | deleted; ``pair_ids`` the pairs it created or touched.

    ``reopened``: an approved pair's message was edited; the pair is pending again with
    the new text and moderators need a new review card: ``review`` names those pairs,
    ``review_note`` says why ("edited after approval").
    """

    kind: str
    message_id: int | None = None
    is_question: bool = False
    pair_ids: tuple[int, ...] = ()
    review: tuple[int, ...] = ()
    review_note: str = ""
