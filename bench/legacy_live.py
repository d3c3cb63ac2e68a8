"""The live core's per-message path before batches were written in bulk (bench baseline only).

One transaction per message: its own ``INSERT … RETURNING``, then each pair decision
written with its own statements (clash check, message ids, insert, links), as
``storage.repo.harvested.apply_decisions`` did before ``storage.repo.pair_batch.PairBatch``
became the one pair writer. Frozen here: ``bench/live_harvest.py`` measures the batched
path against it. The chat windows, members and the engine are the harvester's own, so only
the writing differs from ``Harvester.handle_messages``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot.core.events import MessageEvent
from bot.core.harvest_rows import message_row
from bot.core.harvesting import Harvester
from bot.core.outcomes import HarvestOutcome
from harvest.dedup import content_hash
from harvest.engine import Decision, DecisionKind
from harvest.model import PairedAnswer, Role
from storage.db import session_scope
from storage.models import Member, Message, PairMessage, PairStatus, QAPair, utcnow
from storage.repo.harvested import drop_pair, new_pair_row, pair_row_values, source_key
from storage.repo.messages import get_message, insert_message
from storage.repo.pair_batch import Applied
from storage.repo.pairs import split_for_hash

__all__ = ["handle_one_by_one"]


@dataclass(frozen=True, slots=True)
class _Known:
    """Ids the caller already has: stored message ids by external id, member ids."""

    messages: Mapping[str, int]
    members: Callable[[str], int | None]


def _message_ids(
    session: Session, chat_pk: int, externals: Iterable[str], known: _Known
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
    session: Session, row: QAPair, pair: PairedAnswer, chat_pk: int, known: _Known
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
    known: _Known,
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
    known: _Known,
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


def _apply_decisions(
    session: Session,
    *,
    community_id: int,
    chat_pk: int,
    platform: str,
    decisions: Sequence[Decision],
    message_ids: Mapping[str, int],
    member_ids: Callable[[str], int | None],
) -> Applied:
    """Write the engine's ``new`` / ``update`` / ``drop`` decisions for one message, each
    with its own statements (a drop is storage's one ``drop_pair``)."""
    if not decisions:
        return Applied("stored")
    known = _Known(message_ids, member_ids)
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
            drop_pair(
                session,
                community_id=community_id,
                platform=platform,
                key=decision.key,
                reason=decision.reason,
            )
    return Applied(kind, tuple(ids))


def _handle(harvester: Harvester, session: Any, event: MessageEvent) -> HarvestOutcome:
    msg = event.message
    linked = harvester.linked(session, msg.platform, msg.chat_id)
    if linked is None:
        return HarvestOutcome("ignored")
    chat_pk, community_id, config = linked
    member_id, role = harvester._member(session, community_id, msg)
    window = harvester._window(session, msg, chat_pk, community_id, config)
    if role != Role.MEMBER:
        window.roles[msg.author_id] = Role(role)
    else:
        window.roles.pop(msg.author_id, None)
    asks = window.engine.asks(msg)
    row_id = insert_message(session, message_row(msg, chat_pk, member_id, asks))
    if row_id is None:
        row = get_message(session, chat_pk, msg.message_id)
        assert row is not None
        return HarvestOutcome("duplicate", row.id, row.is_question)
    window.remember_id(msg.message_id, row_id)
    harvester._recall_context(session, window.engine, chat_pk, msg)
    fed = window.engine.feed(msg, asks=asks)
    applied = _apply_decisions(
        session,
        community_id=community_id,
        chat_pk=chat_pk,
        platform=msg.platform,
        decisions=fed.decisions,
        message_ids=window.ids,
        member_ids=harvester._member_ids(community_id, msg.platform),
    )
    return HarvestOutcome(applied.kind, row_id, fed.is_question, applied.pair_ids)


def handle_one_by_one(harvester: Harvester, events: list[MessageEvent]) -> None:
    """Harvest ``events`` the old way, one transaction per message."""
    for event in events:
        with session_scope(harvester.engine) as session:
            _handle(harvester, session, event)
