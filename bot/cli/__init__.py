"""The ``fanqa`` command line (typer + rich); every command has ``--json`` for scripts.

Commands are imported lazily: ``bot.cli.registry.COMMANDS`` names the module behind each one,
so ``fanqa --help`` and any one command load only what they use.
"""

from __future__ import annotations

from bot.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
