"""The reading half of an import: parse the export and run the harvest engine over it, in
chunks of messages the writing half stores; in this process, or with the pairing in a child
process so that it overlaps parsing and writing here.

With a child, both processes read the export: this one for the messages it stores, the
forked child (it inherits the engine, its roles and the community's scorer as they are,
and never touches the database) to pair them. The child sends only what reading alone
cannot tell, per chunk: each message's question flag and the pairs closed, through a bounded
queue (a few chunks at most, so memory stays flat), then an end mark, or the error it
stopped on, which the parent raises as its own. Sending the messages themselves cost more
(pickling them, on the child's side, which is the slower one) than parsing them twice. A
malformed file fails in the parent's own read. The parent stops the child whenever it
stops reading (an error, an interrupt), and a child whose parent died stops by itself.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from harvest.engine import DecisionKind, HarvestEngine
from harvest.exports import ExportChatInfo
from harvest.exports.limits import truncate_text
from harvest.model import ChatMessage, PairedAnswer

__all__ = ["Chunk", "MessageRecord", "read_chunks", "read_chunks_in_child"]

# What the writer needs of a message: (platform, chat, id, author, author name, is bot,
# text, reply to, thread, sent at, edited at, asks, has media). A tuple, not a ChatMessage:
# it crosses the process boundary cheaply.
MessageRecord = tuple[
    str,
    str,
    str,
    str,
    str,
    bool,
    str,
    str | None,
    str | None,
    datetime,
    datetime | None,
    bool,
    bool,
]
# Chunks the child may be ahead of the writer (each is one transaction's worth).
QUEUE_CHUNKS = 3
_POLL_S = 1.0


@dataclass(slots=True)
class Chunk:
    """One transaction's worth: chats and messages in stream order, and the pairs closed
    while reading them (their messages are in this chunk or an earlier one)."""

    events: list[ExportChatInfo | MessageRecord] = field(default_factory=list)
    pairs: list[tuple[str, PairedAnswer]] = field(default_factory=list)
    messages: int = 0
    truncated: int = 0
    # each message's question flag, in order: what the child sends instead of records
    asks: list[bool] = field(default_factory=list)


def read_chunks(
    items: Iterable[ExportChatInfo | ChatMessage], engine: HarvestEngine, limit: int, size: int
) -> Generator[Chunk, None, None]:
    """Feed ``items`` to ``engine``; a chunk every ``size`` messages, and the rest with the
    pairs still open at the end."""
    return _read(items, engine, limit, size, records=True)


def _read(
    items: Iterable[ExportChatInfo | ChatMessage],
    engine: HarvestEngine | None,
    limit: int,
    size: int,
    *,
    records: bool,
) -> Generator[Chunk, None, None]:
    """Chunks of ``items``: with ``records`` the chats and message records; with an
    ``engine`` the pairs closed and each message's question flag (in its record, or in
    ``asks`` without records); without one every flag is False, to be set from the child's."""
    chunk = Chunk()
    platform_of: dict[str, str] = {}
    feed = engine.feed if engine is not None else None
    close = DecisionKind.CLOSE
    for item in items:
        if isinstance(item, ExportChatInfo):
            if records:
                chunk.events.append(item)
            continue
        msg = item
        text, cut = truncate_text(msg.text, limit)
        if cut:
            msg = replace(msg, text=text)
            chunk.truncated += 1
        asks = False
        if feed is not None:
            fed = feed(msg)
            asks = fed.is_question
            if not records:  # the child's: the flags go across instead of the records
                chunk.asks.append(asks)
            platform_of[msg.chat_id] = msg.platform
            for decision in fed.decisions:
                pair = decision.pair
                if decision.kind is close and pair is not None:
                    chunk.pairs.append((platform_of[pair.chat_id], pair))
        if records:
            chunk.events.append(
                (
                    msg.platform,
                    msg.chat_id,
                    msg.message_id,
                    msg.author_id,
                    msg.author_name,
                    msg.is_bot,
                    msg.text,
                    msg.reply_to_id,
                    msg.thread_id,
                    msg.sent_at,
                    msg.edited_at,
                    asks,
                    msg.has_media,
                )
            )
        chunk.messages += 1
        if chunk.messages >= size:
            yield chunk
            chunk = Chunk()
    if engine is not None:
        for decision in engine.flush():
            if decision.pair is not None:
                chunk.pairs.append((platform_of[decision.pair.chat_id], decision.pair))
    yield chunk


