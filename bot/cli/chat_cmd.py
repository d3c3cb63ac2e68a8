"""``fanqa chat``: talk to the bot in the terminal (or pipe a script into it)."""

from __future__ import annotations

import sys

import typer

from bot.cli.app import app, handle_errors


@app.command("chat")
@handle_errors
def chat_cmd(
    community: str = typer.Option(..., "--community", "-c", help="Community to chat in."),
    as_user: str = typer.Option("you", "--as", help="Who you speak as."),
    moderator: bool = typer.Option(False, "--moderator", help="Speak as a moderator."),
) -> None:
    """Chat with the bot from stdin: messages, >ID replies, +ID ✅ reactions, /commands."""
    from bot.console import HINT, ConsoleSession  # the bot core: only when a chat starts
    from bot.runtime import build_root

    root = build_root()
    session = ConsoleSession(
        root.engine,
        community,
        as_user,
        moderator=moderator,
        out=typer.echo,
        service=root.service(),
    )
    if sys.stdin.isatty():
        typer.echo(HINT)
    session.run(sys.stdin)
