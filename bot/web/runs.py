"""The runs page: status and progress (htmx polling), loss values and curve, gate report, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from bot.web.auth import CSRF_FIELD, check_csrf, grant_for
from bot.web.views import redirect_with_note, render
from harvest.errors import NotFound
from storage.db import session_scope
from storage.models import ModelVersion, RunMetric, RunStatus, TrainingRun
from storage.repo.pairs import record_event
from trainer.runs import cancel_run, get_run, list_runs, run_metrics

__all__ = ["router"]

router = APIRouter()
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
DONE = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}
POLL_S = 2


def _own_run(session: Session, rid: int, cid: int) -> TrainingRun:
    run = get_run(session, rid)
    if run.community_id != cid:
        raise NotFound(f"no training run with id {rid}", kind="run", key=rid)
    return run


def loss_curve(rows: list[RunMetric], width: int = 560, height: int = 160) -> dict[str, str]:
    """SVG polyline points for train and validation loss over steps (empty when none)."""
    series = {
        "train": [(m.step, m.train_loss) for m in rows if m.train_loss is not None],
        "valid": [(m.step, m.valid_loss) for m in rows if m.valid_loss is not None],
    }
    values = [v for points in series.values() for _, v in points]
    steps = [s for points in series.values() for s, _ in points]
    if not values:
        return {}
    low, high = min(values), max(values)
    first, last = min(steps), max(steps)
    span_v, span_s = (high - low) or 1.0, (last - first) or 1
    out = {}
    for name, points in series.items():
        out[name] = " ".join(
            f"{(s - first) / span_s * (width - 20) + 10:.1f},"
            f"{height - 10 - (v - low) / span_v * (height - 20):.1f}"
            for s, v in points
        )
    return out


def _model_of(session: Session, rid: int) -> ModelVersion | None:
    return session.exec(select(ModelVersion).where(ModelVersion.run_id == rid)).first()


@router.get("/c/{cid}/runs")
def runs_page(request: Request, cid: int, done: str | None = None) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        runs = list_runs(session, cid, 50)
        return render(request, "runs.html", desk=desk, grant=grant, runs=runs, flash=done)


def _run_context(session: Session, run: TrainingRun) -> dict[str, Any]:
    rows = run_metrics(session, run.id or 0)
    model = _model_of(session, run.id or 0)
    png = Path(model.report_path).parent / "report.png" if model and model.report_path else None
    return {
        "run": run,
        "rows": rows,
        "curve": loss_curve(rows),
        "model": model,
        "has_png": bool(png and png.exists()),
        "active": run.status not in DONE,
        "poll_s": POLL_S,
    }


@router.get("/c/{cid}/runs/{rid}")
def run_page(request: Request, cid: int, rid: int, done: str | None = None) -> Response:
    with session_scope(request.app.state.engine) as session:
        desk, grant = grant_for(request, session, cid)
        run = _own_run(session, rid, cid)
        context = _run_context(session, run)
        return render(request, "run.html", desk=desk, grant=grant, flash=done, **context)


@router.get("/c/{cid}/runs/{rid}/progress")
def run_progress(request: Request, cid: int, rid: int) -> Response:
    """The status block alone, polled by htmx every POLL_S seconds while the run is active."""
    with session_scope(request.app.state.engine) as session:
        _, grant = grant_for(request, session, cid)
        run = _own_run(session, rid, cid)
        return render(request, "_run_status.html", grant=grant, **_run_context(session, run))


@router.get("/c/{cid}/runs/{rid}/report.png")
def run_report_png(request: Request, cid: int, rid: int) -> Response:
    with session_scope(request.app.state.engine) as session:
        grant_for(request, session, cid)
        _own_run(session, rid, cid)
        model = _model_of(session, rid)
    if model is None or not model.report_path:
        raise NotFound("this run has no report", kind="report")
    png = Path(model.report_path).parent / "report.png"
    if not png.exists():
        raise NotFound("this run's report chart is missing", kind="report")
    return FileResponse(png, media_type="image/png")


@router.post("/c/{cid}/runs/{rid}/cancel")
def cancel(request: Request, cid: int, rid: int, csrf: Csrf) -> Response:
    """The same cancel_run as `fanqa runs cancel`, audited "via web"."""
    check_csrf(request, csrf)
    with session_scope(request.app.state.engine) as session:
        _, grant = grant_for(request, session, cid)
        _own_run(session, rid, cid)
        run = cancel_run(session, rid)
        record_event(
            session,
            community_id=cid,
            action="cancel_run",
            actor_id=grant.member.id,
            actor_label=grant.label,
            after={"run_id": rid, "status": run.status, "cancel_requested": run.cancel_requested},
        )
        note = f"run {rid}: " + ("cancelled" if run.status == "cancelled" else "cancel requested")
    return redirect_with_note(f"/c/{cid}/runs/{rid}", note)
