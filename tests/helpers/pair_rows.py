"""A community's stored pairs field by field, ids left out (for import ↔ live parity)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.models import Community, Member, Message, PairMessage, QAPair

__all__ = ["pair_rows"]


def pair_rows(
    engine: Engine, community: str, *, people: str = "external_id"
) -> list[tuple[Any, ...]]:
    """Every pair of ``community`` as the columns a writer sets (texts, method, score,
    confidence and its reason, content hash, split, status, deleted or not), its question
    message's text, its asker and answerer (their member column ``people``: a platform
    that mints new user ids in a replay is compared by ``display_name``) and its answer
    links (position, the linked message's text) in order, sorted. Ids, keys and times
    differ between an import and a live replay; none of these may."""
    asker, answerer = aliased(Member), aliased(Member)
    question = aliased(Message)
    with Session(engine) as s:
        rows = s.execute(
            select(
                QAPair.id,
                QAPair.question_text,
                QAPair.answer_text,
                QAPair.method,
                QAPair.score,
                QAPair.confidence,
                QAPair.confidence_reason,
                QAPair.content_hash,
                QAPair.split,
                QAPair.status,
                col(QAPair.deleted_at).is_not(None),
                question.text,
                getattr(asker, people),
                getattr(answerer, people),
            )
            .join(Community, col(Community.id) == col(QAPair.community_id))
            .outerjoin(question, question.id == col(QAPair.question_message_id))
            .outerjoin(asker, asker.id == col(QAPair.asker_id))
            .outerjoin(answerer, answerer.id == col(QAPair.answerer_id))
            .where(Community.name == community)
        ).all()
        links: dict[int, list[tuple[int, str]]] = {}
        for pid, position, text in s.execute(
            select(PairMessage.pair_id, PairMessage.position, Message.text)
            .join(Message, col(Message.id) == col(PairMessage.message_id))
            .join(QAPair, col(QAPair.id) == col(PairMessage.pair_id))
            .join(Community, col(Community.id) == col(QAPair.community_id))
            .where(Community.name == community)
            .order_by(col(PairMessage.pair_id), col(PairMessage.position))
        ):
            links.setdefault(pid, []).append((position, text))
    return sorted(
        (
            *row[1:6],
            json.dumps(row[6], sort_keys=True),
            *row[7:],
            tuple(links.get(row[0], [])),
        )
        for row in rows
    )
