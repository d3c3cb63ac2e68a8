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

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

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


_pairs = QAPair.__table__.c  # type: ignore[attr-defined]
_communities = Community.__table__.c  # type: ignore[attr-defined]
_chats = Chat.__table__.c  # type: ignore[attr-defined]
_logs = AnswerLog.__table__.c  # type: ignore[attr-defined]
# Built once (SQLAlchemy caches their compiled form); run on the session's connection, so a
# batch pays no ORM statement or result processing for them.
_MODERATED = (
    select(_pairs.id)
    .join_from(QAPair.__table__, Community.__table__, _communities.id == _pairs.community_id)  # type: ignore[attr-defined]
    .where(
        _pairs.id.in_(bindparam("ids", expanding=True)),
        _communities.moderator_platform != "",  # NULL is not != '' either
        _communities.moderator_chat_id != "",
    )
)
_ANSWERED = (
    select(_chats.external_id, _logs.answer_external_id, func.min(_logs.id))
    .join_from(AnswerLog.__table__, Chat.__table__, _chats.id == _logs.chat_id)  # type: ignore[attr-defined]
    .where(
        _chats.platform == bindparam("platform"),
        _chats.external_id.in_(bindparam("chats", expanding=True)),
        _logs.answer_external_id.in_(bindparam("messages", expanding=True)),
    )
    .group_by(_chats.external_id, _logs.answer_external_id)
)


def _moderated(session: Session, pair_ids: set[int]) -> set[int]:
    """The pairs among ``pair_ids`` whose community has a moderator chat."""
    ids = sorted(pair_ids)
    found: set[int] = set()
    connection = session.connection()
    for start in range(0, len(ids), _CHUNK):
        rows = connection.execute(_MODERATED, {"ids": ids[start : start + _CHUNK]})
        found.update(pid for (pid,) in rows)
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
    connection = session.connection()
    for platform, (chats, messages) in by_platform.items():
        ordered = sorted(messages)
        for start in range(0, len(ordered), _CHUNK):
            rows = connection.execute(
                _ANSWERED,
                {
                    "platform": platform,
                    "chats": sorted(chats),
                    "messages": ordered[start : start + _CHUNK],
                },
            )
            for chat, answer, log_id in rows:
                if (platform, chat, answer) in replies:
                    found[(platform, chat, answer)] = log_id
    return found
