"""``fanqa import telegram|discord PATH --community NAME``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import harvest
from bot.cli.app import app, console, emit_json, handle_errors
from bot.import_mode import choose_reader, export_bytes, machine
from bot.importer import import_export
from bot.runtime import open_engine
from bot.settings import get_settings
from harvest.pairing import PairingConfig

import_app = typer.Typer(help="Import a chat export (streamed; re-importing adds nothing).")
app.add_typer(import_app, name="import")


def _run(
    kind: Literal["telegram", "discord"],
    path: Path,
    community: str,
    as_json: bool,
    implicit: bool,
    requested: bool | None,
) -> None:
    engine = open_engine()
    pairing = PairingConfig(implicit=implicit)
    limit = get_settings().max_message_bytes
    choice = choose_reader(requested, export_bytes(path), machine)
    parallel = choice.parallel
    if as_json:
        summary = import_export(
            engine,
            path,
            community=community,
            kind=kind,
            pairing=pairing,
            max_message_bytes=limit,
            reader_process=parallel,
        )
        emit_json(
            dataclasses.asdict(summary)
            | {"engine": _engine(), "parallel": {"used": parallel, "why": choice.why}}
        )
        return
    # With --parallel the reader is forked: no progress thread may be running at that moment
    # (a lock it held would stay held in the child), so the bar is redrawn by each update.
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]importing[/] {task.fields[name]}: {task.completed:,} messages"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=not parallel,
    ) as progress:
        task = progress.add_task("import", total=None, name=path.name)
        summary = import_export(
            engine,
            path,
            community=community,
            kind=kind,
            pairing=pairing,
            progress=lambda n: progress.update(task, completed=n, refresh=parallel),
            max_message_bytes=limit,
            reader_process=parallel,
        )
    table = Table(title=f"Imported {path} into {community!r}", show_header=False)
    for label, value in [
        ("chats", summary.chats),
        ("messages read", summary.messages_read),
        ("messages added", summary.messages_added),
        ("duplicates skipped", summary.duplicates_skipped),
        ("messages truncated", summary.messages_truncated),
        ("pairs found", summary.pairs_found),
        ("pairs added (pending review)", summary.pairs_added),
        ("pairs already known", summary.pairs_duplicate),
        ("pairs approved by the classifier", summary.pairs_auto_approved),
        ("seconds", f"{summary.seconds:.2f}"),
        ("engine", _engine()),
        ("paired in a second process", f"{'yes' if parallel else 'no'}; {choice.why}"),
    ]:
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


def _engine() -> str:
    """Which harvest engine ran: compiled (``make install``) or from its sources."""
    return "compiled" if harvest.NATIVE else "sources"


_COMMUNITY = typer.Option(..., "--community", "-c", help="Community the chats belong to.")
_JSON = typer.Option(False, "--json", help="Print the summary as JSON.")
_IMPLICIT = typer.Option(
    True,
    "--implicit/--no-implicit",
    help="Link answers sent without the reply button (how: the community's reply_linking).",
)
_PARALLEL = typer.Option(
    None,
    "--parallel/--no-parallel",
    help="Pair in a second process that reads the export too, while this one reads and "
    "writes: about 1.4x faster with a free CPU core (it uses two), slower without one. "
    "Unset: automatic, for an export of 8 MiB or more when two CPU cores are idle.",
    show_default=False,
)


@import_app.command("telegram")
@handle_errors
def import_telegram(
    path: Path = typer.Argument(
        ..., help="result.json of a Telegram Desktop export, or its folder."
    ),
    community: str = _COMMUNITY,
    as_json: bool = _JSON,
    implicit: bool = _IMPLICIT,
    parallel: bool | None = _PARALLEL,
) -> None:
    """Import a Telegram Desktop JSON export (one chat or a whole account)."""
    _run("telegram", path, community, as_json, implicit, parallel)


@import_app.command("discord")
@handle_errors
def import_discord(
    path: Path = typer.Argument(..., help="A DiscordChatExporter JSON file or a folder of them."),
    community: str = _COMMUNITY,
    as_json: bool = _JSON,
    implicit: bool = _IMPLICIT,
    parallel: bool | None = _PARALLEL,
) -> None:
    """Import DiscordChatExporter JSON (threads exported with --include-threads too)."""
    _run("discord", path, community, as_json, implicit, parallel)
