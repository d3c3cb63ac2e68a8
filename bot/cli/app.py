"""The typer application and what every command shares: errors, --json output, the engine."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from typing import Any

import typer
from rich.console import Console

from bot.cli.errors import handle_errors
from bot.cli.registry import app
from harvest.sanitize import install_log_sanitizer, sanitize

__all__ = ["app", "console", "emit_json", "err_console", "handle_errors"]

console = Console()
err_console = Console(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return str(value)


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (UTF-8, Chinese kept readable, secrets masked)."""
    text = json.dumps(data, ensure_ascii=False, default=_default, indent=2)
    sys.stdout.write(sanitize(text) + "\n")
    sys.stdout.flush()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
) -> None:
    """fanqa: harvest Q&A, review it, fine-tune, answer."""
    install_log_sanitizer()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
