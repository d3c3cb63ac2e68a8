"""Paths of the hand-written export fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def telegram_dir() -> Path:
    """Folder of Telegram Desktop fixtures."""
    return FIXTURES / "telegram"


@pytest.fixture
def discord_dir() -> Path:
    """Folder of DiscordChatExporter fixtures."""
    return FIXTURES / "discord"
