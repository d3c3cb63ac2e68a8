"""Moderator reactions, written once: ✅/👍 approve, ❌/👎 reject, removing one undoes it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.events import ReactionEvent
from bot.core.port import ChatPlatform
from harvest.errors import FanqaError
from storage.db import session_scope
from storage.models import Chat, Member, PairStatus, QAPair
from storage.repo.communities import find_chat, get_or_create_member
from storage.repo.messages import get_message
from storage.repo.pairs import get_pair, pair_for_message, review_pair

__all__ = [
    "APPROVE_EMOJIS",
    "REJECT_EMOJIS",
    "ReactionModerator",
    "ReactionOutcome",
    "action_for",
    "actor_label",
    "is_moderator",
]

APPROVE_EMOJIS = frozenset({"✅", "👍", "✔️", "✔", "💯", "☑️"})
REJECT_EMOJIS = frozenset({"❌", "👎", "✖️", "🚫"})
_CARD_ID = re.compile(r"#(\d+)\b")


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
        meant, verb = PairStatus.APPROVED, "approve"
    elif bare in REJECT_EMOJIS or bare.rstrip("\ufe0f") in REJECT_EMOJIS:
        meant, verb = PairStatus.REJECTED, "reject"
    else:
        return None
    if added:
        return None if status == meant else verb
    return "reset" if status == meant else None


def actor_label(platform: str, user_id: str) -> str:
    """How an actor is named in review_events, e.g. ``telegram:123``."""
    return f"{platform}:{user_id}"


def _chat_member(session: Session, chat: Chat, platform: str, user_id: str, name: str) -> Member:
    return get_or_create_member(session, chat.community_id, platform, user_id, name[:255])


async def is_moderator(
    engine: Engine, platform: ChatPlatform, platform_name: str, chat_id: str, user_id: str
) -> bool:
    """A moderator of the chat's community: Member.role there, or a platform admin."""
    with session_scope(engine) as session:
        chat = find_chat(session, platform_name, chat_id)
        if chat is None:
            return False
        member = session.exec(
            select(Member).where(
                Member.community_id == chat.community_id,
                Member.platform == platform_name,
                Member.external_id == user_id,
            )
        ).first()
        if member is not None and member.role == "moderator":
            return True
    return await platform.is_moderator(chat_id, user_id)


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


def _pair_of(session: Session, chat: Chat, message_id: str) -> QAPair | None:
    """The pair a message belongs to, or the one a bot review card (``#id``) names."""
    row = get_message(session, chat.id or 0, message_id)
    if row is None or row.deleted:
        return None
    pair = pair_for_message(session, row.id or 0)
    if pair is not None:
        return pair
    ids = set(_CARD_ID.findall(row.text)) if row.is_bot else set()
    if len(ids) != 1:
        return None
    try:
        return get_pair(session, int(ids.pop()), community_id=chat.community_id)
    except FanqaError:
        return None


class ReactionModerator:
    """Turns moderators' reactions on harvested answers (or review cards) into reviews."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def handle_reaction(
        self, event: ReactionEvent, platform: ChatPlatform
    ) -> ReactionOutcome:
        """Approve, reject or reset the pair the reacted message belongs to."""
        with session_scope(self.engine) as session:
            chat = find_chat(session, event.platform, event.chat_id)
            if chat is None:
                return ReactionOutcome(None, "chat not linked to a community")
            pair = _pair_of(session, chat, event.message_id)
            if pair is None:
                return ReactionOutcome(None, "not a harvested answer")
            if action_for(event.emoji, event.added, pair.status) is None:
                return ReactionOutcome(None, "no change", pair.id, pair.status)
        if not await is_moderator(
            self.engine, platform, event.platform, event.chat_id, event.user_id
        ):
            return ReactionOutcome(None, "not a moderator", pair.id, pair.status)
        with session_scope(self.engine) as session:
            chat = find_chat(session, event.platform, event.chat_id)
            assert chat is not None
            pair = _pair_of(session, chat, event.message_id)
            if pair is None:
                return ReactionOutcome(None, "not a harvested answer")
            action = action_for(event.emoji, event.added, pair.status)
            if action is None:
                return ReactionOutcome(None, "no change", pair.id, pair.status)
            actor = _chat_member(session, chat, event.platform, event.user_id, event.user_name)
            reviewed = review_pair(
                session,
                pair.id or 0,
                action,
                community_id=chat.community_id,
                actor_id=actor.id,
                actor_label=actor_label(event.platform, event.user_id),
            )
            return ReactionOutcome(action, "done", reviewed.id, reviewed.status)
