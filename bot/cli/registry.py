"""The root ``fanqa`` application and which module defines each of its commands: a command's
module is imported only when that command runs (it registers itself on :data:`app`)."""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["COMMANDS", "Entry", "LazyGroup", "app"]


class Entry(NamedTuple):
    """A top-level command: the module that registers it and its one-line help."""

    module: str
    help: str


# Name → module. The module registers the command on :data:`app` when imported;
# ``tests/cli/test_startup.py`` checks every help line here against the real command's.
COMMANDS: dict[str, Entry] = {
    "import": Entry(
        "bot.cli.import_cmd", "Import a chat export (streamed; re-importing adds nothing)."
    ),
    "pairs": Entry("bot.cli.pairs_cmd", "List and review harvested question → answer pairs."),
    "learner": Entry(
        "bot.cli.learner_cmd", "The pair classifier each community learns from its moderators."
    ),
    "community": Entry("bot.cli.community_cmd", "Create communities and change their settings."),
    "members": Entry("bot.cli.community_cmd", "Give members the moderator or expert role."),
    "chat": Entry(
        "bot.cli.chat_cmd",
        "Chat with the bot from stdin: messages, >ID replies, +ID ✅ reactions, /commands.",
    ),
    "ask": Entry(
        "bot.cli.ask_cmd",
        "Answer a question with the live model (or retrieval before the first model).",
    ),
    "train": Entry(
        "bot.cli.train_cmd",
        "Queue a training round on the approved pairs; with --wait claim it, run it, gate it.",
    ),
    "runs": Entry("bot.cli.train_cmd", "Follow, inspect and cancel training runs."),
    "models": Entry(
        "bot.cli.models_cmd", "Trained model versions: list, inspect, promote, roll back."
    ),
    "model": Entry("bot.cli.models_cmd", "Make base models."),
    "data": Entry("bot.cli.data_cmd", "Export approved pairs and check fine-tuning JSONL files."),
    "run": Entry(
        "bot.cli.run_cmd",
        "Run every configured bot (Telegram, Discord) with the scheduler until SIGINT/SIGTERM.",
    ),
    "worker": Entry(
        "bot.cli.worker_cmd",
        "Execute queued runs until SIGINT/SIGTERM; moderators hear about them via `fanqa run`.",
    ),
    "web": Entry("bot.cli.web_cmd", "The moderators' review desk: serve it, make login links."),
}


def load_command(name: str) -> Any:
    """Import the module behind ``name`` and build the click command it registered."""
    import typer.main

    entry = COMMANDS.get(name)
    if entry is None:
        return None
    importlib.import_module(entry.module)
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group.commands.get(name)


class LazyGroup(TyperGroup):
    """The root group: lists commands from ``COMMANDS`` and imports one only to run it."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS) + [n for n in self.commands if n not in COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if self._listing:  # the root --help only needs the name and the help line
            return TyperCommand(cmd_name, help=entry.help, short_help=entry.help)
        command = load_command(cmd_name)
        if command is not None:
            self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="fanqa",
    cls=LazyGroup,
    help="fanqa: a chat bot that learns from your community's own Q&A.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
