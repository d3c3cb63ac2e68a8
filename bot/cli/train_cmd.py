"""``fanqa train`` and ``fanqa runs list|show|follow|cancel|results``: training rounds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.app import app, console, emit_json, handle_errors
from bot.runtime import open_engine
from bot.settings import get_settings
from storage.db import session_scope
from storage.models import RunStatus, TrainingRun
from storage.repo import get_community
from trainer.backend import BackendOptions, make_backend
from trainer.enqueue import queue_round
from trainer.runs import cancel_run, get_run, list_runs, requeue_run, run_metrics
from trainer.summary import load_summary
from trainer.worker import Worker, default_executor, default_name

runs_app = typer.Typer(help="Follow, inspect and cancel training runs.")
app.add_typer(runs_app, name="runs")

_JSON = typer.Option(False, "--json", help="Print JSON.")
_DONE = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


def run_dict(run: TrainingRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "community_id": run.community_id,
        "status": run.status,
        "backend": run.backend,
        "base_model": run.base_model,
        "base_models": run.base_models or [run.base_model],
        "trigger": run.trigger,
        "step": run.step,
        "total_steps": run.total_steps,
        "last_loss": run.last_loss,
        "attempts": run.attempts,
        "heartbeat_at": run.heartbeat_at,
        "out_dir": run.out_dir,
        "error": run.error,
        "summary": load_summary(run).model_dump(mode="json"),
        "hyperparameters": run.hyperparameters,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


@app.command("train")
@handle_errors
def train_cmd(
    community: str = typer.Option(..., "--community", "-c", help="Community name."),
    base_model: list[str] | None = typer.Option(
        None,
        help="Candidate base model(s): local path or hub id (local), model name (hosted); "
        "repeat or separate with commas (default: the community's base_models, else settings).",
    ),
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
    """Queue a training round on the approved pairs; with --wait claim it, run it, gate it.

    With --wait the exit status is 0 when a model went live, 1 when the run failed or the gate
    promoted no candidate, 2 for bad input (nothing queued).
    """
    settings = get_settings()
    engine = open_engine()
    options = BackendOptions.from_settings(settings)
    if resume is not None:
        with session_scope(engine) as session:
            run_id = requeue_run(session, resume).id or 0
    else:
        chosen = make_backend(backend or settings.training_backend, options)
        bases = [b.strip() for item in base_model or [] for b in item.split(",") if b.strip()]
        with session_scope(engine) as session:
            cid = get_community(session, community).id or 0
            run = queue_round(
                session,
                cid,
                chosen,
                base_models=bases or None,
                runs_dir=settings.runs_dir,
                profile=profile,
                epochs=epochs,
            )
            run_id, names = run.id or 0, run.base_models or [run.base_model]
        if not wait:
            _queued(engine, run_id, as_json)
            return
        if not as_json:
            console.print(f"run {run_id}: training {', '.join(names)} ({chosen.name}) …")
    _finish(claim_and_execute(engine, run_id, options, settings.runs_dir, quiet=as_json), as_json)


def claim_and_execute(
    engine: Any, run_id: int, options: BackendOptions, runs_dir: Any, *, quiet: bool = False
) -> TrainingRun:
    """Claim ``run_id`` as a worker does and execute it; when a worker claimed it first,
    follow it to its end instead (a run is never executed twice)."""
    executor = default_executor(
        runs_dir=runs_dir,
        options=options,
        on_event=None if quiet else (lambda text: console.print(f"  {text}", highlight=False)),
    )
    worker = Worker(engine, executor=executor, name=f"cli-{default_name()}")
    run = worker.run_once(run_id)
    if run is not None:
        return run
    with session_scope(engine) as session:
        run = get_run(session, run_id)
    if not quiet:
        console.print(f"run {run_id} was claimed by worker {run.worker}; following it")
    while run.status not in _DONE:
        time.sleep(1.0)
        with session_scope(engine) as session:
            run = get_run(session, run_id)
    return run


def _queued(engine: Any, run_id: int, as_json: bool) -> None:
    with session_scope(engine) as session:
        run = get_run(session, run_id)
    if as_json:
        emit_json(run_dict(run))
    else:
        console.print(f"queued run {run_id}; `fanqa worker` (or `fanqa run`) will pick it up")


def _finish(run: TrainingRun, as_json: bool) -> None:
    """Print how the run ended; exit 0 only when a model went live (GateRejected: exit 1)."""
    summary = load_summary(run)
    if as_json:
        emit_json(run_dict(run))
    else:
        promoted = summary.promoted
        verdict = "" if promoted is None else ("promoted" if promoted else "rejected by the gate")
        console.print(f"run {run.id}: {run.status}" + (f"; {verdict}" if verdict else ""))
        if run.error:
            console.print(f"[red]{run.error}[/]")
    if run.status != RunStatus.SUCCEEDED:
        raise typer.Exit(1)
    summary.raise_if_rejected(run.id)


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
def results_cmd(
    run_id: int,
    tail: int | None = typer.Option(None, min=0, help="Only the last N steps per candidate."),
    as_json: bool = _JSON,
) -> None:
    """Each candidate's evaluation, and per-step metrics like ``openai api fine_tunes.results``."""
    with session_scope(open_engine()) as session:
        run = get_run(session, run_id)
        rows = [m.model_dump(exclude={"id", "run_id"}) for m in run_metrics(session, run_id)]
    if tail is not None:
        last = {r["candidate"]: r["step"] for r in rows}  # rows are by candidate, then step
        rows = [r for r in rows if r["step"] > last[r["candidate"]] - tail]
    if as_json:
        emit_json(rows)
        return
    summary = load_summary(run)
    if summary.candidates:
        console.print(candidates_table(run_id, summary))
    columns = [
        "candidate",
        "step",
        "train_loss",
        "train_mean_token_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
        "valid_sequence_accuracy",
    ]
    table = Table(*columns, title=f"run {run_id}: steps")
    for row in rows:
        row["candidate"] += 1
        table.add_row(*("" if row[c] is None else f"{row[c]:.4g}" for c in columns))
    console.print(table)


def _short(model: str) -> str:
    """A local model folder by its name (the table is narrow); hub and remote ids as they are."""
    path = Path(model)
    return path.name if path.is_absolute() else model


def candidates_table(run_id: int, summary: Any) -> Table:
    """The candidates of a round side by side with the reference."""
    table = Table(
        "#", "base model", "chrF", "question gain", "loss", "gate", "model", title=f"run {run_id}"
    )

    def num(metrics: dict[str, Any] | None, key: str) -> str:
        value = (metrics or {}).get(key)
        return "" if value is None else f"{value:.4g}"

    for cand in summary.candidates:
        verdict = "" if cand.gate is None else ("pass" if cand.passed else "fail")
        if cand.index == summary.best and summary.promoted:
            verdict += " → live"
        table.add_row(
            str(cand.index + 1),
            cand.fine_tuned_model or _short(cand.base_model),
            num(cand.metrics, "chrf"),
            num(cand.metrics, "question_gain"),
            num(cand.metrics, "loss"),
            verdict,
            str(cand.model_version_id or ""),
        )
    if summary.reference is not None:
        ref = summary.reference
        name = _short(summary.reference_model or "")
        table.add_row(
            "ref", name, num(ref, "chrf"), num(ref, "question_gain"), num(ref, "loss"), "", ""
        )
    return table


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
