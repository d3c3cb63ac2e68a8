"""Format sniffing and the format-agnostic read_export."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvest.errors import InputError
from harvest.exports import iter_messages, read_export, sniff_export


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("telegram/single_chat.json", "telegram"),
        ("telegram/account.json", "telegram"),
        ("discord/folder", "discord"),
        ("discord/single/forum-post.json", "discord"),
    ],
)
def test_sniff(telegram_dir: Path, relative: str, expected: str) -> None:
    """Files and folders of both formats are recognised from their preamble."""
    assert sniff_export(telegram_dir.parent / relative) == expected


def test_sniff_telegram_folder(telegram_dir: Path, tmp_path: Path) -> None:
    """A folder holding result.json is a Telegram export."""
    (tmp_path / "result.json").write_bytes((telegram_dir / "single_chat.json").read_bytes())
    assert sniff_export(tmp_path) == "telegram"


def test_sniff_rejects_other_json(tmp_path: Path) -> None:
    """JSON that is neither format is an InputError."""
    path = tmp_path / "other.json"
    path.write_text('{"users": [], "messages": []}')
    with pytest.raises(InputError):
        sniff_export(path)


def test_read_export_dispatches(telegram_dir: Path, discord_dir: Path) -> None:
    """read_export reads either format to the same neutral messages."""
    platforms = {
        m.platform
        for path in (telegram_dir / "forum.json", discord_dir / "folder")
        for m in iter_messages(read_export(path))
    }
    assert platforms == {"telegram", "discord"}
