"""Builders for the learning-loop tests: a synthetic bilingual community in a real database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import PairStatus, QAPair
from storage.repo import get_or_create_community
from tests.trainer.builders import SYSTEM, TOPICS

__all__ = ["add_pair", "make_community"]


def add_pair(
    engine: Engine,
    community_id: int,
    question: str,
    answer: str,
    *,
    status: str = PairStatus.APPROVED,
    split: str = "train",
    golden: bool = False,
    deleted: bool = False,
) -> int:
    """Store one pair and return its id."""
    digest = hashlib.sha256(f"{question}\x00{answer}".encode()).hexdigest()
    with session_scope(engine) as session:
        pair = QAPair(
            community_id=community_id,
            source_key=f"test:{digest[:24]}",
            question_text=question,
            answer_text=answer,
            status=status,
            content_hash=digest,
            split=split,
            golden=golden,
            deleted_at=datetime.now(UTC) if deleted else None,
        )
        session.add(pair)
        session.flush()
        return pair.id or 0


def make_community(engine: Engine, name: str = "fanfund", holdout_per_language: int = 1) -> int:
    """A community with every synthetic pair approved; the last paraphrases are split holdout."""
    with session_scope(engine) as session:
        community = get_or_create_community(session, name, system_prompt=SYSTEM)
        cid = community.id or 0
    for en_answer, zh_answer, en_questions, zh_questions in TOPICS.values():
        for questions, answer in ((en_questions, en_answer), (zh_questions, zh_answer)):
            cut = len(questions) - holdout_per_language
            for i, question in enumerate(questions):
                add_pair(engine, cid, question, answer, split="holdout" if i >= cut else "train")
    return cid
