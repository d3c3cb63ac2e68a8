"""The harvest engine's decisions written down, and the history it is restored from.

The database records what :class:`harvest.engine.HarvestEngine` decided; it never drives
pairing. Pairs are unique per community by source key and by content hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from harvest.dedup import content_hash
from harvest.engine import Decision, DecisionKind, PairKey, StoredPair
from harvest.engine.edits import PairChange
from harvest.model import ChatMessage, PairedAnswer
from storage.models import Member, Message, PairMessage, PairStatus, QAPair, utcnow
from storage.repo.pairs import record_event, split_for_hash

__all__ = [
    "Applied",
    "apply_change",
    "apply_decisions",
    "new_pair_row",
    "pair_row_values",
    "recent_messages",
    "source_key",
    "stored_chat_message",
    "stored_pair",
    "thread_starter",
]


def source_key(platform: str, key: PairKey) -> str:
    """The key that makes a pair unique in its community (import and live alike)."""
    chat, question, answer = key
    return f"{platform}:{chat}:{question}:{answer}"


def pair_row_values(pair: PairedAnswer) -> dict[str, object]:
    """The columns every writer sets from a decided pair (texts, method, scores)."""
    confidence = pair.confidence
    return {
        "question_text": pair.question_text,
        "answer_text": pair.answer_text,
        "method": str(pair.method),
        "score": pair.score,
        "confidence": confidence.value if confidence is not None else 0.0,
        "confidence_reason": confidence.as_json() if confidence is not None else None,
    }


def new_pair_row(
    pair: PairedAnswer,
    *,
    community_id: int,
    chat_pk: int,
    key: str,
    chash: str,
    question_message_id: int | None,
    asker_id: int | None,
    answerer_id: int | None,
    now: datetime,
) -> dict[str, object]:
    """A new pending pair's row, as every writer (live, batched live, import) inserts it."""
    return {
        "community_id": community_id,
        "chat_id": chat_pk,
        "source_key": key,
        "question_message_id": question_message_id,
        "asker_id": asker_id,
        "answerer_id": answerer_id,
        "status": str(PairStatus.PENDING),
        "content_hash": chash,
        "split": split_for_hash(chash),
        "golden": False,
        "created_at": now,
        "updated_at": now,
        **pair_row_values(pair),
    }


# -- history --------------------------------------------------------------------------


def _as_chat_message(row: Message, author: Member | None, platform: str, chat: str) -> ChatMessage:
    return ChatMessage(
        platform=platform,
        chat_id=chat,
        message_id=row.external_id,
        author_id=author.external_id if author is not None else "",
        author_name=author.display_name if author is not None else "",
        text=row.text,
        sent_at=row.sent_at,
        reply_to_id=row.reply_to_external_id,
        thread_id=row.thread_external_id,
        is_bot=row.is_bot,
        has_media=row.has_media,
        edited_at=row.edited_at,
    )


def _live(chat_pk: int, *where: Any) -> Any:
    """Live (not deleted) messages of a chat with their authors, filtered by ``where``."""
    return (
        select(Message, Member)
        .join(Member, col(Member.id) == col(Message.author_id), isouter=True)
        .where(Message.chat_id == chat_pk, col(Message.deleted).is_(False), *where)
    )


def _messages(session: Session, query: object, platform: str, chat: str) -> list[ChatMessage]:
    rows = session.exec(query).all()  # type: ignore[call-overload]
    return [_as_chat_message(m, a, platform, chat) for m, a in rows]


def recent_messages(
    session: Session, chat_pk: int, platform: str, chat: str, limit: int
) -> list[ChatMessage]:
    """The chat's latest ``limit`` live messages, oldest first (a restarted engine's window)."""
    query = (
        _live(chat_pk).order_by(col(Message.sent_at).desc(), col(Message.id).desc()).limit(limit)
    )
    return _messages(session, query, platform, chat)[::-1]


def stored_chat_message(
    session: Session, chat_pk: int, platform: str, chat: str, external_id: str
) -> ChatMessage | None:
    """A stored live message by its external id, as the engine sees messages."""
    query = _live(chat_pk, Message.external_id == external_id)
    found = _messages(session, query, platform, chat)
    return found[0] if found else None


def thread_starter(
    session: Session, chat_pk: int, platform: str, chat: str, thread: str
) -> ChatMessage | None:
    """The question of a thread: the message it was started from, else its first one."""
    found = stored_chat_message(session, chat_pk, platform, chat, thread)
    if found is not None:
        return found
    query = (
        _live(chat_pk, Message.thread_external_id == thread)
        .order_by(col(Message.sent_at), col(Message.id))
        .limit(1)
    )
    first = _messages(session, query, platform, chat)
    return first[0] if first else None


