"""``fanqa train`` and ``fanqa runs list|show|follow|cancel|results``: local LoRA runs."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.app import app, console, emit_json, handle_errors
from bot.runtime import device_of, open_engine
from bot.settings import get_settings
from harvest.errors import InputError
from storage.db import session_scope
from storage.models import RunStatus, TrainingRun
from storage.repo import get_community
from trainer.enqueue import profile_for, suggested_hyperparameters
from trainer.runs import cancel_run, execute_run, get_run, list_runs, queue_run, run_metrics

runs_app = typer.Typer(help="Follow, inspect and cancel training runs.")
app.add_typer(runs_app, name="runs")

_JSON = typer.Option(False, "--json", help="Print JSON.")
_DONE = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


def run_dict(run: TrainingRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "community_id": run.community_id,
        "status": run.status,
        "base_model": run.base_model,
        "trigger": run.trigger,
        "step": run.step,
        "total_steps": run.total_steps,
        "last_loss": run.last_loss,
        "attempts": run.attempts,
        "heartbeat_at": run.heartbeat_at,
        "out_dir": run.out_dir,
        "error": run.error,
        "summary": run.summary,
        "hyperparameters": run.hyperparameters,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


@app.command("train")
@handle_errors
def train_cmd(
    community: str = typer.Option(..., "--community", "-c", help="Community name."),
    base_model: str | None = typer.Option(None, help="Local path or hub id (default: settings)."),
    backend: str | None = typer.Option(
        None, help="local | openai (default: FANQA_TRAINING_BACKEND)."
    ),
    profile: str = typer.Option("auto", help="auto | pretrained | scratch (tiny models)."),
    epochs: float | None = typer.Option(None, min=0.1, help="Override the suggested epochs."),
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="Train now (else: queue for `fanqa worker`)."
    ),
    resume: int | None = typer.Option(None, help="Resume this failed/cancelled run instead."),
    as_json: bool = _JSON,
) -> None:
    """Queue a fine-tuning run on the approved pairs; with --wait run it and gate the result."""
    settings = get_settings()
    engine = open_engine()
    if resume is not None:
        run = execute_run(
            engine, resume, runs_dir=settings.runs_dir, device=device_of(settings), resume=True
        )
        _finish(run, as_json)
        return
    chosen_backend = backend or settings.training_backend
    if chosen_backend not in ("local", "openai"):
        raise InputError("one of local, openai", field="--backend")
    if chosen_backend == "openai":
        _train_hosted(engine, community, base_model, epochs, wait, as_json)
        return
    base = base_model or settings.base_model
    chosen = profile_for(base, profile)
    with session_scope(engine) as session:
        cid = get_community(session, community).id or 0
        hp = suggested_hyperparameters(session, cid, base, chosen)
        if epochs is not None:
            hp["epochs"] = epochs
        run_id = queue_run(session, cid, base_model=base, hyperparameters=hp).id or 0
    if not wait:
        _queued(engine, run_id, as_json)
        return
    if not as_json:
        console.print(f"run {run_id}: training {base} ({chosen} profile) …")
    run = execute_run(engine, run_id, runs_dir=settings.runs_dir, device=device_of(settings))
    _finish(run, as_json)


def _queued(engine: Any, run_id: int, as_json: bool) -> None:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
    if as_json:
        emit_json(run_dict(run))
    else:
        console.print(f"queued run {run_id}; `fanqa worker` (or `fanqa run`) will pick it up")


def _train_hosted(
    engine: Any,
    community: str,
    base_model: str | None,
    epochs: float | None,
    wait: bool,
    as_json: bool,
) -> None:
    """A run on the OpenAI-compatible fine-tuning API (the provider picks the rest)."""
    settings = get_settings()
    hp: dict[str, Any] = {} if epochs is None else {"n_epochs": max(1, round(epochs))}
    base = base_model or settings.hosted_base_model
    with session_scope(engine) as session:
        cid = get_community(session, community).id or 0
        run_id = (
            queue_run(session, cid, base_model=base, hyperparameters=hp, backend="openai").id or 0
        )
    if not wait:
        _queued(engine, run_id, as_json)
        return
    from trainer.hosted import HostedBackend, execute_hosted_run

    hosted = HostedBackend.from_settings(settings, poll_interval=settings.hosted_poll_s)
    if not as_json:
        console.print(f"run {run_id}: fine-tuning {base} at the hosted API …")
    run = execute_hosted_run(
        engine,
        run_id,
        hosted,
        runs_dir=settings.runs_dir,
        scrub=settings.scrub_pii,
        on_event=None if as_json else (lambda text: console.print(f"  {text}")),
    )
    _finish(run, as_json)


def _finish(run: TrainingRun, as_json: bool) -> None:
    if as_json:
        emit_json(run_dict(run))
    else:
        summary = run.summary or {}
        promoted = summary.get("promoted")
        verdict = "" if promoted is None else ("promoted" if promoted else "rejected by the gate")
        console.print(f"run {run.id}: {run.status}" + (f"; {verdict}" if verdict else ""))
        if run.error:
            console.print(f"[red]{run.error}[/]")
    if run.status != RunStatus.SUCCEEDED:
        raise typer.Exit(1)


@runs_app.command("list")
@handle_errors
def list_cmd(
    community: str | None = typer.Option(None, "--community", "-c"),
    limit: int = typer.Option(20, min=1),
    as_json: bool = _JSON,
) -> None:
    """List runs, newest first."""
    with session_scope(open_engine()) as session:
        cid = get_community(session, community).id if community else None
        runs = list_runs(session, cid, limit)
    if as_json:
        emit_json([run_dict(r) for r in runs])
        return
    table = Table("id", "status", "step", "loss", "trigger", "created", "error")
    for r in runs:
        loss = "" if r.last_loss is None else f"{r.last_loss:.4f}"
        step = f"{r.step}/{r.total_steps}"
        error = (r.error or "")[:50]
        table.add_row(
            str(r.id), r.status, step, loss, r.trigger, f"{r.created_at:%Y-%m-%d %H:%M}", error
        )
    console.print(table)


@runs_app.command("show")
@handle_errors
def show_cmd(run_id: int, as_json: bool = _JSON) -> None:
    """Show one run."""
    with session_scope(open_engine()) as session:
        data = run_dict(get_run(session, run_id))
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/]: {value}", highlight=False)


@runs_app.command("cancel")
@handle_errors
def cancel_cmd(run_id: int, as_json: bool = _JSON) -> None:
    """Cancel a queued run, or ask a running one to stop at its next step."""
    with session_scope(open_engine()) as session:
        data = run_dict(cancel_run(session, run_id))
    emit_json(data) if as_json else console.print(f"run {run_id}: cancel requested")


@runs_app.command("results")
@handle_errors
def results_cmd(run_id: int, as_json: bool = _JSON) -> None:
    """Per-step metrics, like ``openai api fine_tunes.results``."""
    with session_scope(open_engine()) as session:
        get_run(session, run_id)
        rows = [m.model_dump(exclude={"id", "run_id"}) for m in run_metrics(session, run_id)]
    if as_json:
        emit_json(rows)
        return
    columns = [
        "step",
        "train_loss",
        "train_mean_token_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
        "valid_sequence_accuracy",
    ]
    table = Table(*columns, title=f"run {run_id}")
    for row in rows:
        table.add_row(*("" if row[c] is None else f"{row[c]:.4g}" for c in columns))
    console.print(table)


@runs_app.command("follow")
@handle_errors
def follow_cmd(
    run_id: int,
    interval: float = typer.Option(1.0, min=0.05, help="Seconds between polls."),
    as_json: bool = _JSON,
) -> None:
    """Show a progress bar with the loss until the run ends."""
    engine = open_engine()
    columns = (
        TextColumn("run {task.fields[run]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=as_json) as progress:
        task = progress.add_task("train", total=None, run=run_id, loss="—", status="")
        while True:
            with session_scope(engine) as session:
                run = get_run(session, run_id)
            loss = "—" if run.last_loss is None else f"{run.last_loss:.4f}"
            progress.update(
                task,
                completed=run.step,
                total=run.total_steps or None,
                loss=loss,
                status=run.status,
            )
            if run.status in _DONE:
                break
            time.sleep(interval)
    if as_json:
        emit_json(run_dict(run))
    else:
        console.print(f"run {run_id}: {run.status}" + (f" — {run.error}" if run.error else ""))
