"""Malformed exports raise InputError naming the file, the line and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvest.errors import InputError
from harvest.exports import _json as json_module
from harvest.exports import read_discord_export, read_export, read_telegram_export


def _error(path: Path, reader: object = read_export) -> InputError:
    with pytest.raises(InputError) as caught:
        list(reader(path))  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(
    ("name", "line", "field"),
    [
        ("missing_id.json", 14, "id"),
        ("wrong_type.json", 20, "reply_to_message_id"),
        ("bad_date.json", 9, "date"),
        ("syntax_error.json", 7, None),
        ("truncated.json", 17, None),
        ("account_bad_chat.json", 12, "id"),
    ],
)
def test_telegram_error_location(telegram_dir: Path, name: str, line: int, field: str) -> None:
    """Each broken Telegram fixture is reported at the right line and field."""
    error = _error(telegram_dir / name, read_telegram_export)
    assert (error.source, error.line, error.field) == (str(telegram_dir / name), line, field)


@pytest.mark.parametrize(
    ("name", "line", "field"),
    [("missing_author.json", 20, "author"), ("bad_timestamp.json", 15, "timestamp")],
)
def test_discord_error_location(discord_dir: Path, name: str, line: int, field: str) -> None:
    """Each broken Discord fixture is reported at the right line and field."""
    path = discord_dir / "single" / name
    error = _error(path, read_discord_export)
    assert (error.line, error.field) == (line, field)


@pytest.mark.parametrize("chunk", [16, 100])
def test_lines_found_across_read_chunks(
    telegram_dir: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Problems past the first read chunk are still located to the exact line."""
    monkeypatch.setattr(json_module, "CHUNK", chunk)
    lines = [
        _error(telegram_dir / name, read_telegram_export).line
        for name in ("missing_id.json", "wrong_type.json", "syntax_error.json", "truncated.json")
    ]
    assert lines == [14, 20, 7, 17]


def test_messages_are_readable_before_the_error(telegram_dir: Path) -> None:
    """Streaming yields the good messages that precede a broken one."""
    seen: list[str] = []
    with pytest.raises(InputError):
        for item in read_telegram_export(telegram_dir / "missing_id.json"):
            seen.append(type(item).__name__)
    assert seen == ["ExportChatInfo", "ChatMessage"]


def test_error_message_says_what_is_wrong(telegram_dir: Path) -> None:
    """The rendered error names file, line, field and problem in one line."""
    error = _error(telegram_dir / "missing_id.json")
    path = telegram_dir / "missing_id.json"
    assert str(error) == f"{path}, line 14, field 'id': message has no id"


def test_truncated_json_mentions_malformed_json(telegram_dir: Path) -> None:
    """A cut-off file says the JSON is malformed and asks whether it is complete."""
    message = _error(telegram_dir / "truncated.json").message
    assert (
        message.startswith("malformed JSON ("),
        message.endswith("is the export complete?"),
    ) == (
        True,
        True,
    )


@pytest.mark.parametrize(
    "content",
    ['["not", "an", "object"]', '{"hello": "world"}', ""],
)
def test_not_an_export(tmp_path: Path, content: str) -> None:
    """Files that are not exports are refused as InputError."""
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    assert _error(path).source == str(path)


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is an InputError, not an OSError."""
    assert _error(tmp_path / "nope.json").source == str(tmp_path / "nope.json")


def test_single_chat_without_id(tmp_path: Path) -> None:
    """A single-chat export without a chat id names the field."""
    path = tmp_path / "result.json"
    path.write_text('{\n "name": "x",\n "type": "private_group",\n "messages": []\n}\n')
    error = _error(path)
    assert (error.line, error.field) == (1, "id")


def _discord(path: Path, messages: object) -> Path:
    body = {
        "guild": {"id": "1", "name": "Fund"},
        "channel": {"id": "2", "type": "GuildTextChat", "name": "general"},
        "messages": messages,
    }
    path.write_text(json.dumps(body, indent=1), encoding="utf-8")
    return path


def test_discord_messages_not_a_list(tmp_path: Path) -> None:
    """``messages`` that is an object is named with its line, not read as no messages."""
    path = _discord(tmp_path / "c.json", {"id": "3"})
    error = _error(path, read_discord_export)
    assert (error.source, error.line, error.field) == (str(path), 11, "messages")
    assert "must be a list" in str(error)


def test_discord_reference_of_the_wrong_type(tmp_path: Path) -> None:
    """A ``reference`` that is not an object is named with its line and field."""
    message = {
        "id": "3",
        "type": "Reply",
        "timestamp": "2024-01-01T00:00:00+00:00",
        "author": {"id": "4", "name": "Ann"},
        "content": "see above",
        "reference": "5",
    }
    path = _discord(tmp_path / "c.json", [message])
    error = _error(path, read_discord_export)
    assert (error.line, error.field) == (21, "reference")


@pytest.mark.parametrize(
    ("encoding", "says"), [("gbk", "not UTF-8"), ("utf-16", "UTF-16"), ("utf-32", "UTF-32")]
)
def test_wrong_encoding_is_named(tmp_path: Path, encoding: str, says: str) -> None:
    """An export saved as GBK or UTF-16 says so instead of "is the export complete?"."""
    body = {"name": "基金群", "type": "private_group", "id": 1, "messages": []}
    path = tmp_path / "result.json"
    path.write_bytes(json.dumps(body, ensure_ascii=False).encode(encoding))
    error = _error(path)
    assert says in str(error) and "complete" not in str(error)


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 export with a byte-order mark (Windows editors add one) reads normally."""
    body = {"name": "基金群", "type": "private_group", "id": 1, "messages": []}
    path = tmp_path / "result.json"
    path.write_bytes(json.dumps(body, ensure_ascii=False).encode("utf-8-sig"))
    assert [type(item).__name__ for item in read_export(path)] == ["ExportChatInfo"]
