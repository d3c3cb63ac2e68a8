"""The review queue and the pair page: approve, reject, edit, in bulk or one at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.learning import Learner
from bot.web.auth import CSRF_FIELD, check_csrf, grant_for
from bot.web.views import redirect_with_note, render
from harvest.errors import InputError, NotFound, PermissionDenied
from storage.db import session_scope
from storage.models import PairStatus, QAPair
from storage.repo.bulk_review import review_matching
from storage.repo.pairs import (
    PairFilters,
    count_matching,
    get_pair,
    list_pairs,
    list_review_events,
    review_pair,
)
from storage.repo.review import filter_choices, pair_sources

__all__ = ["router"]

router = APIRouter()
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
ACTIONS = {"approve": "approved", "reject": "rejected", "reset": "back to pending"}


def _int_or_none(raw: str | None, name: str) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit():
        raise InputError(f"{name} must be a number", field=name)
    return int(raw)


def _float_or_none(raw: str | None, name: str) -> float | None:
    """A filter menu's value: "" is "any" (a browser sends every menu of the form)."""
    if raw is None or not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"{name} must be a number between 0 and 1", field=name) from None


def _learn(tasks: BackgroundTasks, request: Request, cid: int, action: str) -> None:
    """After the response: refit the community's pair classifier when enough moderator
    decisions came (``bot.learning``; the same check as chat and CLI reviews)."""
    if action in ("approve", "reject"):
        tasks.add_task(Learner(request.app.state.engine).maybe_refit, cid)


def _own(session: Session, pid: int, cid: int) -> QAPair:
    """The pair, or "not found" (404) when it is another community's: the desk does not
    tell moderators what exists elsewhere."""
    try:
        return get_pair(session, pid, community_id=cid)
    except PermissionDenied:
        raise NotFound(f"no pair #{pid}", kind="pair", key=pid) from None


def _filters(
    chat: str | None,
    author: str | None,
    method: str | None,
    min_confidence: str | None,
    max_confidence: str | None,
) -> PairFilters:
    """The queue's filters from a query string or form (empty: any; checked)."""
    return PairFilters(
        chat_id=_int_or_none(chat, "chat"),
        author_id=_int_or_none(author, "author"),
        method=method or None,
        min_confidence=_float_or_none(min_confidence, "min_confidence"),
        max_confidence=_float_or_none(max_confidence, "max_confidence"),
    )


@router.get("/c/{cid}/queue")
def queue_page(
    request: Request,
    cid: int,
    chat: str | None = None,
    author: str | None = None,
    method: str | None = None,
    min_confidence: str | None = None,
    max_confidence: str | None = None,
    done: str | None = None,
) -> Response:
    filters = _filters(chat, author, method, min_confidence, max_confidence)
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        pairs = list_pairs(session, cid, status=PairStatus.PENDING, filters=filters, limit=100)
        total = count_matching(session, cid, status=PairStatus.PENDING, filters=filters)
        rows = [(p, pair_sources(session, p)) for p in pairs]
        return render(
            request,
            "queue.html",
            desk=desk,
            grant=grant,
            rows=rows,
            total=total,
            filters=filters,
            choices=filter_choices(session, cid),
            flash=done,
            query=request.url.query,
        )


@router.post("/c/{cid}/pairs/{pid}/review")
def review_one(
    request: Request,
    cid: int,
    pid: int,
    csrf: Csrf,
    action: Annotated[str, Form()],
    tasks: BackgroundTasks,
    back: Annotated[str, Form()] = "queue",
) -> Response:
    """One pair approved / rejected (htmx swaps the row for a one-line note)."""
    check_csrf(request, csrf)
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}", field="action")
    with session_scope(request.app.state.engine) as session:
        _, grant = grant_for(request, session, cid)
        _own(session, pid, cid)
        pair = review_pair(
            session,
            pid,
            action,
            community_id=cid,
            actor_id=grant.member.id,
            actor_label=grant.label,
        )
        note = f"#{pair.id} {ACTIONS[action]}"
    _learn(tasks, request, cid, action)
    if request.headers.get("hx-request"):
        return render(request, "_reviewed.html", pid=pid, note=note, action=action)
    if back == "pair":
        return RedirectResponse(f"/c/{cid}/pairs/{pid}", status_code=303)
    return redirect_with_note(f"/c/{cid}/queue", note)


