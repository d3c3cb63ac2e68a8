"""Streaming readers for chat exports (Telegram Desktop JSON, DiscordChatExporter JSON).

Every reader yields an :class:`ExportChatInfo` before the messages of that chat, then
:class:`~harvest.model.ChatMessage` objects, in file order, with flat memory:

    for item in read_export("result.json"):
        if isinstance(item, ExportChatInfo): ...  # create / update the chat
        else: ...                                 # a ChatMessage
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from harvest.errors import InputError
from harvest.exports._json import ExportChatInfo, read_header
from harvest.exports.discord import (
    DiscordChannel,
    read_discord_channel,
    read_discord_export,
    read_discord_folder,
)
from harvest.exports.telegram import read_telegram_export, resolve_telegram_path
from harvest.model import ChatMessage

__all__ = [
    "DiscordChannel",
    "ExportChatInfo",
    "ExportItem",
    "ExportKind",
    "iter_messages",
    "read_discord_channel",
    "read_discord_export",
    "read_discord_folder",
    "read_export",
    "read_telegram_export",
    "resolve_telegram_path",
    "sniff_export",
]

ExportItem = ExportChatInfo | ChatMessage
ExportKind = Literal["telegram", "discord"]
_STOP_KEYS = frozenset({"messages", "chats", "left_chats"})
_TELEGRAM_ACCOUNT_KEYS = frozenset({"personal_information", "chats", "left_chats"})


def _sniff_file(path: Path) -> ExportKind:
    """Tell the format of one JSON file from its preamble."""
    header, stop = read_header(path, _STOP_KEYS)
    if "guild" in header or "channel" in header:
        return "discord"
    if stop in ("chats", "left_chats") or _TELEGRAM_ACCOUNT_KEYS & header.keys():
        return "telegram"
    if stop == "messages" and ("id" in header or "type" in header):
        return "telegram"
    raise InputError("not a Telegram Desktop or DiscordChatExporter JSON export", source=str(path))


def sniff_export(path: str | Path) -> ExportKind:
    """``"telegram"`` or ``"discord"`` for an export file or folder; InputError otherwise.

    A folder is Telegram when it holds ``result.json``, Discord when its ``*.json`` files
    are DiscordChatExporter files. Only the preamble of a file is parsed.
    """
    target = Path(path)
    if target.is_dir():
        if (target / "result.json").is_file():
            return "telegram"
        files = sorted(target.glob("*.json"))
        if not files:
            raise InputError("no .json export in this folder", source=str(target))
        return _sniff_file(files[0])
    if not target.is_file():
        raise InputError("no such export file or folder", source=str(target))
    return _sniff_file(target)


def read_export(path: str | Path) -> Iterator[ExportItem]:
    """Stream any supported export: file or folder, Telegram or Discord."""
    target = Path(path)
    if sniff_export(target) == "telegram":
        return read_telegram_export(resolve_telegram_path(target))
    if target.is_dir():
        return read_discord_folder(target)
    return read_discord_export(target)


def iter_messages(items: Iterable[ExportItem]) -> Iterator[ChatMessage]:
    """Only the messages of an export stream."""
    for item in items:
        if isinstance(item, ChatMessage):
            yield item