# -- decisions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Applied:
    """What a message's decisions did: ``paired`` (a new pair), ``merged`` (a pair grew),
    or ``stored`` (nothing about pairs); ``pair_ids`` the pairs written."""

    kind: str
    pair_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Known:
    """Ids the caller already has: stored message ids by external id, member ids."""

    messages: Mapping[str, int]
    members: Callable[[str], int | None]


_NOTHING_KNOWN = _Known({}, lambda _: None)


def _message_ids(
    session: Session, chat_pk: int, externals: Iterable[str], known: _Known = _NOTHING_KNOWN
) -> dict[str, int]:
    wanted = list(dict.fromkeys(externals))
    found = {ext: known.messages[ext] for ext in wanted if ext in known.messages}
    missing = [ext for ext in wanted if ext not in found]
    if missing:
        rows = session.exec(
            select(Message.external_id, Message.id).where(
                Message.chat_id == chat_pk, col(Message.external_id).in_(missing)
            )
        ).all()
        found.update({ext: mid for ext, mid in rows if mid is not None})
    return found


def _link_answers(
    session: Session, row: QAPair, pair: PairedAnswer, chat_pk: int, known: _Known = _NOTHING_KNOWN
) -> None:
    """Tie the pair to its answer messages (the ones not tied yet, in order)."""
    ids = _message_ids(session, chat_pk, pair.answer_ids, known)
    have = set(
        session.exec(select(PairMessage.message_id).where(PairMessage.pair_id == row.id)).all()
    )
    for position, external in enumerate(pair.answer_ids):
        mid = ids.get(external)
        if mid is not None and mid not in have:
            session.add(PairMessage(pair_id=row.id or 0, message_id=mid, position=position))


def _insert(
    session: Session,
    community_id: int,
    chat_pk: int,
    platform: str,
    decision: Decision,
    known: _Known = _NOTHING_KNOWN,
) -> int | None:
    pair = decision.pair
    assert pair is not None
    key = source_key(platform, decision.key)
    chash = content_hash(pair.question_text, pair.answer_text)
    clash = session.exec(
        select(QAPair.id).where(
            QAPair.community_id == community_id,
            (QAPair.content_hash == chash) | (QAPair.source_key == key),
        )
    ).first()
    if clash is not None:
        return None
    ids = _message_ids(session, chat_pk, [pair.question_id], known)
    members = {a: m for a in (pair.asker_id, pair.answerer_id) if (m := known.members(a))}
    if len(members) < len({pair.asker_id, pair.answerer_id}):
        authors = session.exec(
            select(Member.external_id, Member.id).where(
                Member.community_id == community_id,
                Member.platform == platform,
                col(Member.external_id).in_([pair.asker_id, pair.answerer_id]),
            )
        ).all()
        members = {ext: mid for ext, mid in authors if mid is not None}
    values = new_pair_row(
        pair,
        community_id=community_id,
        chat_pk=chat_pk,
        key=key,
        chash=chash,
        question_message_id=ids.get(pair.question_id),
        asker_id=members.get(pair.asker_id),
        answerer_id=members.get(pair.answerer_id),
        now=utcnow(),
    )
    # Core, not an ORM object: a new pair is pending (no index bump), and the unit of work
    # cost more than the insert. Its answer messages go in one executemany.
    connection = session.connection()
    pair_id = int(connection.execute(_PAIR_INSERT, values).scalar_one())
    answers = _message_ids(session, chat_pk, pair.answer_ids, known)
    links = [
        {"pair_id": pair_id, "message_id": mid, "position": position}
        for position, external in enumerate(pair.answer_ids)
        if (mid := answers.get(external)) is not None
    ]
    if links:
        connection.execute(_LINK_INSERT, links)
    return pair_id


_PAIR_TABLE: Any = QAPair.__table__  # type: ignore[attr-defined]
_PAIR_INSERT = _PAIR_TABLE.insert().returning(_PAIR_TABLE.c.id)
_LINK_INSERT: Any = PairMessage.__table__.insert()  # type: ignore[attr-defined]


