"""Streaming JSON plumbing shared by the export readers: backend, header, error lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from harvest.errors import InputError
from harvest.exports._lines import BACKEND, CHUNK, line_of
from harvest.exports._lines import JSON_ERRORS as _JSON_ERRORS
from harvest.exports.encoding import encoding_problem
from harvest.model import ChatMessage

__all__ = [
    "BACKEND",
    "CHUNK",
    "ExportChatInfo",
    "FieldProblem",
    "encoding_problem",
    "field_error",
    "first_event",
    "items",
    "json_error",
    "line_of",
    "new_message",
    "open_binary",
    "read_header",
]


@dataclass(frozen=True, slots=True)
class ExportChatInfo:
    """A chat (or a Discord thread of one) whose messages follow in an export stream.

    Delivered before the chat's first message, so an importer can create the chat row
    while streaming. ``chat_id`` matches the ``chat_id`` of the messages that follow.
    """

    platform: str
    chat_id: str
    title: str
    kind: str
    source: str
    community: str | None = None  # Discord guild name
    thread_id: str | None = None  # set when the messages that follow are one thread's
    thread_title: str | None = None


class FieldProblem(Exception):
    """Raised by a converter: one field of one element is missing or has the wrong type."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_FIELD_ORDER = (
    "platform",
    "chat_id",
    "message_id",
    "author_id",
    "author_name",
    "text",
    "sent_at",
    "reply_to_id",
    "thread_id",
    "is_bot",
    "is_service",
    "has_media",
    "edited_at",
    "author_roles",
    "is_topic_root",
)
_FAST = tuple(f.name for f in fields(ChatMessage)) == _FIELD_ORDER and hasattr(
    ChatMessage, "__slots__"
)


def _unused(message: ChatMessage, value: Any) -> None:  # pragma: no cover
    """Placeholder setter when the fast path is off."""
    raise AssertionError("new_message fast path used with a changed ChatMessage")


def _slot_setter(name: str) -> Callable[[ChatMessage, Any], None]:
    """The ``__set__`` of ChatMessage's slot ``name`` (bypasses the frozen check)."""
    if not _FAST:  # pragma: no cover - the model changed; new_message falls back
        return _unused
    setter: Callable[[ChatMessage, Any], None] = getattr(ChatMessage, name).__set__
    return setter


(
    _set_platform,
    _set_chat_id,
    _set_message_id,
    _set_author_id,
    _set_author_name,
    _set_text,
    _set_sent_at,
    _set_reply_to_id,
    _set_thread_id,
    _set_is_bot,
    _set_is_service,
    _set_has_media,
    _set_edited_at,
    _set_author_roles,
    _set_is_topic_root,
) = (_slot_setter(name) for name in _FIELD_ORDER)
_new_object = object.__new__


def new_message(
    platform: str,
    chat_id: str,
    message_id: str,
    author_id: str,
    author_name: str,
    text: str,
    sent_at: datetime,
    reply_to_id: str | None,
    thread_id: str | None,
    is_bot: bool,
    is_service: bool,
    has_media: bool,
    edited_at: datetime | None,
    author_roles: tuple[str, ...],
    is_topic_root: bool,
) -> ChatMessage:
    """``ChatMessage(...)`` with every field given, about twice as fast.

    A frozen dataclass's ``__init__`` calls ``object.__setattr__`` once per field, which
    was half the cost of reading an export; this fills the slots directly. If the model's
    fields ever change, ``_FAST`` is false and the normal constructor is used (a test
    checks both give equal objects).
    """
    if not _FAST:  # pragma: no cover - only when harvest.model changes shape
        return ChatMessage(
            platform, chat_id, message_id, author_id, author_name, text, sent_at,
            reply_to_id, thread_id, is_bot, is_service, has_media, edited_at, author_roles,
            is_topic_root,
        )  # fmt: skip
    message: ChatMessage = _new_object(ChatMessage)
    _set_platform(message, platform)
    _set_chat_id(message, chat_id)
    _set_message_id(message, message_id)
    _set_author_id(message, author_id)
    _set_author_name(message, author_name)
    _set_text(message, text)
    _set_sent_at(message, sent_at)
    _set_reply_to_id(message, reply_to_id)
    _set_thread_id(message, thread_id)
    _set_is_bot(message, is_bot)
    _set_is_service(message, is_service)
    _set_has_media(message, has_media)
    _set_edited_at(message, edited_at)
    _set_author_roles(message, author_roles)
    _set_is_topic_root(message, is_topic_root)
    return message


