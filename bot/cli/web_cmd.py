"""``fanqa web`` (serve the review desk) and ``fanqa web login-link`` (a one-time link)."""

from __future__ import annotations

import typer

from bot.cli.app import app, console, emit_json, handle_errors
from bot.settings import get_settings

web_app = typer.Typer(
    help="The moderators' review desk: serve it, make login links.",
    invoke_without_command=True,
)
app.add_typer(web_app, name="web")


@web_app.callback()
@handle_errors
def web_cmd(
    ctx: typer.Context,
    port: int | None = typer.Option(None, "--port", help="Port (default FANQA_WEB_PORT, 8080)."),
) -> None:
    """The moderators' review desk: serve it, make login links."""
    if ctx.invoked_subcommand is not None:
        return
    import logging

    from bot.runtime import open_engine
    from bot.web.server import build_server

    settings = get_settings()
    logging.getLogger().setLevel(settings.log_level.upper())
    server = build_server(settings, open_engine(settings), port=port)
    url = settings.desk_url if port is None else f"http://{settings.web_host}:{port}"
    console.print(f"review desk on {url} (Ctrl-C stops it)", highlight=False)
    server.run()


@web_app.command("login-link")
@handle_errors
def login_link_cmd(
    member: str = typer.Option(
        ...,
        "--member",
        help="Member id (`fanqa members list`), platform user id, PLATFORM:USER_ID or @name.",
    ),
    community: str = typer.Option(..., "--community", "-c"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print a login link for a moderator: valid 10 minutes, usable once."""
    from bot.core.desk import desk_link_for
    from bot.runtime import open_engine
    from storage.db import session_scope

    settings = get_settings()
    with session_scope(open_engine(settings)) as session:
        link = desk_link_for(session, community, member, base_url=settings.desk_url)
    if as_json:
        emit_json({"url": link.url, "expires_at": link.expires_at, "member_id": link.member_id})
    else:
        console.print(link.url, highlight=False, soft_wrap=True)
        console.print(f"[dim]valid until {link.expires_at:%H:%M} UTC, once[/]")
