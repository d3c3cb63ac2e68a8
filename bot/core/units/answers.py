"""Units of work around what the bot says: policies, sources, cards, corrections, due questions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.core.cards import review_card
from bot.core.policy import AnswerPolicy, effective_policy
from harvest.dedup import content_hash
from harvest.model import ChatMessage
from storage.models import (
    AnswerLog,
    Chat,
    Community,
    Member,
    Message,
    PairStatus,
    QAPair,
    ReviewEvent,
)
from storage.repo.communities import find_chat, get_or_create_member
from storage.repo.messages import get_message
from storage.repo.pairs import split_for_hash

__all__ = [
    "Card",
    "card_for",
    "chat_policy",
    "due_questions",
    "moderator_chat",
    "record_reply",
    "source_messages",
    "store_correction",
]


def chat_policy(session: Session, platform: str, chat_id: str) -> str:
    """The chat's answering policy (its own, else its community's); off when unlinked."""
    chat = find_chat(session, platform, chat_id)
    if chat is None:
        return AnswerPolicy.OFF
    community = session.get(Community, chat.community_id)
    return effective_policy(chat.answer_policy, community.answer_policy if community else None)


def source_messages(
    session: Session, platform: str, pair_ids: list[int]
) -> dict[int, tuple[str, str]]:
    """Pair id → (chat, message) external ids of its question, for pairs from ``platform``."""
    found: dict[int, tuple[str, str]] = {}
    for pid in pair_ids:
        pair = session.get(QAPair, pid)
        if pair is None or pair.question_message_id is None:
            continue
        row = session.get(Message, pair.question_message_id)
        chat = session.get(Chat, row.chat_id) if row is not None else None
        if row is None or chat is None or chat.platform != platform:
            continue
        found[pid] = (chat.external_id, row.external_id)
    return found


def record_reply(session: Session, log_id: int | None, reply_id: str) -> None:
    """Note which posted message carries the answer logged as ``log_id``."""
    row = session.get(AnswerLog, log_id) if log_id is not None else None
    if row is not None:
        row.answer_external_id = reply_id
        session.add(row)


@dataclass(frozen=True, slots=True)
class Card:
    """A review card to post: where (the moderator chat) and what."""

    pair_id: int
    platform: str
    chat_id: str
    text: str


def card_for(session: Session, pair_id: int) -> Card | None:
    """The review card of a new pair, None when its community has no (other) moderator chat."""
    pair = session.get(QAPair, pair_id)
    if pair is None:
        return None
    community = session.get(Community, pair.community_id)
    if community is None or not (community.moderator_platform and community.moderator_chat_id):
        return None
    target = find_chat(session, community.moderator_platform, community.moderator_chat_id)
    if target is None or target.id == pair.chat_id:
        return None  # unlinked, or the pair was found in the moderator chat itself
    source = session.get(Chat, pair.chat_id) if pair.chat_id is not None else None
    answerer = session.get(Member, pair.answerer_id) if pair.answerer_id else None
    status = str(pair.status)
    if pair.status != PairStatus.PENDING:  # approved on its own by the community's classifier
        last = session.exec(
            select(ReviewEvent.actor_label)
            .where(ReviewEvent.pair_id == pair_id)
            .order_by(col(ReviewEvent.id).desc())
        ).first()
        status += f" by {last}" if last else ""
    text = review_card(
        pair_id,
        pair.question_text,
        pair.answer_text,
        source.title if source else "",
        answerer.display_name if answerer else "",
        f"{pair.confidence:.2f} · {(pair.confidence_reason or {}).get('rule', pair.method)}",
        status,
    )
    return Card(pair_id, community.moderator_platform, community.moderator_chat_id, text)


def moderator_chat(session: Session, community_id: int) -> tuple[str, str] | None:
    """(platform, chat id) of the community's moderator chat, None when it has none."""
    community = session.get(Community, community_id)
    if community is None or not (community.moderator_platform and community.moderator_chat_id):
        return None
    return community.moderator_platform, community.moderator_chat_id


def store_correction(session: Session, msg: ChatMessage, log_id: int) -> int | None:
    """A moderator's reply to a bot answer becomes a pending pair; its id (or the clash's)."""
    log_row = session.get(AnswerLog, log_id)
    chat = find_chat(session, msg.platform, msg.chat_id)
    if log_row is None or chat is None:
        return None
    chash = content_hash(log_row.question_text, msg.text)
    clash = session.exec(
        select(QAPair.id).where(
            QAPair.community_id == chat.community_id, QAPair.content_hash == chash
        )
    ).first()
    if clash is not None:
        return clash
    question = (
        get_message(session, chat.id or 0, log_row.question_external_id)
        if log_row.question_external_id
        else None
    )
    author = get_or_create_member(
        session, chat.community_id, msg.platform, msg.author_id, msg.author_name[:255]
    )
    pair = QAPair(
        community_id=chat.community_id,
        chat_id=chat.id,
        source_key=f"{msg.platform}:{msg.chat_id}:"
        f"{log_row.question_external_id or 'answer-' + str(log_id)}:{msg.message_id}",
        question_message_id=question.id if question is not None else None,
        question_text=log_row.question_text,
        answer_text=msg.text.strip(),
        asker_id=question.author_id if question is not None else None,
        answerer_id=author.id,
        method="correction",
        score=1.0,
        content_hash=chash,
        split=split_for_hash(chash),
    )
    session.add(pair)
    session.flush()
    return pair.id


def due_questions(session: Session, now: datetime) -> list[tuple[str, str, str, str]]:
    """(platform, chat, message id, text) of questions left unanswered too long in auto chats."""
    found: list[tuple[str, str, str, str]] = []
    rows = session.exec(select(Chat, Community).where(Chat.community_id == Community.id))
    for chat, community in rows.all():
        if effective_policy(chat.answer_policy, community.answer_policy) != AnswerPolicy.AUTO:
            continue
        wait = timedelta(minutes=community.auto_answer_after_min)
        found.extend(
            (chat.platform, chat.external_id, q.external_id, q.text)
            for q in _unanswered(session, chat, now - wait, now - wait - timedelta(days=1))
        )
    return found


def _unanswered(
    session: Session, chat: Chat, older_than: datetime, newer_than: datetime
) -> list[Message]:
    """Questions in ``chat`` sent in the window with no reply and no bot answer yet."""
    questions = session.exec(
        select(Message).where(
            Message.chat_id == chat.id,
            col(Message.is_question).is_(True),
            col(Message.deleted).is_(False),
            col(Message.is_bot).is_(False),
            Message.sent_at <= older_than,
            Message.sent_at > newer_than,
        )
    ).all()
    if not questions:
        return []
    ids = [q.external_id for q in questions]
    replied = set(
        session.exec(
            select(Message.reply_to_external_id).where(
                Message.chat_id == chat.id, col(Message.reply_to_external_id).in_(ids)
            )
        ).all()
    )
    in_thread = set(
        session.exec(
            select(Message.thread_external_id).where(
                Message.chat_id == chat.id,
                col(Message.thread_external_id).in_(ids),
                col(Message.external_id).not_in(ids),
            )
        ).all()
    )
    answered = set(
        session.exec(
            select(AnswerLog.question_external_id).where(
                AnswerLog.chat_id == chat.id, col(AnswerLog.question_external_id).in_(ids)
            )
        ).all()
    )
    return [q for q in questions if q.external_id not in replied | in_thread | answered]
