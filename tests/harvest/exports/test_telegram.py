"""Telegram Desktop export reader: single chats, forum topics, full-account exports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harvest.exports import ExportChatInfo, iter_messages, read_telegram_export
from harvest.exports import telegram as telegram_module
from harvest.model import ChatMessage


def _by_id(path: Path) -> dict[str, ChatMessage]:
    return {m.message_id: m for m in iter_messages(read_telegram_export(path))}


def test_single_chat_info_comes_first(telegram_dir: Path) -> None:
    """The chat's info is yielded before its messages, with the export's id as chat id."""
    items = list(read_telegram_export(telegram_dir / "single_chat.json"))
    expected = ExportChatInfo(
        platform="telegram",
        chat_id="1588123456",
        title="基金定投交流群 / Fund DCA club",
        kind="private_supergroup",
        source=str(telegram_dir / "single_chat.json"),
    )
    assert items[0] == expected
    assert [type(i).__name__ for i in items[1:]] == ["ChatMessage"] * 7


def test_plain_message_fields(telegram_dir: Path) -> None:
    """from_id user123 becomes author 123; date_unixtime is read as UTC."""
    message = _by_id(telegram_dir / "single_chat.json")["2"]
    expected = ChatMessage(
        platform="telegram",
        chat_id="1588123456",
        message_id="2",
        author_id="1001",
        author_name="Alice",
        text="沪深300现在适合定投吗？",
        sent_at=datetime(2024, 3, 1, 9, 1, tzinfo=UTC),
    )
    assert message == expected


def test_entity_list_text_is_concatenated_and_edit_kept(telegram_dir: Path) -> None:
    """A text made of strings and link entities reads as one string; the edit time is kept."""
    message = _by_id(telegram_dir / "single_chat.json")["3"]
    assert (message.text, message.reply_to_id, message.edited_at) == (
        "长期定投没问题，详见 https://example.com/dca 。",
        "2",
        datetime(2024, 3, 1, 9, 4, tzinfo=UTC),
    )


def test_service_sticker_bot_and_cross_chat_reply(telegram_dir: Path) -> None:
    """Service messages, media, via_bot and replies into another chat are told apart."""
    messages = _by_id(telegram_dir / "single_chat.json")
    actual = {
        key: (m.is_service, m.has_media, m.is_bot, m.reply_to_id) for key, m in messages.items()
    }
    assert actual == {
        "1": (True, False, False, None),
        "2": (False, False, False, None),
        "3": (False, False, False, "2"),
        "4": (False, True, False, None),
        "5": (False, False, True, None),
        "6": (False, False, False, None),
        "7": (False, True, False, None),
    }


def test_date_without_unixtime_is_read_as_utc(telegram_dir: Path) -> None:
    """Old exports only have the local ``date``; it is taken as UTC."""
    message = _by_id(telegram_dir / "single_chat.json")["7"]
    assert (message.sent_at, message.text, message.author_id) == (
        datetime(2024, 3, 1, 9, 8, tzinfo=UTC),
        "@Alice see the chart",
        "channel1588123456",
    )


def test_forum_topic_roots_and_inherited_threads(telegram_dir: Path) -> None:
    """Replies to topic_created are topic roots; replies in the topic inherit its thread."""
    messages = _by_id(telegram_dir / "forum.json")
    actual = {key: (m.thread_id, m.reply_to_id, m.is_topic_root) for key, m in messages.items()}
    assert actual == {
        "10": (None, None, False),
        "11": (None, None, False),
        "12": ("11", None, True),
        "13": ("11", "12", False),
        "14": ("11", "13", False),
        "15": (None, "10", False),
    }
    assert messages["11"].text == "赎回问题 / Redemptions"


def test_thread_memory_is_bounded(telegram_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a tiny memory the oldest topic members are forgotten, the newest kept."""
    monkeypatch.setattr(telegram_module, "THREAD_MEMORY", 1)
    state = telegram_module._ChatState("1")
    for message_id in (1, 2, 3):
        state.remember(message_id, 99)
    assert state.threads == {3: 99}


def test_full_account_export_streams_every_chat(telegram_dir: Path) -> None:
    """chats.list and left_chats.list chats each come with their info, in file order."""
    items = list(read_telegram_export(telegram_dir / "account.json"))
    actual = [
        ("info", i.chat_id, i.title) if isinstance(i, ExportChatInfo) else (i.chat_id, i.text)
        for i in items
    ]
    assert actual == [
        ("info", "1002", "Bob"),
        ("1002", "Is a bond fund safe?"),
        ("1002", "Safer than stocks, not risk-free."),
        ("info", "1588123456", "Fund DCA club"),
        ("1588123456", "hello group"),
        ("info", "4242", "Empty chat"),
        ("info", "1500000000", "Old fund channel"),
        ("1500000000", "Channel post"),
    ]


def test_export_folder_reads_result_json(telegram_dir: Path, tmp_path: Path) -> None:
    """A Telegram Desktop export folder is read through its result.json."""
    (tmp_path / "result.json").write_bytes((telegram_dir / "forum.json").read_bytes())
    actual = [m.message_id for m in iter_messages(read_telegram_export(tmp_path))]
    assert actual == ["10", "11", "12", "13", "14", "15"]
