"""``fanqa pairs list|show|approve|reject|reset|edit|pin``: review harvested pairs."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.app import app, console, emit_json, handle_errors
from bot.learning import Learner
from bot.runtime import open_engine
from bot.settings import get_settings
from harvest.errors import InputError
from storage.db import session_scope
from storage.models import PairStatus, QAPair
from storage.repo import (
    PairFilters,
    get_community,
    get_pair,
    list_pairs,
    list_review_events,
    review_pair,
)
from storage.repo.bulk_review import review_matching
from storage.repo.pairs import count_matching, set_golden

pairs_app = typer.Typer(help="List and review harvested question → answer pairs.")
app.add_typer(pairs_app, name="pairs")

_COMMUNITY = typer.Option(..., "--community", "-c", help="Community name.")
_JSON = typer.Option(False, "--json", help="Print JSON.")
_ACTOR = "cli"
_DONE = {"approve": "approved", "reject": "rejected"}
_MIN = typer.Option(None, "--min-confidence", help="Only pairs at or above this confidence (0–1).")
_MAX = typer.Option(None, "--max-confidence", help="Only pairs at or below this confidence (0–1).")
_METHOD = typer.Option(None, "--method", help="Only pairs found this way (reply, thread, …).")
_YES = typer.Option(
    False, "--yes", help="Do it: with filters, review every pending pair they match."
)
_IDS = typer.Argument(None, help="Pair ids; or none, with filters.")


def pair_dict(pair: QAPair) -> dict[str, object]:
    return {
        "id": pair.id,
        "status": pair.status,
        "question": pair.question_text,
        "answer": pair.answer_text,
        "method": pair.method,
        "score": pair.score,
        "confidence": pair.confidence,
        "confidence_reason": pair.confidence_reason,
        "split": pair.split,
        "golden": pair.golden,
        "reviewed_at": pair.reviewed_at,
    }


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@pairs_app.command("list")
@handle_errors
def list_cmd(
    community: str = _COMMUNITY,
    status: str | None = typer.Option(None, help="pending | approved | rejected"),
    limit: int = typer.Option(20, min=1, help="How many."),
    offset: int = typer.Option(0, min=0, help="Skip this many first (to page through)."),
    min_confidence: float | None = _MIN,
    max_confidence: float | None = _MAX,
    method: str | None = _METHOD,
    as_json: bool = _JSON,
) -> None:
    """List pairs, most likely good first (by confidence)."""
    filters = PairFilters(
        method=method, min_confidence=min_confidence, max_confidence=max_confidence
    )
    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id or 0
        pairs = list_pairs(session, cid, status=status, filters=filters, limit=limit, offset=offset)
    if as_json:
        emit_json([pair_dict(p) for p in pairs])
        return
    table = Table(title=f"{community}: {len(pairs)} pair(s)")
    for column in ("id", "status", "conf", "question", "answer", "via"):
        table.add_column(column)
    for p in pairs:
        table.add_row(
            str(p.id),
            p.status,
            f"{p.confidence:.2f}",
            _short(p.question_text),
            _short(p.answer_text),
            p.method,
        )
    console.print(table)


@pairs_app.command("show")
@handle_errors
def show_cmd(pair_id: int, community: str = _COMMUNITY, as_json: bool = _JSON) -> None:
    """Show one pair with its review history."""
    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id or 0
        pair = get_pair(session, pair_id, community_id=cid)
        events = list_review_events(session, cid, pair_id=pair_id)
        data = pair_dict(pair) | {
            "history": [
                {"action": e.action, "by": e.actor_label, "at": e.created_at} for e in events
            ]
        }
    if as_json:
        emit_json(data)
        return
    console.print(
        f"[bold]#{pair.id}[/] {escape(f'[{pair.status}]')} via {pair.method}, split {pair.split}"
    )
    console.print(f"[bold]Q:[/] {pair.question_text}", highlight=False)
    console.print(f"[bold]A:[/] {pair.answer_text}", highlight=False)
    reason = pair.confidence_reason or {}
    signals = ", ".join(f"{k}={v}" for k, v in (reason.get("signals") or {}).items())
    console.print(
        f"confidence {pair.confidence:.2f} by rule {reason.get('rule', pair.method)}"
        + (f" ({signals})" if signals else ""),
        highlight=False,
    )
    for event in data["history"]:  # type: ignore[attr-defined]
        console.print(f"  {event['at']:%Y-%m-%d %H:%M} {event['action']} by {event['by']}")


def _review(
    pair_ids: list[int],
    action: str,
    community: str,
    as_json: bool,
    answer: str | None = None,
    filters: PairFilters | None = None,
) -> None:
    """Review ``pair_ids`` in one transaction (one fails: none is changed), or with
    ``filters`` every pending pair they match (:func:`review_matching`)."""
    limit = get_settings().max_answer_chars
    engine = open_engine()
    with session_scope(engine) as session:
        cid = get_community(session, community).id or 0
        if filters is None:
            done = [
                pair_dict(
                    review_pair(
                        session,
                        pid,
                        action,
                        community_id=cid,
                        actor_label=_ACTOR,
                        answer_text=answer,
                        max_chars=limit,
                    )
                )
                for pid in pair_ids
            ]
    if filters is not None:
        done = [pair_dict(p) for p in review_matching(engine, cid, action, filters, who=_ACTOR)]
    refit = None
    if action in ("approve", "reject") and done:  # moderators' decisions teach the classifier
        refit = Learner(engine).maybe_refit(cid)
    if as_json:
        emit_json(done)
        return
    if filters is not None:
        console.print(
            f"{len(done)} pending pair(s) with {filters.describe()} {_DONE[action]}",
            highlight=False,
        )
    else:
        for item in done:
            console.print(f"#{item['id']} → {item['status']}")
    if refit is not None:
        console.print(f"pair classifier: {refit.reason}", highlight=False)


def _bulk(
    pair_ids: list[int] | None,
    action: str,
    community: str,
    as_json: bool,
    filters: PairFilters,
    yes: bool,
) -> None:
    """``approve`` / ``reject`` by ids, or by filters over the pending pairs with ``--yes``
    (without it, how many would change, and nothing changed: exit 2)."""
    if pair_ids and filters.narrows:
        raise InputError("give pair ids or filters, not both", field="pair_ids")
    if pair_ids:
        _review(pair_ids, action, community, as_json)
        return
    if not filters.narrows:
        raise InputError(
            "give pair ids, or filters (--min-confidence, --max-confidence, --method) "
            "with --yes to review every pending pair they match",
            field="pair_ids",
        )
    if not yes:
        with session_scope(open_engine()) as session:
            cid = get_community(session, community).id or 0
            n = count_matching(session, cid, status=PairStatus.PENDING, filters=filters)
        raise InputError(
            f"{n} pending pair(s) match; nothing changed: add --yes to {action} them",
            field="yes",
        )
    _review([], action, community, as_json, filters=filters)


def _decision_command(action: str, doc: str) -> None:
    """``fanqa pairs approve|reject``: by id, or by filters over the pending pairs."""

    def command(
        pair_ids: list[int] | None = _IDS,
        community: str = _COMMUNITY,
        min_confidence: float | None = _MIN,
        max_confidence: float | None = _MAX,
        method: str | None = _METHOD,
        yes: bool = _YES,
        as_json: bool = _JSON,
    ) -> None:
        filters = PairFilters(
            method=method, min_confidence=min_confidence, max_confidence=max_confidence
        )
        _bulk(pair_ids, action, community, as_json, filters, yes)

    command.__doc__ = doc
    command.__name__ = f"{action}_cmd"
    pairs_app.command(action)(handle_errors(command))


_decision_command(
    "approve", "Approve pairs for training: by id, or every pending pair the filters match (--yes)."
)
_decision_command("reject", "Reject pairs: by id, or every pending pair the filters match (--yes).")


@pairs_app.command("reset")
@handle_errors
def reset_cmd(pair_ids: list[int], community: str = _COMMUNITY, as_json: bool = _JSON) -> None:
    """Put pairs back to pending: undo an approval (a moderator's or the classifier's) or a
    rejection."""
    _review(pair_ids, "reset", community, as_json)


@pairs_app.command("edit")
@handle_errors
def edit_cmd(pair_id: int, answer: str, community: str = _COMMUNITY, as_json: bool = _JSON) -> None:
    """Replace a pair's answer text."""
    _review([pair_id], "edit", community, as_json, answer=answer)


@pairs_app.command("pin")
@handle_errors
def pin_cmd(
    pair_id: int,
    community: str = _COMMUNITY,
    unpin: bool = typer.Option(False, "--unpin", help="Remove it from the golden set."),
    as_json: bool = _JSON,
) -> None:
    """Pin a pair in the golden set that every evaluation includes."""
    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id or 0
        pair = set_golden(session, pair_id, not unpin, community_id=cid, actor_label=_ACTOR)
        data = pair_dict(pair)
    emit_json(data) if as_json else console.print(f"#{pair_id} golden={data['golden']}")
