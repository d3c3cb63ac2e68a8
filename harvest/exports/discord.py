"""Stream DiscordChatExporter JSON exports (a channel file, or a folder with threads)."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harvest.errors import InputError
from harvest.exports._json import (
    ExportChatInfo,
    FieldProblem,
    field_error,
    first_event,
    items,
    line_of,
    new_message,
    read_header,
)
from harvest.model import ChatMessage

__all__ = [
    "DiscordChannel",
    "convert_message",
    "read_discord_channel",
    "read_discord_export",
    "read_discord_folder",
]

PLATFORM = "discord"
# Message types that carry what a person (or a bot answering a command) wrote.
_CONTENT_TYPES = frozenset(
    {"Default", "Reply", "ChatInputCommand", "ContextMenuCommand", "0", "19", "20", "23"}
)
_STARTER_TYPES = frozenset({"ThreadStarterMessage", "21"})
_STOP_KEYS = frozenset({"messages"})
_UTC_SUFFIXES = ("+00:00", "Z")

Item = ExportChatInfo | ChatMessage


@dataclass(frozen=True, slots=True)
class DiscordChannel:
    """The preamble of one DiscordChatExporter file: which channel, which parent."""

    path: Path
    channel_id: str
    kind: str
    name: str
    guild: str | None
    parent_id: str | None  # DCE's ``categoryId``: the parent channel of a thread
    parent_name: str | None

    @property
    def is_thread(self) -> bool:
        """A thread (public, private, announcement or forum post) of ``parent_id``."""
        return "Thread" in self.kind and self.parent_id is not None

    @property
    def chat_id(self) -> str:
        """Where its messages live: a thread's messages join the parent channel's chat."""
        return self.parent_id if self.is_thread and self.parent_id else self.channel_id


def _string(raw: Any, name: str, *, required: bool = True) -> str:
    """A string member (ids are strings in DCE); FieldProblem when absent or not one."""
    if type(raw) is str and raw:
        return raw
    if raw is None and not required:
        return ""
    if raw is None:
        raise FieldProblem(name, f"missing {name}")
    raise FieldProblem(name, f"{name} must be a string, got {raw!r}")


def read_discord_channel(path: str | Path) -> DiscordChannel:
    """Read only the preamble (``guild``, ``channel``) of a DiscordChatExporter file."""
    source = Path(path)
    header, stop = read_header(source, _STOP_KEYS)
    channel = header.get("channel")
    if stop != "messages" or not isinstance(channel, dict):
        raise InputError(
            "not a DiscordChatExporter export: no 'channel' and 'messages'", source=str(source)
        )
    guild = header.get("guild")
    try:
        channel_id = _string(channel.get("id"), "channel.id")
    except FieldProblem as problem:
        raise InputError(problem.message, source=str(source), field=problem.field) from problem
    parent = channel.get("categoryId")
    return DiscordChannel(
        path=source,
        channel_id=channel_id,
        kind=str(channel.get("type") or ""),
        name=str(channel.get("name") or ""),
        guild=str(guild["name"]) if isinstance(guild, dict) and guild.get("name") else None,
        parent_id=parent if isinstance(parent, str) and parent else None,
        parent_name=channel.get("category") if isinstance(channel.get("category"), str) else None,
    )


def _timestamp(raw: Any, name: str) -> datetime:
    """An ISO-8601 timestamp with offset, as UTC."""
    if type(raw) is str:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value if raw.endswith(_UTC_SUFFIXES) else value.astimezone(UTC)
    raise FieldProblem(name, f"{name} must be an ISO timestamp, got {raw!r}")


@dataclass(slots=True)
class _ThreadState:
    """How the messages of one file are tied to threads."""

    chat_id: str
    channel_id: str
    thread_id: str | None = None  # set when the file is a thread
    starters: frozenset[str] = frozenset()  # ids of this channel's messages that start threads
    seen_starters: set[str] = field(default_factory=set)
    root_pending: bool = False  # the thread's question has not been seen yet


def convert_message(raw: Any, state: _ThreadState) -> ChatMessage:
    """One DiscordChatExporter message as a ChatMessage; FieldProblem if malformed."""
    if type(raw) is not dict:
        raise FieldProblem("id", f"a message must be an object, got {type(raw).__name__}")
    msg_id = _string(raw.get("id"), "id")
    kind = raw.get("type", "Default")
    is_service = kind not in _CONTENT_TYPES
    sent_at = _timestamp(raw.get("timestamp"), "timestamp")
    edited = raw.get("timestampEdited")
    edited_at = None if edited is None else _timestamp(edited, "timestampEdited")
    author = raw.get("author")
    if type(author) is not dict:
        raise FieldProblem("author", "message has no author object")
    author_id = _string(author.get("id"), "author.id")
    author_name = author.get("nickname") or author.get("name") or ""
    roles = author.get("roles")
    role_names = (
        tuple(r["name"] for r in roles if isinstance(r, dict) and isinstance(r.get("name"), str))
        if roles
        else ()
    )
    text = raw.get("content", "")
    if type(text) is not str:
        if text is not None:
            raise FieldProblem("content", f"content must be a string, got {text!r}")
        text = ""
    reply_to_id = None
    reference = raw.get("reference")
    if reference is not None and type(reference) is not dict:
        raise FieldProblem(
            "reference", f"reference must be an object, got {type(reference).__name__}"
        )
    if reference and type(reference.get("messageId")) not in (str, type(None)):
        raise FieldProblem("reference", f"reference.messageId must be a string: {reference!r}")
    if reference and not is_service:
        target = reference.get("messageId")
        channel = reference.get("channelId")
        if target and (channel is None or channel in (state.channel_id, state.chat_id)):
            reply_to_id = str(target)
    if kind in _STARTER_TYPES and reference and type(reference) is dict:
        state.root_pending = False  # the question is the starter message in the parent
    thread_id = state.thread_id
    is_root = False
    if thread_id is None:
        if msg_id in state.starters:
            thread_id, is_root = msg_id, True
            state.seen_starters.add(msg_id)
    elif msg_id == thread_id or (state.root_pending and not is_service):
        is_root, reply_to_id = True, None
        state.root_pending = False
    return new_message(
        PLATFORM,
        state.chat_id,
        msg_id,
        author_id,
        author_name,
        text,
        sent_at,
        reply_to_id,
        thread_id,
        author.get("isBot") is True,
        is_service,
        bool(raw.get("attachments") or raw.get("stickers") or raw.get("embeds")),
        edited_at,
        role_names,
        is_root,
    )


def _info(channel: DiscordChannel) -> ExportChatInfo:
    """The ExportChatInfo announcing a file's messages."""
    if channel.is_thread:
        return ExportChatInfo(
            platform=PLATFORM,
            chat_id=channel.chat_id,
            title=channel.parent_name or "",
            kind=channel.kind,
            source=str(channel.path),
            community=channel.guild,
            thread_id=channel.channel_id,
            thread_title=channel.name,
        )
    return ExportChatInfo(
        platform=PLATFORM,
        chat_id=channel.chat_id,
        title=channel.name,
        kind=channel.kind,
        source=str(channel.path),
        community=channel.guild,
    )


