"""``fanqa learner status|fit``: the pair classifier a community learned from its moderators."""

from __future__ import annotations

from typing import Any

import typer
from sqlmodel import col, select

from bot.cli.app import app, console, emit_json, handle_errors
from bot.learning import FitResult, Learner, too_few
from bot.runtime import open_engine
from storage.db import session_scope
from storage.models import PairStatus, QAPair
from storage.repo import get_community
from storage.repo.classifiers import (
    AUTO_MIN_DECISIONS,
    AUTO_MIN_REJECTED,
    list_classifiers,
    may_auto_approve,
    new_decisions,
    read_labels,
)

learner_app = typer.Typer(help="The pair classifier each community learns from its moderators.")
app.add_typer(learner_app, name="learner")

_COMMUNITY = typer.Option(..., "--community", "-c", help="Community name.")
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _metrics_line(metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return "held-out precision / recall: too few decisions to hold some out"
    precision = metrics.get("precision")
    shown = "—" if precision is None else f"{precision:.2f}"
    return (
        f"held-out precision {shown}, recall {metrics['recall']:.2f} "
        f"({metrics['held_out']} decided pairs held out)"
    )


def _status(community: str) -> dict[str, Any]:
    with session_scope(open_engine()) as session:
        row = get_community(session, community)
        cid = row.id or 0
        versions = list_classifiers(session, cid)
        latest = versions[0] if versions else None
        labels = read_labels(session, cid)
        fresh = new_decisions(session, cid, latest.last_event_id if latest else 0)
        scored = 0
        if latest is not None:
            reasons = session.exec(
                select(QAPair.confidence_reason).where(
                    QAPair.community_id == cid,
                    QAPair.status == PairStatus.PENDING,
                    col(QAPair.deleted_at).is_(None),
                )
            ).all()
            scored = sum(
                ((r or {}).get("signals") or {}).get("classifier_version") == latest.version
                for r in reasons
            )
        return {
            "community": community,
            "version": latest.version if latest else None,
            "fitted_at": latest.created_at if latest else None,
            "decisions": latest.decisions if latest else 0,
            "approved": latest.approved if latest else 0,
            "rejected": (latest.decisions - latest.approved) if latest else 0,
            "metrics": latest.metrics if latest else None,
            "decisions_now": len(labels.pairs),
            "approved_now": labels.approved,
            "rejected_now": len(labels.pairs) - labels.approved,
            "why_none": too_few(labels) if latest is None else None,
            "new_decisions": fresh,
            "refit_every": row.classifier_refit_every,
            "auto_approve_above": row.auto_approve_above,
            "may_auto_approve": latest is not None and may_auto_approve(latest),
            "pending_scored_by_it": scored,
            "versions": [
                {"version": v.version, "decisions": v.decisions, "fitted_at": v.created_at}
                for v in versions
            ],
        }


@learner_app.command("status")
@handle_errors
def status_cmd(community: str = _COMMUNITY, as_json: bool = _JSON) -> None:
    """Show the community's classifier: version, decisions, when fitted, held-out quality."""
    data = _status(community)
    if as_json:
        emit_json(data)
        return
    auto = data["auto_approve_above"]
    auto_line = f"auto-approve above {auto}" if auto is not None else "auto-approve off"
    if auto is not None and not data["may_auto_approve"]:
        auto_line += (
            f" (waiting for a classifier fitted on {AUTO_MIN_DECISIONS} decisions, "
            f"{AUTO_MIN_REJECTED} of them rejections)"
        )
    if data["version"] is None:
        console.print(
            f"{community}: no classifier yet; it {data['why_none']}. Tried after every "
            f"{data['refit_every']} decisions and nightly; {auto_line}.",
            highlight=False,
        )
        return
    console.print(
        f"{community}: classifier v{data['version']}, fitted {data['fitted_at']:%Y-%m-%d %H:%M} "
        f"UTC on {data['decisions']} decisions ({data['approved']} approved, "
        f"{data['rejected']} rejected)\n"
        f"{_metrics_line(data['metrics'])}\n"
        f"{data['new_decisions']} new decision(s) since; refitted after every "
        f"{data['refit_every']} and nightly; {data['pending_scored_by_it']} pending pair(s) "
        f"scored by it; {auto_line}",
        highlight=False,
    )


def _fit_lines(community: str, result: FitResult) -> str:
    if result.version is None:
        return f"{community}: no classifier fitted: {result.reason}"
    lines = [
        f"{community}: classifier v{result.version} fitted on {result.decisions} decisions "
        f"({result.approved} approved, {result.decisions - result.approved} rejected)",
        _metrics_line(result.metrics),
        f"{result.rescored} pending pair(s) re-scored",
    ]
    if result.auto_approved:
        ids = ", ".join(f"#{p}" for p in result.auto_approved)
        lines.append(f"{len(result.auto_approved)} approved by the classifier: {ids}")
    return "\n".join(lines)


@learner_app.command("fit")
@handle_errors
def fit_cmd(community: str = _COMMUNITY, as_json: bool = _JSON) -> None:
    """Fit a new version now on every moderator decision, re-score pending pairs."""
    engine = open_engine()
    with session_scope(engine) as session:
        cid = get_community(session, community).id or 0
    result = Learner(engine).fit(cid)
    if as_json:
        emit_json({"community": community, **result.as_dict()})
    else:
        console.print(_fit_lines(community, result), highlight=False)
    if result.version is None:
        raise typer.Exit(1)
