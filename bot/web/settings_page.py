"""The community's settings, validated by the one check ``fanqa community set`` runs too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.learning import Learner
from bot.web.auth import CSRF_FIELD, check_csrf, grant_for
from bot.web.views import redirect_with_note, render
from harvest.errors import InputError
from storage.db import session_scope
from storage.models import Community
from storage.repo.communities import COMMUNITY_SETTINGS, update_community
from storage.repo.pairs import record_event
from storage.repo.settings_check import validate_community_settings

__all__ = ["router"]

router = APIRouter()


def as_text(community: Community) -> dict[str, str]:
    """Each setting as the text the form shows (lists joined by ``|``, None as empty)."""
    out = {}
    for key in COMMUNITY_SETTINGS:
        value = getattr(community, key)
        if isinstance(value, list):
            out[key] = "|".join(value)
        else:
            out[key] = "" if value is None else str(value)
    return out


@router.get("/c/{cid}/settings")
def settings_page(request: Request, cid: int, done: str | None = None) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        return render(
            request,
            "settings.html",
            desk=desk,
            grant=grant,
            values=as_text(grant.community),
            error=None,
            flash=done,
        )


@router.post("/c/{cid}/settings")
async def save_settings(request: Request, cid: int) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    submitted = {k: str(form[k]) for k in COMMUNITY_SETTINGS if k in form}
    return await run_in_threadpool(_save_sync, request, cid, submitted)  # storage off the loop


def _save_sync(request: Request, cid: int, submitted: dict[str, str]) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        before = as_text(grant.community)
        changed = {k: v for k, v in submitted.items() if v != before.get(k)}
        try:
            values: dict[str, Any] = validate_community_settings(changed)
            if values:
                row = update_community(session, cid, **values)
                record_event(
                    session,
                    community_id=cid,
                    action="settings",
                    actor_id=grant.member.id,
                    actor_label=grant.label,
                    before={k: before[k] for k in values},
                    after={k: as_text(row)[k] for k in values},
                )
        except InputError as exc:
            session.rollback()
            return render(
                request,
                "settings.html",
                422,
                desk=desk,
                grant=grant,
                values=before | submitted,
                error=f"{exc} Nothing was changed.",
            )
    note = f"saved: {', '.join(values)}" if values else "nothing to change"
    if values.get("auto_approve_above") is not None:  # applies to the pending queue at once
        approved = Learner(request.app.state.engine).auto_approve(cid)
        note += f"; {len(approved)} pending pair(s) approved by the classifier" if approved else ""
    return redirect_with_note(f"/c/{cid}/settings", note)