def _read_channel(
    channel: DiscordChannel, starters: frozenset[str], starter_in_parent: bool
) -> Generator[Item, None, set[str]]:
    """Info, then the converted messages of one file; returns the thread starters seen."""
    state = _ThreadState(chat_id=channel.chat_id, channel_id=channel.channel_id)
    if channel.is_thread:
        state.thread_id = channel.channel_id
        state.root_pending = not starter_in_parent
    else:
        state.starters = starters
    yield _info(channel)
    opened = first_event(channel.path, "messages")
    if opened != "start_array":
        kind = {"start_map": "an object", "string": "a string", "null": "null"}.get(
            opened or "", "not a list"
        )
        raise InputError(
            f"messages must be a list, got {kind}",
            source=str(channel.path),
            line=line_of(channel.path, (), "messages"),
            field="messages",
        )
    for position, raw in enumerate(items(channel.path, "messages.item")):
        try:
            yield convert_message(raw, state)
        except FieldProblem as problem:
            raise field_error(channel.path, (("messages", position),), problem) from problem
    return state.seen_starters


def read_discord_export(path: str | Path, *, starter_in_parent: bool = False) -> Iterator[Item]:
    """Stream one DiscordChatExporter file: an ExportChatInfo, then its messages.

    A thread file's messages go to the parent channel's chat with ``thread_id`` set to the
    thread id. Its question is the message whose id equals the thread id (forum posts);
    else the first message of the thread, unless ``starter_in_parent`` (or a
    ``ThreadStarterMessage`` in the file) says the thread was started from a message of
    the parent channel, which is then the question.
    """
    channel = read_discord_channel(path)
    yield from _read_channel(channel, frozenset(), starter_in_parent)


def _natural(path: Path) -> list[Any]:
    """Sort key that puts ``part 2`` before ``part 10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def read_discord_folder(path: str | Path) -> Iterator[Item]:
    """Stream every DiscordChatExporter file of a folder, threads after their parent.

    Each parent channel is read first; a message whose id is a thread's id is marked as
    that thread's question (``is_topic_root``, ``thread_id`` = its id), then the thread
    files follow with ``chat_id`` = the parent channel, so question and answers share a
    chat. A thread whose starter is not in the folder takes its first message as question.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InputError("not a folder of DiscordChatExporter files", source=str(folder))
    channels = [read_discord_channel(p) for p in sorted(folder.glob("*.json"), key=_natural)]
    if not channels:
        raise InputError("no .json files in this folder", source=str(folder))
    parents: dict[str, list[DiscordChannel]] = {}  # DCE --partition: several parts each
    threads: dict[str, dict[str, list[DiscordChannel]]] = {}
    for channel in channels:
        if channel.is_thread:
            by_parent = threads.setdefault(channel.chat_id, {})
            by_parent.setdefault(channel.channel_id, []).append(channel)
        else:
            parents.setdefault(channel.channel_id, []).append(channel)
    for parent_id, parts in parents.items():
        children = threads.pop(parent_id, {})
        starters = frozenset(children)
        seen: set[str] = set()
        for part in parts:
            seen |= yield from _read_channel(part, starters, False)
        yield from _read_threads(children, seen)
    for orphans in threads.values():  # threads whose parent channel was not exported
        yield from _read_threads(orphans, set())


def _read_threads(threads: dict[str, list[DiscordChannel]], seen: set[str]) -> Iterator[Item]:
    """The thread files of one parent, oldest thread first (snowflake order)."""
    for thread_id in sorted(threads, key=lambda t: (len(t), t)):
        for number, part in enumerate(threads[thread_id]):
            yield from _read_channel(part, frozenset(), number > 0 or thread_id in seen)
