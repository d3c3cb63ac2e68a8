"""The review desk's reads beside the pair listing (``storage.repo.pairs.list_pairs``): a
pair's source messages and the filter choices; and a pair written by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from harvest.dedup import content_hash
from harvest.errors import ConflictError, InputError
from storage.models import Chat, Member, Message, PairMessage, PairStatus, QAPair, utcnow
from storage.repo.pairs import record_event, split_for_hash

__all__ = [
    "SourceMessage",
    "filter_choices",
    "pair_sources",
    "write_pair",
]


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """A message a pair was harvested from, with its author and chat for a jump link."""

    role: str  # question | answer
    text: str
    author: str
    sent_at: datetime
    platform: str
    chat_external_id: str
    external_id: str


def pair_sources(session: Session, pair: QAPair) -> list[SourceMessage]:
    """The question message and the answer's messages, in order, with authors."""
    ids: list[tuple[str, int]] = []
    if pair.question_message_id is not None:
        ids.append(("question", pair.question_message_id))
    answer_ids = session.exec(
        select(PairMessage.message_id)
        .where(PairMessage.pair_id == pair.id)
        .order_by(col(PairMessage.position))
    ).all()
    ids.extend(("answer", mid) for mid in answer_ids)
    out = []
    for role, mid in ids:
        message = session.get(Message, mid)
        if message is None or message.deleted:
            continue
        author = session.get(Member, message.author_id) if message.author_id else None
        chat = session.get(Chat, message.chat_id)
        out.append(
            SourceMessage(
                role=role,
                text=message.text,
                author=(author.display_name or author.external_id) if author else "?",
                sent_at=message.sent_at,
                platform=message.platform,
                chat_external_id=chat.external_id if chat else "",
                external_id=message.external_id,
            )
        )
    return out


def filter_choices(session: Session, community_id: int) -> dict[str, list[tuple[Any, str]]]:
    """The chats, answer authors and methods that pending pairs have, for filter menus."""
    pending = (
        QAPair.community_id == community_id,
        QAPair.status == PairStatus.PENDING,
        col(QAPair.deleted_at).is_(None),
    )
    chats = session.exec(
        select(Chat).where(col(Chat.id).in_(select(QAPair.chat_id).where(*pending)))
    ).all()
    authors = session.exec(
        select(Member).where(col(Member.id).in_(select(QAPair.answerer_id).where(*pending)))
    ).all()
    methods = session.exec(select(QAPair.method).where(*pending).distinct()).all()
    return {
        "chat": [(c.id, c.title or c.external_id) for c in chats],
        "author": [(m.id, m.display_name or m.external_id) for m in authors],
        "method": [(m, m) for m in sorted(methods)],
    }


def write_pair(
    session: Session,
    community_id: int,
    question: str,
    answer: str,
    *,
    actor_id: int | None,
    actor_label: str,
    source_key: str,
) -> QAPair:
    """A pair a moderator wrote (for a question the bot abstained on): approved at once,
    credited to them as answerer and reviewer, audited as ``write``. ConflictError when the
    same ``source_key`` was written already."""
    question, answer = question.strip(), answer.strip()
    if not question:
        raise InputError("the question is empty", field="question")
    if not answer:
        raise InputError("the answer is empty", field="answer")
    digest = content_hash(question, answer)
    now = utcnow()
    pair = QAPair(
        community_id=community_id,
        source_key=source_key,
        question_text=question,
        answer_text=answer,
        answerer_id=actor_id,
        method="written",
        score=1.0,
        status=PairStatus.APPROVED,
        content_hash=digest,
        split=split_for_hash(digest),
        reviewed_by=actor_id,
        reviewed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(pair)
            session.flush()
    except IntegrityError:
        raise ConflictError("this question has been answered already") from None
    record_event(
        session,
        community_id=community_id,
        pair_id=pair.id,
        action="write",
        actor_id=actor_id,
        actor_label=actor_label,
        after={"status": pair.status, "answer_text": answer, "golden": False},
    )
    return pair
