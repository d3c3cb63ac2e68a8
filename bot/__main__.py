"""``python -m bot`` runs the fanqa CLI."""

from bot.cli import main

main()
