"""``fanqa worker``: claim queued training runs and execute them (on the GPU machine)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

from bot.cli.app import app, console, emit_json, handle_errors
from bot.cli.train_cmd import run_dict
from bot.runtime import open_engine
from bot.settings import get_settings


@app.command("worker")
@handle_errors
def worker_cmd(
    once: bool = typer.Option(False, "--once", help="Execute at most one queued run, then exit."),
    poll: float = typer.Option(10.0, "--poll", min=0.1, help="Seconds between queue polls."),
    name: str | None = typer.Option(None, "--name", help="Worker name (default host:pid)."),
    as_json: bool = typer.Option(False, "--json", help="With --once: print the run as JSON."),
) -> None:
    """Execute queued runs until SIGINT/SIGTERM; moderators hear about them via `fanqa run`."""
    from bot.runner import make_worker

    settings = get_settings()
    logging.getLogger().setLevel(settings.log_level.upper())
    worker = make_worker(settings, open_engine(settings), name=name)  # notifications → outbox
    if once:
        worker.recover()
        run = worker.run_once()
        if as_json:
            emit_json(run_dict(run) if run is not None else None)
        else:
            console.print("no queued run" if run is None else f"run {run.id}: {run.status}")
        return
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %s: stopping", signum)
        worker.stop()
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    console.print(f"worker {worker.name}: waiting for queued runs (Ctrl+C stops)")
    worker.run_forever(stop, poll)
