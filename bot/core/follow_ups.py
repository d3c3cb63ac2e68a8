"""What follows from a harvested batch: its new pairs' review cards, the bot answers it replies to.

Looked up for the whole batch in a few statements, not a few per message: inside the batch's
own transaction, one statement finds the bot answers its messages reply to (a moderator's
reply to one is a correction) and one finds which new pairs belong to a community with a
moderator chat (only those get a review card). The cards themselves are made afterwards
(``cards_for``), once the classifier has auto-approved what it is sure of, so a card says who
approved; a batch with nothing to card needs no second transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.events import MessageEvent
from bot.core.outcomes import HarvestOutcome
from bot.core.units.answers import Card, card_for
from storage.models import AnswerLog, Chat, Community, QAPair

__all__ = ["CARD_OUTCOMES", "FollowUp", "cards_for", "follow_ups"]

# Harvest outcomes that put a pair (back) in front of the moderators: its review card is
# posted. The harvest engine's "edited after approval" outcome joins this set.
CARD_OUTCOMES = frozenset({"paired"})
# (pairs to card, the answer log of the bot answer replied to) of one harvested message
FollowUp = tuple[tuple[int, ...], int | None]
_CHUNK = 500  # values in one IN (…): well under every backend's parameter limit


def follow_ups(
    session: Session,
    events: Sequence[MessageEvent],
    outcomes: Sequence[HarvestOutcome | Exception],
) -> dict[int, FollowUp]:
    """Index in the batch → what follows from that message, for the messages some may
    follow from (new people's messages that paired or reply to something)."""
    wanted: dict[int, tuple[tuple[int, ...], tuple[str, str, str] | None]] = {}
    for i, (event, outcome) in enumerate(zip(events, outcomes, strict=True)):
        msg = event.message
        if isinstance(outcome, Exception) or outcome.kind in ("ignored", "duplicate"):
            continue
        if msg.is_bot:
            continue
        carded = outcome.pair_ids if outcome.kind in CARD_OUTCOMES else ()
        reply = (msg.platform, msg.chat_id, msg.reply_to_id) if msg.reply_to_id else None
        if carded or reply is not None:
            wanted[i] = (carded, reply)
    if not wanted:
        return {}
    moderated = _moderated(session, {pid for carded, _ in wanted.values() for pid in carded})
    answers = _answer_logs(session, {reply for _, reply in wanted.values() if reply})
    return {
        i: (
            tuple(pid for pid in carded if pid in moderated),
            None if reply is None else answers.get(reply),
        )
        for i, (carded, reply) in wanted.items()
    }


def cards_for(session: Session, pair_ids: Sequence[int]) -> dict[int, Card]:
    """Pair id → its review card, for the pairs that get one."""
    found = {}
    for pid in pair_ids:
        card = card_for(session, pid)
        if card is not None:
            found[pid] = card
    return found


def _moderated(session: Session, pair_ids: set[int]) -> set[int]:
    """The pairs among ``pair_ids`` whose community has a moderator chat."""
    ids = sorted(pair_ids)
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        rows = session.exec(
            select(QAPair.id)
            .join(Community, col(Community.id) == QAPair.community_id)
            .where(
                col(QAPair.id).in_(ids[start : start + _CHUNK]),
                col(Community.moderator_platform).is_not(None),
                col(Community.moderator_platform) != "",
                col(Community.moderator_chat_id).is_not(None),
                col(Community.moderator_chat_id) != "",
            )
        ).all()
        found.update(pid for pid in rows if pid is not None)
    return found


def _answer_logs(
    session: Session, replies: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str], int]:
    """(platform, chat, message id) → the answer log of the bot answer posted as that
    message, for the ones that are bot answers: one statement for every chat."""
    by_platform: dict[str, tuple[set[str], set[str]]] = {}
    for platform, chat_id, message_id in replies:
        chats, messages = by_platform.setdefault(platform, (set(), set()))
        chats.add(chat_id)
        messages.add(message_id)
    found: dict[tuple[str, str, str], int] = {}
    for platform, (chats, messages) in by_platform.items():
        ordered = sorted(messages)
        for start in range(0, len(ordered), _CHUNK):
            rows = session.exec(
                select(Chat.external_id, AnswerLog.answer_external_id, func.min(AnswerLog.id))
                .join(Chat, col(Chat.id) == AnswerLog.chat_id)
                .where(
                    Chat.platform == platform,
                    col(Chat.external_id).in_(sorted(chats)),
                    col(AnswerLog.answer_external_id).in_(ordered[start : start + _CHUNK]),
                )
                .group_by(col(Chat.external_id), col(AnswerLog.answer_external_id))
            ).all()
            for chat, answer, log_id in rows:
                if answer and log_id and (platform, chat, answer) in replies:
                    found[(platform, chat, answer)] = log_id
    return found