def _first_line(exc: BaseException) -> str:
    """The first line of a parser error, which says what went wrong."""
    arg = exc.args[0] if exc.args else exc
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def json_error(path: Path, exc: BaseException) -> InputError:
    """An InputError naming the line where the JSON of ``path`` stops being valid (or
    saying the file is in another encoding than the UTF-8 exporters write)."""
    wrong = encoding_problem(path)
    if wrong is not None:
        reason, line = wrong
        return InputError(
            f"{reason}: exports are UTF-8 JSON, save it as UTF-8 and import again",
            source=str(path),
            line=line,
        )
    return InputError(
        f"malformed JSON ({_first_line(exc)}); is the export complete?",
        source=str(path),
        line=line_of(path, None),
    )


def first_event(path: Path, key: str) -> str | None:
    """The parse event that opens the top-level member ``key`` (``start_array`` for a
    list), or None when it is absent; reads only up to it."""
    with open_binary(path) as handle:
        try:
            for prefix, event, _ in BACKEND.parse(handle, buf_size=CHUNK, use_float=True):
                if prefix == key and event != "map_key":
                    return str(event)
        except _JSON_ERRORS as exc:
            raise json_error(path, exc) from exc
    return None


def open_binary(path: Path) -> BinaryIO:
    """Open an export for reading, turning a missing file into an InputError."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot open export: {exc.strerror}", source=str(path)) from exc
    if handle.read(3) != b"\xef\xbb\xbf":  # a UTF-8 byte-order mark (Windows tools) is skipped
        handle.seek(0)
    return handle


def items(path: Path, prefix: str) -> Iterator[Any]:
    """Stream the objects under ``prefix`` with the C parser; flat memory."""
    with open_binary(path) as handle:
        try:
            yield from BACKEND.items(handle, prefix, use_float=True, buf_size=CHUNK)
        except _JSON_ERRORS as exc:
            raise json_error(path, exc) from exc


def read_header(path: Path, stop_keys: frozenset[str]) -> tuple[dict[str, Any], str | None]:
    """Top-level members before the first of ``stop_keys``; and which key stopped it.

    Only the (small) preamble of an export is built; the parse stops as soon as a stop
    key appears, so this is cheap even on a multi-gigabyte file.
    """
    header: dict[str, Any] = {}
    with open_binary(path) as handle:
        events = BACKEND.parse(handle, buf_size=CHUNK, use_float=True)
        try:
            first = next(events, None)
            if first is None or first[:2] != ("", "start_map"):
                raise InputError(
                    "not a chat export: the file must hold one JSON object",
                    source=str(path),
                    line=1,
                )
            key: str | None = None
            builder: Any = None
            for prefix, event, value in events:
                if prefix == "" and event in ("map_key", "end_map"):
                    if key is not None and builder is not None:
                        header[key] = builder.value
                    if event == "end_map":
                        return header, None
                    if value in stop_keys:
                        return header, str(value)
                    key, builder = str(value), ijson.ObjectBuilder()
                elif builder is not None:
                    builder.event(event, value)
        except _JSON_ERRORS as exc:
            raise json_error(path, exc) from exc
    raise json_error(path, ijson.IncompleteJSONError("parse error: premature EOF"))


def field_error(
    path: Path, steps: tuple[tuple[str, int], ...], problem: FieldProblem
) -> InputError:
    """InputError for a bad field of the element at ``steps``, with its line."""
    return InputError(
        problem.message,
        source=str(path),
        line=line_of(path, steps, problem.field),
        field=problem.field,
    )
