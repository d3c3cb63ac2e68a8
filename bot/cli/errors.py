"""How a CLI command ends on an error: one sanitized line on stderr and its exit status.

``FanqaError`` → its message (exit 2 for bad input, 1 otherwise); a database or file-system
fault (locked, read-only, unreachable, a read-only data folder) → a ``StorageError`` line;
anything else → one line naming the exception, the traceback only with ``--verbose``. Every
line passes through ``harvest.sanitize``: a provider's error text never prints a key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape

from harvest.errors import FanqaError
from harvest.sanitize import sanitize

__all__ = ["database_label", "handle_errors", "report"]

log = logging.getLogger("fanqa.cli")
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def database_label() -> str | None:
    """The configured database as a user would name it: a file path, or a URL sans password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from bot.settings import get_settings

    try:
        url = make_url(get_settings().database_url)
    except (ArgumentError, ValueError):
        return None
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def report(exc: BaseException) -> int:
    """Print ``exc`` as one clear, sanitized line on stderr; returns the exit status."""
    error: FanqaError | None = exc if isinstance(exc, FanqaError) else None
    if error is None:
        from storage.faults import as_storage_error  # SQLAlchemy: only once something failed

        error = as_storage_error(exc, where=database_label())
    if error is not None:
        line, code = str(error), error.exit_code
    else:
        log.debug("unexpected error", exc_info=exc)
        line = f"unexpected {type(exc).__name__}: {exc} (--verbose shows the traceback)"
        code = 1
    err_console.print(
        f"[bold red]error:[/] {escape(sanitize(line))}", highlight=False, soft_wrap=True
    )
    return code


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn any error of a command into ``report``'s line and exit status."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, typer.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            raise typer.Exit(report(exc)) from None

    return wrapper