def read_chunks_in_child(
    items: Iterable[ExportChatInfo | ChatMessage],
    engine: HarvestEngine,
    limit: int,
    size: int,
    reread: Callable[[], Iterable[ExportChatInfo | ChatMessage]] | None = None,
) -> Generator[Chunk, None, None]:
    """:func:`read_chunks` with the pairing in a forked child process (in this one where
    fork is not available): the chunks are read here, their question flags and pairs come
    from the child. The child reads ``reread()`` (``items`` as it was at the fork when not
    given: a list, or an iterator not started, never one that is half read). Close the
    iterator (or let it be collected) to stop the child."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from read_chunks(items, engine, limit, size)
        return
    context = multiprocessing.get_context("fork")
    chunks: Any = context.Queue(maxsize=QUEUE_CHUNKS)
    child = context.Process(
        target=_child,
        args=(chunks, os.getpid(), reread or (lambda: items), engine, limit, size),
        name="fanqa-import-reader",
        daemon=True,
    )
    child.start()
    try:
        for chunk in _read(items, None, limit, size, records=True):
            paired = _next(chunks, child)
            if isinstance(paired, BaseException):
                raise paired
            if paired is None or len(paired.asks) != chunk.messages:
                raise RuntimeError("the export reader process read a different export")
            _merge(chunk, paired)
            yield chunk
        if _next(chunks, child) is not None:
            raise RuntimeError("the export reader process read a different export")
        child.join()
    finally:
        if child.exitcode is None:
            child.kill()
            child.join()
        chunks.close()
        chunks.cancel_join_thread()
        child.close()


_ASKS = 11  # the question flag's place in a MessageRecord


def _merge(chunk: Chunk, paired: Chunk) -> None:
    """Set the question flags and pairs the child found on the chunk read here."""
    chunk.pairs = paired.pairs
    flags = paired.asks
    if not any(flags):
        return
    n = 0
    events = chunk.events
    for i, event in enumerate(events):
        if isinstance(event, ExportChatInfo):
            continue
        if flags[n]:
            events[i] = (*event[:_ASKS], True, *event[_ASKS + 1 :])  # type: ignore[assignment]
        n += 1


def _next(chunks: Any, child: Any) -> Chunk | BaseException | None:
    """The child's next message; an error if it died without saying why."""
    while True:
        try:
            return chunks.get(timeout=_POLL_S)  # type: ignore[no-any-return]
        except queue.Empty:
            if child.exitcode is not None:  # what it sent before exiting is in the pipe
                try:
                    return chunks.get(timeout=_POLL_S)  # type: ignore[no-any-return]
                except queue.Empty:
                    return RuntimeError(
                        f"the export reader process stopped (exit code {child.exitcode})"
                    )


def _child(
    chunks: Any,
    parent: int,
    items: Callable[[], Iterable[ExportChatInfo | ChatMessage]],
    engine: HarvestEngine,
    limit: int,
    size: int,
) -> None:  # pragma: no cover - runs in the child process (covered through the importer)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle

    def put(message: object) -> None:
        while True:
            try:
                chunks.put(message, timeout=_POLL_S)
                return
            except queue.Full:
                if os.getppid() != parent:  # nobody reads any more
                    os._exit(1)

    try:
        for chunk in _read(items(), engine, limit, size, records=False):
            put(chunk)
    except BaseException as exc:
        put(_picklable(exc))
        return
    put(None)


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that says what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