@router.post("/c/{cid}/queue/matching")
def review_matching_page(
    request: Request,
    cid: int,
    csrf: Csrf,
    action: Annotated[str, Form()],
    tasks: BackgroundTasks,
    chat: Annotated[str | None, Form()] = None,
    author: Annotated[str | None, Form()] = None,
    method: Annotated[str | None, Form()] = None,
    min_confidence: Annotated[str | None, Form()] = None,
    max_confidence: Annotated[str | None, Form()] = None,
) -> Response:
    """Approve or reject every pending pair the queue's filters match (``fanqa pairs
    reject --max-confidence …`` does the same): audited as a filter's decision, never a
    training label for the pair classifier."""
    check_csrf(request, csrf)
    filters = _filters(chat, author, method, min_confidence, max_confidence)
    engine = request.app.state.engine
    with session_scope(engine) as session:
        _, grant = grant_for(request, session, cid)
        member_id, label = grant.member.id, grant.label
    done = review_matching(engine, cid, action, filters, who=label, actor_id=member_id)
    _learn(tasks, request, cid, action)
    return redirect_with_note(
        f"/c/{cid}/queue", f"{len(done)} pair(s) with {filters.describe()} {ACTIONS[action]}"
    )


@router.post("/c/{cid}/queue/bulk")
def review_many(
    request: Request,
    cid: int,
    csrf: Csrf,
    action: Annotated[str, Form()],
    tasks: BackgroundTasks,
    ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """Approve or reject the selected pairs, all or none (one transaction)."""
    check_csrf(request, csrf)
    if action not in ("approve", "reject"):
        raise InputError(f"unknown action {action!r}", field="action")
    if not ids:
        raise InputError("select at least one pair (x, or the boxes)", field="ids")
    with session_scope(request.app.state.engine) as session:
        _, grant = grant_for(request, session, cid)
        for pid in ids:
            _own(session, pid, cid)
            review_pair(
                session,
                pid,
                action,
                community_id=cid,
                actor_id=grant.member.id,
                actor_label=grant.label,
            )
    note = f"{len(ids)} pair(s) {ACTIONS[action]}"
    _learn(tasks, request, cid, action)
    return redirect_with_note(f"/c/{cid}/queue", note)


@router.get("/c/{cid}/pairs/{pid}")
def pair_page(request: Request, cid: int, pid: int, edit: int = 0) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        pair = _own(session, pid, cid)
        return render(
            request,
            "pair.html",
            desk=desk,
            grant=grant,
            pair=pair,
            sources=pair_sources(session, pair),
            events=list_review_events(session, cid, pair_id=pid),
            editing=bool(edit),
            error=None,
            draft=None,
        )


@router.post("/c/{cid}/pairs/{pid}/edit")
def edit_pair(
    request: Request, cid: int, pid: int, csrf: Csrf, answer: Annotated[str, Form()] = ""
) -> Response:
    """Replace the answer (the same ``review_pair(..., "edit")`` as /edit and the CLI)."""
    check_csrf(request, csrf)
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        _own(session, pid, cid)
        try:
            review_pair(
                session,
                pid,
                "edit",
                community_id=cid,
                actor_id=grant.member.id,
                actor_label=grant.label,
                answer_text=answer,
            )
        except InputError as exc:
            session.rollback()
            pair = get_pair(session, pid, community_id=cid)
            return render(
                request,
                "pair.html",
                422,
                desk=desk,
                grant=grant,
                pair=pair,
                sources=pair_sources(session, pair),
                events=list_review_events(session, cid, pair_id=pid),
                editing=True,
                error=str(exc),
                draft=answer,
            )
    return RedirectResponse(f"/c/{cid}/pairs/{pid}", status_code=303)
