"""Answers and gaps: what the bot said (confidence, sources, feedback) and what it would not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from bot.answering import PairIndex
from bot.web.auth import CSRF_FIELD, check_csrf, grant_for
from bot.web.views import redirect_with_note, render
from harvest.errors import NotFound
from storage.db import session_scope
from storage.models import AnswerLog
from storage.repo.review import write_pair

__all__ = ["Gap", "group_gaps", "router"]

router = APIRouter()
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
SAME_QUESTION = 0.3  # retrieval similarity (BM25 over own score) making two questions one gap
SHOWN = 100


@dataclass(frozen=True, slots=True)
class Gap:
    """Abstained questions that retrieval finds alike; ``first`` is the newest."""

    first: AnswerLog
    others: list[AnswerLog]


def group_gaps(logs: list[AnswerLog], threshold: float = SAME_QUESTION) -> list[Gap]:
    """Group abstained questions by the retrieval the bot answers with (BM25 similarity)."""
    index = PairIndex([(log.id or 0, log.question_text, "") for log in logs])
    by_id = {log.id or 0: log for log in logs}
    taken: set[int] = set()
    gaps = []
    for log in logs:  # newest first
        if (log.id or 0) in taken:
            continue
        taken.add(log.id or 0)
        alike = [
            by_id[hit.pair_id]
            for hit in index.search(log.question_text, k=len(logs))
            if hit.similarity >= threshold and hit.pair_id not in taken
        ]
        taken.update(a.id or 0 for a in alike)
        gaps.append(Gap(log, alike))
    return sorted(gaps, key=lambda g: -len(g.others))


def _logs(session: Session, cid: int, *, abstained: bool) -> list[AnswerLog]:
    return list(
        session.exec(
            select(AnswerLog)
            .where(AnswerLog.community_id == cid, AnswerLog.abstained == abstained)
            .order_by(col(AnswerLog.id).desc())
            .limit(SHOWN)
        ).all()
    )


@router.get("/c/{cid}/answers")
def answers_page(request: Request, cid: int, done: str | None = None) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        return render(
            request,
            "answers.html",
            desk=desk,
            grant=grant,
            answers=_logs(session, cid, abstained=False),
            gaps=group_gaps(_logs(session, cid, abstained=True)),
            flash=done,
        )


@router.post("/c/{cid}/gaps/{log_id}/write")
def write_answer(
    request: Request,
    cid: int,
    log_id: int,
    csrf: Csrf,
    question: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
) -> Response:
    """An approved pair for an abstained question, credited to the moderator."""
    check_csrf(request, csrf)
    with session_scope(request.app.state.engine) as session:
        _, grant = grant_for(request, session, cid)
        log = session.get(AnswerLog, log_id)
        if log is None or log.community_id != cid or not log.abstained:
            raise NotFound(f"no unanswered question #{log_id}", kind="gap", key=log_id)
        pair = write_pair(
            session,
            cid,
            question or log.question_text,
            answer,
            actor_id=grant.member.id,
            actor_label=grant.label,
            source_key=f"gap:{log_id}",
        )
        note = f"#{pair.id} written and approved: the bot can answer it from now on"
    return redirect_with_note(f"/c/{cid}/answers", note)
