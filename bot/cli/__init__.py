"""The ``fanqa`` command line (typer + rich); every command has ``--json`` for scripts."""

from __future__ import annotations

import importlib

from bot.cli.app import app

__all__ = ["app", "main"]

# Each module registers its commands on ``app`` when imported.
_MODULES = (
    "bot.cli.import_cmd",
    "bot.cli.pairs_cmd",
    "bot.cli.data_cmd",
    "bot.cli.community_cmd",
    "bot.cli.chat_cmd",
    "bot.cli.train_cmd",
    "bot.cli.models_cmd",
    "bot.cli.ask_cmd",
    "bot.cli.run_cmd",
    "bot.cli.worker_cmd",
)

for _name in _MODULES:
    importlib.import_module(_name)


def main() -> None:
    """Console-script entry point."""
    app()
