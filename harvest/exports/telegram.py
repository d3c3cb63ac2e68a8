"""Stream Telegram Desktop JSON exports (one chat or a whole account) as ChatMessages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import ijson

from harvest.errors import InputError
from harvest.exports._json import (
    BACKEND,
    CHUNK,
    ExportChatInfo,
    FieldProblem,
    field_error,
    json_error,
    new_message,
    open_binary,
    read_header,
)
from harvest.exports._json import items as stream_items
from harvest.model import ChatMessage

__all__ = ["convert_message", "read_telegram_export", "resolve_telegram_path"]

PLATFORM = "telegram"
_STOP_KEYS = frozenset({"messages", "chats", "left_chats"})
_ACCOUNT_LISTS = ("chats", "left_chats")
_MEDIA_KEYS = frozenset(
    {
        "photo",
        "file",
        "media_type",
        "sticker_emoji",
        "poll",
        "location_information",
        "contact_information",
    }
)
# How many message → forum topic links one chat remembers; a reply to a message older
# than that still keeps its reply_to_id but loses the thread (the oldest half is dropped).
THREAD_MEMORY = 200_000

Item = ExportChatInfo | ChatMessage


def resolve_telegram_path(path: str | Path) -> Path:
    """The JSON file of an export: the file itself, or ``result.json`` in its folder."""
    target = Path(path)
    if target.is_dir():
        target = target / "result.json"
    if not target.is_file():
        raise InputError("no Telegram export here (expected result.json)", source=str(path))
    return target


@dataclass(slots=True)
class _ChatState:
    """What one chat's conversion remembers: forum topics and message → topic."""

    chat_id: str
    topics: set[int] = field(default_factory=set)
    threads: dict[int, int] = field(default_factory=dict)

    def remember(self, message_id: int, topic: int) -> None:
        """Record a message's topic, forgetting the oldest half when memory is full."""
        threads = self.threads
        threads[message_id] = topic
        if len(threads) > THREAD_MEMORY:
            self.threads = dict(islice(threads.items(), len(threads) // 2, None))


def _unix(raw: Any, name: str) -> datetime:
    """A ``*_unixtime`` value (Telegram writes a string of digits) as UTC."""
    if isinstance(raw, str) and raw.isdigit():
        return datetime.fromtimestamp(int(raw), UTC)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw, UTC)
    raise FieldProblem(name, f"{name} must be a Unix timestamp, got {raw!r}")


def _iso(raw: Any, name: str) -> datetime:
    """A ``date``-style local timestamp without zone; read as UTC."""
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    raise FieldProblem(name, f"{name} must be a date like 2024-01-31T18:00:00, got {raw!r}")


def _text(raw: Any) -> str:
    """``text``: a string, or a list of strings and entity objects with a ``text``."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        parts: list[str] = []
        for part in raw:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text", ""), str):
                parts.append(part.get("text", ""))
            else:
                raise FieldProblem("text", f"text entity must be a string or object: {part!r}")
        return "".join(parts)
    if raw is None:
        return ""
    raise FieldProblem("text", f"text must be a string or a list, got {type(raw).__name__}")


def _author_id(raw: Any, name: str) -> str:
    """``from_id`` ``user123`` → ``123`` (the id the Bot API uses); others verbatim."""
    if isinstance(raw, str):
        return raw[4:] if raw.startswith("user") else raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if raw is None:
        return ""
    raise FieldProblem(name, f"{name} must be a string like 'user123', got {raw!r}")


def convert_message(raw: Any, chat: _ChatState) -> ChatMessage:
    """One Telegram export message as a ChatMessage; FieldProblem if it is malformed.

    The hot loop of an import: common shapes take inline fast paths, anything unusual
    goes through the checking helpers above.
    """
    if type(raw) is not dict:
        raise FieldProblem("id", f"a message must be an object, got {type(raw).__name__}")
    msg_id = raw.get("id")
    if type(msg_id) is not int:
        if msg_id is None:
            raise FieldProblem("id", "message has no id")
        raise FieldProblem("id", f"message id must be an integer, got {msg_id!r}")
    unix = raw.get("date_unixtime")
    if type(unix) is str and unix.isdigit():
        sent_at = datetime.fromtimestamp(int(unix), UTC)
    elif unix is not None:
        sent_at = _unix(unix, "date_unixtime")
    elif "date" in raw:
        sent_at = _iso(raw["date"], "date")
    else:
        raise FieldProblem("date", f"message {msg_id} has no date")
    is_service = raw.get("type") == "service"
    if is_service:
        author_id = _author_id(raw.get("actor_id"), "actor_id")
        author_name = raw.get("actor") or ""
        if raw.get("action") == "topic_created":
            chat.topics.add(msg_id)
    else:
        from_id = raw.get("from_id")
        if type(from_id) is str and from_id.startswith("user"):
            author_id = from_id[4:]
        else:
            author_id = _author_id(from_id, "from_id")
        author_name = raw.get("from") or ""
    if type(author_name) is not str:
        raise FieldProblem("from", f"author name must be a string, got {author_name!r}")
    text = raw.get("text", "")
    if type(text) is not str:
        text = _text(text)
    if is_service and not text and type(raw.get("title")) is str:
        text = raw["title"]
    reply_to_id: str | None = None
    thread: int | None = None
    is_root = False
    target = raw.get("reply_to_message_id")
    if target is not None and "reply_to_peer_id" not in raw:
        if type(target) is not int:
            raise FieldProblem("reply_to_message_id", f"must be an integer, got {target!r}")
        if target in chat.topics:
            thread, is_root = target, True
        else:
            reply_to_id = str(target)
            thread = chat.threads.get(target)
        if thread is not None:
            chat.remember(msg_id, thread)
    edited_at: datetime | None = None
    if "edited_unixtime" in raw:
        edited_at = _unix(raw["edited_unixtime"], "edited_unixtime")
    elif "edited" in raw:
        edited_at = _iso(raw["edited"], "edited")
    return new_message(
        PLATFORM,
        chat.chat_id,
        str(msg_id),
        author_id,
        author_name,
        text,
        sent_at,
        reply_to_id,
        None if thread is None else str(thread),
        "via_bot" in raw,
        is_service,
        not _MEDIA_KEYS.isdisjoint(raw),
        edited_at,
        (),
        is_root,
    )


def _chat_info(raw: dict[str, Any], source: Path) -> ExportChatInfo:
    """The ExportChatInfo of a chat object's preamble (``name``, ``type``, ``id``)."""
    chat_id = raw.get("id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int | str) or chat_id == "":
        raise FieldProblem("id", f"chat id must be a number, got {chat_id!r}")
    title = raw.get("name")
    kind = raw.get("type", "")
    return ExportChatInfo(
        platform=PLATFORM,
        chat_id=str(chat_id),
        title=title if isinstance(title, str) else "",
        kind=kind if isinstance(kind, str) else "",
        source=str(source),
    )


@dataclass(slots=True)
class _Plan:
    """A chat of a full-account export: its preamble and how many messages it has."""

    raw: dict[str, Any]
    count: int = 0


class _AccountScan:
    """First pass over a full-account export: chat preambles and message counts.

    The C parser builds the document in place; a file wrapper empties the growing
    ``messages`` lists every time the parser asks for bytes, so memory stays flat.
    """

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.root: dict[str, Any] | None = None
        self.plans: dict[str, list[_Plan]] = {key: [] for key in _ACCOUNT_LISTS}
        self.current: dict[str, dict[str, Any] | None] = dict.fromkeys(_ACCOUNT_LISTS)
        self.order: list[str] = []
        self.where: tuple[str, int] = ("chats", 0)  # the chat being looked at

    def new_map(self) -> dict[str, Any]:
        """map_type for the parser: the first map it creates is the document root."""
        made: dict[str, Any] = {}
        if self.root is None:
            self.root = made
        return made

    def read(self, size: int) -> bytes:
        """File protocol for ijson: drain what was parsed so far, then read on."""
        self.drain()
        data: bytes = self.handle.read(size)
        return data

    def drain(self, final: bool = False) -> None:
        """Count and drop parsed messages; close chats that another chat follows."""
        root = self.root
        if root is None:
            return
        for key in root:
            section = root[key]
            if key not in self.plans or not isinstance(section, dict):
                continue
            chats = section.get("list")
            if not isinstance(chats, list):
                continue
            if key not in self.order:
                self.order.append(key)
            plans = self.plans[key]
            while chats:
                chat = chats[0]
                if chat is not self.current[key]:  # the parser has started a new chat
                    self.where = (key, len(plans))
                    if not isinstance(chat, dict):
                        raise FieldProblem("list", "each chat must be an object")
                    self.current[key] = chat
                    plans.append(_Plan(chat))
                self.where = (key, len(plans) - 1)
                plan = plans[-1]
                messages = chat.get("messages")
                if isinstance(messages, list):
                    plan.count += len(messages)
                    del messages[:]
                elif messages is not None:
                    raise FieldProblem("messages", "messages must be a list")
                if len(chats) == 1 and not final:
                    break
                plan.raw = {k: chat[k] for k in ("name", "type", "id") if k in chat}
                del chats[0]  # complete: keep only its preamble


def _scan_account(source: Path) -> _AccountScan:
    """Run the first pass; InputError with a line on malformed JSON or a bad chat."""
    with open_binary(source) as handle:
        scan = _AccountScan(handle)
        try:
            for _root in BACKEND.items(scan, "", map_type=scan.new_map, buf_size=CHUNK):
                scan.drain(final=True)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise json_error(source, exc) from exc
        except FieldProblem as problem:
            key, index = scan.where
            raise field_error(source, ((f"{key}.list", index),), problem) from problem
    return scan


def _stream_chat_messages(
    source: Path, list_prefix: str | None, chats: list[tuple[ExportChatInfo, int | None]]
) -> Iterator[Item]:
    """Messages of ``chats`` in order, each chat's after its info; None: all that remain.

    ``list_prefix`` is the chat list of a full-account export (``chats.list``), or None
    for a single-chat export whose ``messages`` sit at the top level.
    """
    prefix = f"{list_prefix}.item.messages.item" if list_prefix else "messages.item"
    stream = stream_items(source, prefix)
    for chat_index, (info, count) in enumerate(chats):
        yield info
        state = _ChatState(info.chat_id)
        for position, raw in enumerate(islice(stream, count)):
            try:
                yield convert_message(raw, state)
            except FieldProblem as problem:
                where: tuple[tuple[str, int], ...] = (("messages", position),)
                if list_prefix:
                    where = (
                        (list_prefix, chat_index),
                        (f"{list_prefix}.item.messages", position),
                    )
                raise field_error(source, where, problem) from problem


def _read_account(source: Path) -> Iterator[Item]:
    """A full-account export: every chat of ``chats.list`` and ``left_chats.list``."""
    scan = _scan_account(source)
    for key in scan.order:
        chats: list[tuple[ExportChatInfo, int | None]] = []
        for index, plan in enumerate(scan.plans[key]):
            try:
                chats.append((_chat_info(plan.raw, source), plan.count))
            except FieldProblem as problem:
                raise field_error(source, ((f"{key}.list", index),), problem) from problem
        yield from _stream_chat_messages(source, f"{key}.list", chats)


def read_telegram_export(path: str | Path) -> Iterator[Item]:
    """Stream a Telegram Desktop export: an ExportChatInfo, then that chat's messages.

    ``path`` is ``result.json`` or the export folder holding it; both a single-chat
    export (``name``/``type``/``id``/``messages``) and a full-account export
    (``chats.list``, ``left_chats.list``) are read. Bad input raises InputError with the
    file, line and field.
    """
    source = resolve_telegram_path(path)
    header, stop = read_header(source, _STOP_KEYS)
    if stop == "messages":
        if "id" not in header:
            raise InputError("chat has no id", source=str(source), line=1, field="id")
        try:
            info = _chat_info(header, source)
        except FieldProblem as problem:
            raise field_error(source, (), problem) from problem
        yield from _stream_chat_messages(source, None, [(info, None)])
    elif stop in _ACCOUNT_LISTS:
        yield from _read_account(source)
    else:
        raise InputError(
            "not a Telegram export: no 'messages' or 'chats' member", source=str(source)
        )
