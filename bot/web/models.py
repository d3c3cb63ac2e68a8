"""The models page: live and candidate versions; promote and roll back after a confirmation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from bot.web.actions import run_command
from bot.web.auth import CSRF_FIELD, check_csrf, grant_for
from bot.web.views import redirect_with_note, render
from harvest.errors import NotFound
from storage.db import session_scope
from trainer.registry import get_model, list_models, live_model

__all__ = ["router"]

router = APIRouter()
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]


@router.get("/c/{cid}/models")
def models_page(request: Request, cid: int, done: str | None = None) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        return render(
            request,
            "models.html",
            desk=desk,
            grant=grant,
            live=live_model(session, cid),
            models=list_models(session, cid),
            flash=done,
        )


@router.get("/c/{cid}/models/{mid}/promote")
def confirm_promote(request: Request, cid: int, mid: int) -> Response:
    """The confirmation step: what goes live and what it replaces."""
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        model = get_model(session, mid)
        if model.community_id != cid:
            raise NotFound(f"no model version with id {mid}", kind="model", key=mid)
        return render(
            request,
            "confirm.html",
            desk=desk,
            grant=grant,
            title=f"Make model #{mid} live?",
            model=model,
            live=live_model(session, cid),
            action=f"/c/{cid}/models/{mid}/promote",
            button=f"Yes, make #{mid} live",
        )


@router.post("/c/{cid}/models/{mid}/promote")
def promote_model(request: Request, cid: int, mid: int, csrf: Csrf) -> Response:
    """/promote ID, as the moderator, audited "via web"."""
    check_csrf(request, csrf)
    engine = request.app.state.engine
    with session_scope(engine) as session:
        _, grant = grant_for(request, session, cid)
    reply = run_command(engine, grant, "promote", str(mid), audit="promote")
    return redirect_with_note(f"/c/{cid}/models", reply)


@router.get("/c/{cid}/models/rollback")
def confirm_rollback(request: Request, cid: int) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        live = live_model(session, cid)
        return render(
            request,
            "confirm.html",
            desk=desk,
            grant=grant,
            title="Roll back the live model?",
            model=None,
            live=live,
            action=f"/c/{cid}/models/rollback",
            button="Yes, roll back",
        )


@router.post("/c/{cid}/models/rollback")
def rollback_model(request: Request, cid: int, csrf: Csrf) -> Response:
    """/rollback, as the moderator, audited "via web"."""
    check_csrf(request, csrf)
    engine = request.app.state.engine
    with session_scope(engine) as session:
        _, grant = grant_for(request, session, cid)
    reply = run_command(engine, grant, "rollback", audit="rollback")
    return redirect_with_note(f"/c/{cid}/models", reply)
