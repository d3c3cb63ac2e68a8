"""DiscordChatExporter reader: channels, threads tied to their parent, replies, bots."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harvest.exports import (
    ExportChatInfo,
    iter_messages,
    read_discord_channel,
    read_discord_export,
    read_discord_folder,
)

GENERAL = "1100000000000000001"


def _summary(items: list[Any]) -> list[tuple[Any, ...]]:
    return [
        ("info", i.chat_id, i.thread_id, i.title)
        if isinstance(i, ExportChatInfo)
        else (i.chat_id, i.message_id[-3:], i.thread_id and i.thread_id[-3:], i.is_topic_root)
        for i in items
    ]


def test_folder_ties_threads_to_parent(discord_dir: Path) -> None:
    """Thread files follow their parent; starters are roots; thread messages share its chat."""
    items = list(read_discord_folder(discord_dir / "folder"))
    assert _summary(items) == [
        ("info", GENERAL, None, "general"),
        (GENERAL, "040", None, False),
        (GENERAL, "041", None, False),
        (GENERAL, "045", None, False),
        (GENERAL, "050", "050", True),
        (GENERAL, "055", None, False),
        (GENERAL, "070", None, False),
        ("info", GENERAL, "1100000000000000050", "general"),
        (GENERAL, "051", "050", False),
        (GENERAL, "052", "050", False),
        ("info", GENERAL, "1100000000000000060", "general"),
        (GENERAL, "061", "060", True),
        (GENERAL, "062", "060", False),
    ]


def test_message_fields(discord_dir: Path) -> None:
    """Nickname, roles, edit time, UTC conversion and reply of one message."""
    messages = {
        m.message_id[-3:]: m for m in iter_messages(read_discord_folder(discord_dir / "folder"))
    }
    answer = messages["041"]
    assert (
        answer.author_name,
        answer.author_roles,
        answer.reply_to_id,
        answer.edited_at,
        messages["040"].sent_at,
    ) == (
        "Grace (mod)",
        ("Moderator", "Expert"),
        "1100000000000000040",
        datetime(2024, 3, 5, 10, 5, tzinfo=UTC),
        datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
    )


def test_kinds_media_bots_and_foreign_replies(discord_dir: Path) -> None:
    """Service types, attachments/embeds, bot authors; a reply into another channel is dropped."""
    messages = {
        m.message_id[-3:]: m for m in iter_messages(read_discord_folder(discord_dir / "folder"))
    }
    actual = {
        k: (m.is_service, m.has_media, m.is_bot, m.reply_to_id is not None)
        for k, m in messages.items()
        if k in {"045", "055", "070"}
    }
    assert actual == {
        "045": (False, True, False, False),
        "055": (True, False, False, False),
        "070": (False, True, True, False),
    }


def test_forum_post_file_alone(discord_dir: Path) -> None:
    """A forum post read alone: its starter (id = thread id) is the root, chat = the forum."""
    items = list(read_discord_export(discord_dir / "single" / "forum-post.json"))
    assert _summary(items) == [
        ("info", "1200000000000000000", "1200000000000000100", "help-forum"),
        ("1200000000000000000", "100", "100", True),
        ("1200000000000000000", "101", "100", False),
    ]


def test_thread_file_alone_with_starter_in_parent(discord_dir: Path) -> None:
    """Told that the starter is in the parent, a thread file marks no root of its own."""
    path = next((discord_dir / "folder").glob("*QDII*"))
    items = list(read_discord_export(path, starter_in_parent=True))
    assert [m.is_topic_root for m in iter_messages(items)] == [False, False]


def test_channel_preamble(discord_dir: Path) -> None:
    """Only the preamble is read to learn a file's channel and parent."""
    path = next((discord_dir / "folder").glob("*fees chat*"))
    channel = read_discord_channel(path)
    assert (channel.channel_id, channel.is_thread, channel.chat_id, channel.guild) == (
        "1100000000000000060",
        True,
        GENERAL,
        "Fund DCA club",
    )


def _dce(channel: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    return json.dumps({"guild": {"id": "1", "name": "G"}, "channel": channel, "messages": messages})


def _msg(msg_id: str, text: str) -> dict[str, Any]:
    return {
        "id": msg_id,
        "type": "Default",
        "timestamp": "2024-03-05T10:00:00+00:00",
        "content": text,
        "author": {"id": "9", "name": "ann", "isBot": False},
    }


def test_partitioned_parent_finds_starter_in_later_part(tmp_path: Path) -> None:
    """With --partition, a starter in part 2 still keeps the thread's first reply a non-root."""
    text_channel = {"id": "500", "type": "GuildTextChat", "name": "general"}
    thread = {"id": "520", "type": "GuildPublicThread", "categoryId": "500", "name": "q"}
    (tmp_path / "general [part 1].json").write_text(_dce(text_channel, [_msg("510", "hi")]))
    (tmp_path / "general [part 2].json").write_text(_dce(text_channel, [_msg("520", "Q?")]))
    (tmp_path / "thread.json").write_text(_dce(thread, [_msg("521", "A.")]))
    actual = [
        (m.message_id, m.chat_id, m.thread_id, m.is_topic_root)
        for m in iter_messages(read_discord_folder(tmp_path))
    ]
    assert actual == [
        ("510", "500", None, False),
        ("520", "500", "520", True),
        ("521", "500", "520", False),
    ]


def test_thread_starter_message_means_question_is_in_parent(tmp_path: Path) -> None:
    """A ThreadStarterMessage in a thread file says the question is the parent's message."""
    thread = {"id": "620", "type": "GuildPublicThread", "categoryId": "600", "name": "q"}
    starter = {**_msg("621", ""), "type": "ThreadStarterMessage"}
    starter["reference"] = {"messageId": "620", "channelId": "600", "guildId": "1"}
    path = tmp_path / "thread.json"
    path.write_text(_dce(thread, [starter, _msg("622", "the answer")]))
    actual = [
        (m.message_id, m.is_service, m.is_topic_root, m.reply_to_id)
        for m in iter_messages(read_discord_export(path))
    ]
    assert actual == [("621", True, False, None), ("622", False, False, None)]