def _grow(
    session: Session,
    community_id: int,
    chat_pk: int,
    platform: str,
    decision: Decision,
    known: _Known = _NOTHING_KNOWN,
) -> tuple[str, int | None]:
    pair = decision.pair
    assert pair is not None
    row = session.exec(
        select(QAPair).where(
            QAPair.community_id == community_id,
            QAPair.source_key == source_key(platform, decision.key),
        )
    ).first()
    if row is None:  # first seen now (its first form clashed with another pair)
        return "paired", _insert(session, community_id, chat_pk, platform, decision, known)
    if row.deleted_at is not None or row.status != PairStatus.PENDING:
        return "stored", None  # a reviewed answer keeps the text it was reviewed with
    for name, value in pair_row_values(pair).items():
        setattr(row, name, value)
    row.content_hash = content_hash(row.question_text, row.answer_text)
    row.split = split_for_hash(row.content_hash)
    row.updated_at = utcnow()
    session.add(row)
    _link_answers(session, row, pair, chat_pk, known)
    session.flush()
    return "merged", row.id


def apply_decisions(
    session: Session,
    *,
    community_id: int,
    chat_pk: int,
    platform: str,
    decisions: Sequence[Decision],
    message_ids: Mapping[str, int] | None = None,
    member_ids: Callable[[str], int | None] | None = None,
) -> Applied:
    """Write the engine's ``new`` / ``update`` / ``drop`` decisions for one message.

    ``close`` changes nothing live (the pair is stored already). ``message_ids`` (external
    → stored id of recent messages) and ``member_ids`` (author → member id) spare look-ups.
    """
    if not decisions:
        return Applied("stored")
    known = _Known(message_ids or {}, member_ids or _NOTHING_KNOWN.members)
    kind, ids = "stored", list[int]()
    for decision in decisions:
        if decision.kind is DecisionKind.NEW:
            pid = _insert(session, community_id, chat_pk, platform, decision, known)
            if pid is not None:
                kind, ids = "paired", [*ids, pid]
        elif decision.kind is DecisionKind.UPDATE:
            done, pid = _grow(session, community_id, chat_pk, platform, decision, known)
            if pid is not None:
                kind = done if kind == "stored" else kind
                ids.append(pid)
        elif decision.kind is DecisionKind.DROP:
            row = session.exec(
                select(QAPair).where(
                    QAPair.community_id == community_id,
                    QAPair.source_key == source_key(platform, decision.key),
                )
            ).first()
            if row is not None and row.status == PairStatus.PENDING and row.deleted_at is None:
                drop = PairChange(
                    row.id or 0, decision.kind, row.question_text, row.answer_text, decision.reason
                )
                apply_change(session, row, drop, actor_label="harvest")
    return Applied(kind, tuple(ids))


# -- edits and deletes ----------------------------------------------------------------


def stored_pair(session: Session, row: QAPair, answer_texts: dict[int, str]) -> StoredPair:
    """``row`` as the engine's edit rules see it; ``answer_texts`` overrides message texts
    by stored id (the texts before an edit)."""
    links = session.exec(
        select(PairMessage.message_id, Message.external_id, Message.text)
        .join(Message, col(Message.id) == col(PairMessage.message_id))
        .where(PairMessage.pair_id == row.id)
        .order_by(col(PairMessage.position))
    ).all()
    question = session.get(Message, row.question_message_id) if row.question_message_id else None
    asker = session.get(Member, row.asker_id) if row.asker_id else None
    return StoredPair(
        pair_id=row.id or 0,
        status=row.status,
        question_id=question.external_id if question is not None else "",
        question_text=row.question_text,
        answer_messages=tuple((ext, answer_texts.get(mid, text)) for mid, ext, text in links),
        answer_text=row.answer_text,
        asker_name=asker.display_name if asker is not None else "",
    )


def apply_change(session: Session, row: QAPair, change: PairChange, *, actor_label: str) -> None:
    """Write an edit / delete decision and its review event (the old texts kept there)."""
    before = {
        "status": row.status,
        "question_text": row.question_text,
        "answer_text": row.answer_text,
    }
    now = utcnow()
    if change.kind is DecisionKind.DROP:
        row.deleted_at = now
        action = "dropped"
    else:
        row.question_text = change.question_text
        row.answer_text = change.answer_text
        row.content_hash = content_hash(row.question_text, row.answer_text)
        if row.status == PairStatus.PENDING:
            row.split = split_for_hash(row.content_hash)
        action = "edited"
        if change.kind is DecisionKind.REOPEN:
            row.status = PairStatus.PENDING
            row.reviewed_by = None
            row.reviewed_at = None
            action = "reopened"
    row.updated_at = now
    session.add(row)
    after = {
        "status": row.status,
        "question_text": row.question_text,
        "answer_text": row.answer_text,
        "reason": change.reason,
    }
    record_event(
        session,
        community_id=row.community_id,
        action=action,
        pair_id=row.id,
        actor_label=actor_label,
        before=before,
        after=after,
    )
