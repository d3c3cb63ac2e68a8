"""``fanqa run``: the bots, the training scheduler and notifications (and a worker) together."""

from __future__ import annotations

import asyncio
import logging

import typer

from bot.cli.app import app, console, emit_json, handle_errors
from bot.settings import get_settings


@app.command("run")
@handle_errors
def run_cmd(
    check: bool = typer.Option(False, "--check", help="Validate the configuration and exit."),
    as_json: bool = typer.Option(False, "--json", help="With --check: print JSON."),
) -> None:
    """Run every configured bot (Telegram, Discord) with the scheduler until SIGINT/SIGTERM."""
    from bot.runner import check_config, serve

    settings = get_settings()
    if check:
        found = check_config(settings)
        if as_json:
            emit_json({"ok": True, "checks": found})
        else:
            for line in found:
                console.print(f"[green]ok[/] {line}", highlight=False)
        return
    logging.getLogger().setLevel(settings.log_level.upper())
    asyncio.run(serve(settings))
