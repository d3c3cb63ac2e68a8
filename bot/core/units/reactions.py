"""A reaction's unit of work: feedback on a bot answer, or a moderator's review of a pair.

Only two kinds of message carry a review: a harvested answer (a pair is made of it) and a
review card the bot posted (tracked by its message id in ``review_cards``). Text is never
parsed for ``#N``: a ✅ on any other message, whatever it quotes, reviews nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from bot.core.events import ReactionEvent
from bot.core.moderation import ReactionOutcome, action_for, actor_label, may_moderate
from bot.core.policy import feedback_of
from storage.models import AnswerLog, Chat, Member, QAPair, ReviewCard
from storage.repo.communities import find_chat, get_or_create_member
from storage.repo.messages import get_message
from storage.repo.pairs import pair_for_message, review_pair

__all__ = ["AskPlatform", "member_role", "react", "track_card"]


@dataclass(frozen=True, slots=True)
class AskPlatform:
    """The reaction would review a pair but the member's role does not say whether they may:
    ask the platform whether they administer the chat, then run ``react`` again."""

    pair_id: int
    status: str


def member_role(session: Session, community_id: int, platform: str, user_id: str) -> str | None:
    """A member's role in a community, None when fanqa has not seen them."""
    return session.exec(
        select(Member.role).where(
            Member.community_id == community_id,
            Member.platform == platform,
            Member.external_id == user_id,
        )
    ).first()


def track_card(
    session: Session, platform: str, chat_id: str, message_id: str, pair_id: int
) -> None:
    """Remember that message ``message_id`` is the review card of ``pair_id``."""
    chat = find_chat(session, platform, chat_id)
    if chat is not None:
        session.add(ReviewCard(chat_id=chat.id or 0, external_id=message_id, pair_id=pair_id))


def _reviewed_pair(session: Session, chat: Chat, message_id: str) -> QAPair | None:
    """The pair a harvested answer belongs to, or the one a tracked review card names."""
    card = session.exec(
        select(ReviewCard).where(
            ReviewCard.chat_id == chat.id, ReviewCard.external_id == message_id
        )
    ).first()
    if card is not None:
        pair = session.get(QAPair, card.pair_id)
        same = pair is not None and pair.community_id == chat.community_id
        return pair if same and pair is not None and pair.deleted_at is None else None
    row = get_message(session, chat.id or 0, message_id)
    if row is None or row.deleted or row.is_bot:
        return None
    return pair_for_message(session, row.id or 0)


def _feedback(session: Session, chat: Chat, event: ReactionEvent, kind: str) -> int | None:
    row = session.exec(
        select(AnswerLog).where(
            AnswerLog.chat_id == chat.id, AnswerLog.answer_external_id == event.message_id
        )
    ).first()
    if row is None:
        return None
    step = 1 if event.added else -1
    if kind == "up":
        row.feedback_up = max(0, row.feedback_up + step)
    else:
        row.feedback_down = max(0, row.feedback_down + step)
    session.add(row)
    return row.id


def react(
    session: Session, event: ReactionEvent, platform_admin: bool | None = None
) -> ReactionOutcome | AskPlatform:
    """Record feedback, or approve / reject / reset the reacted pair, in one transaction.

    ``platform_admin``: what the platform said about the reacting user (None: not asked).
    """
    chat = find_chat(session, event.platform, event.chat_id)
    if chat is None:
        return ReactionOutcome(None, "chat not linked to a community")
    kind = feedback_of(event.emoji)
    if kind is not None:
        logged = _feedback(session, chat, event, kind)
        if logged is not None:
            return ReactionOutcome(None, f"feedback on answer {logged} recorded")
    pair = _reviewed_pair(session, chat, event.message_id)
    if pair is None:
        return ReactionOutcome(None, "not a harvested answer")
    action = action_for(event.emoji, event.added, pair.status)
    if action is None:
        return ReactionOutcome(None, "no change", pair.id, pair.status)
    role = member_role(session, chat.community_id, event.platform, event.user_id)
    allowed = may_moderate(role, platform_admin)
    if allowed is None:
        return AskPlatform(pair.id or 0, pair.status)
    if not allowed:
        return ReactionOutcome(None, "not a moderator", pair.id, pair.status)
    actor = get_or_create_member(
        session, chat.community_id, event.platform, event.user_id, event.user_name[:255]
    )
    reviewed = review_pair(
        session,
        pair.id or 0,
        action,
        community_id=chat.community_id,
        actor_id=actor.id,
        actor_label=actor_label(event.platform, event.user_id),
    )
    return ReactionOutcome(action, "done", reviewed.id, reviewed.status)
