"""Who may approve, and what a reaction means: ✅/👍 approve, ❌/👎 reject, removing undoes.

Pure decisions over plain values; the reaction's unit of work (``bot.core.units``) applies
them inside one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPROVE_EMOJIS",
    "MODERATOR",
    "REJECT_EMOJIS",
    "ReactionOutcome",
    "action_for",
    "actor_label",
    "may_moderate",
]

APPROVE_EMOJIS = frozenset({"✅", "👍", "✔️", "✔", "💯", "☑️"})
REJECT_EMOJIS = frozenset({"❌", "👎", "✖️", "🚫"})
MODERATOR = "moderator"
_APPROVED, _REJECTED = "approved", "rejected"  # storage.models.PairStatus values


def _bare(emoji: str) -> str:
    """The emoji without skin-tone modifiers or a trailing variation selector."""
    return "".join(c for c in emoji if not 0x1F3FB <= ord(c) <= 0x1F3FF).strip()


def action_for(emoji: str, added: bool, status: str) -> str | None:
    """The review action a reaction means for a pair in ``status``, or None.

    Adding ✅ approves and ❌ rejects; removing one resets to pending, but only when the
    pair's status is the one that emoji set (another moderator's later verdict stands).
    """
    bare = _bare(emoji)
    if bare in APPROVE_EMOJIS or bare.rstrip("\ufe0f") in APPROVE_EMOJIS:
        meant, verb = _APPROVED, "approve"
    elif bare in REJECT_EMOJIS or bare.rstrip("\ufe0f") in REJECT_EMOJIS:
        meant, verb = _REJECTED, "reject"
    else:
        return None
    if added:
        return None if status == meant else verb
    return "reset" if status == meant else None


def may_moderate(role: str | None, platform_admin: bool | None) -> bool | None:
    """Who may approve, reject and run moderator commands in a community: its members with
    the moderator role, and the platform's administrators of the chat. None: ask the
    platform (the role alone does not say)."""
    if role == MODERATOR:
        return True
    return platform_admin


def actor_label(platform: str, user_id: str) -> str:
    """How an actor is named in review_events, e.g. ``telegram:123``."""
    return f"{platform}:{user_id}"


@dataclass(frozen=True, slots=True)
class ReactionOutcome:
    """What a reaction did: ``action`` (approve | reject | reset) or None, and why."""

    action: str | None
    reason: str
    pair_id: int | None = None
    status: str | None = None

    @property
    def text(self) -> str:
        """A short line an adapter may show."""
        if self.action is None:
            return self.reason
        return f"#{self.pair_id} → {self.status} ({self.action})"
