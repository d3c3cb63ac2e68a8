"""Reactions for every platform: feedback on answers, moderators' reviews of pairs.

The decision is ``bot.core.moderation``; the unit of work ``bot.core.units.reactions.react``
applies it in one short transaction. The platform is asked whether someone administers the
chat only when their stored role does not already say, and never inside a transaction.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.core.events import ReactionEvent
from bot.core.moderation import ReactionOutcome, may_moderate
from bot.core.port import ChatPlatform
from bot.core.units.reactions import AskPlatform, member_role, react
from storage.database import Database
from storage.repo.communities import find_chat

__all__ = ["ReactionModerator", "is_moderator"]


def _role_in_chat(session: Session, platform: str, chat_id: str, user_id: str) -> str | None:
    chat = find_chat(session, platform, chat_id)
    return None if chat is None else member_role(session, chat.community_id, platform, user_id)


async def is_moderator(db: Database, platform: ChatPlatform, chat_id: str, user_id: str) -> bool:
    """A moderator of the chat's community: the moderator role there, or a platform admin."""
    role = await db.run(_role_in_chat, platform.name, chat_id, user_id)
    allowed = may_moderate(role, None)
    if allowed is None:
        allowed = await platform.is_moderator(chat_id, user_id)
    return allowed


class ReactionModerator:
    """Turns reactions into feedback or reviews (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def handle_reaction(
        self, event: ReactionEvent, platform: ChatPlatform
    ) -> ReactionOutcome:
        """Record feedback, or approve, reject or reset the pair the message stands for."""
        outcome = await self.db.run(react, event)
        if isinstance(outcome, AskPlatform):
            if not await platform.is_moderator(event.chat_id, event.user_id):
                return ReactionOutcome(None, "not a moderator", outcome.pair_id, outcome.status)
            outcome = await self.db.run(react, event, True)
        assert not isinstance(outcome, AskPlatform)  # the platform's word was given
        return outcome
