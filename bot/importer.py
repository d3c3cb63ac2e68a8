"""Import a chat export: stream it through the harvest engine, store it in short chunks.

Messages go in with multi-row ``INSERT … ON CONFLICT DO NOTHING`` batches (the unique
(chat, external id) constraint makes a re-import a no-op); pairs are what the one harvest
engine (:class:`harvest.engine.HarvestEngine`, which the live bot feeds too) closes,
written by the one pair writer the live bot uses too (:class:`storage.repo.pair_batch.PairBatch`:
deduplicated by source key and by normalised content hash). Each chunk is its own short
transaction, so live writers get the database between chunks; every row carries the
import's id while it runs, and any failure (a malformed file, an interrupt) removes them:
an import is all or nothing. A run abandoned without cleaning up (the process was killed)
is cleaned by the next import once its heartbeat is stale.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.import_reader import Chunk, MessageRecord, read_chunks, read_chunks_in_child
from harvest.community_config import community_pairing
from harvest.engine import Decision, DecisionKind, HarvestEngine, PairingConfig, Scorer, pair_key
from harvest.errors import ConflictError, InputError
from harvest.exports import ExportChatInfo, read_export, sniff_export
from harvest.exports.limits import DEFAULT_MAX_MESSAGE_BYTES
from harvest.model import ChatMessage, PairedAnswer, Role
from storage.db import session_scope
from storage.models import Community, Member, QAPair, utcnow
from storage.repo.classifiers import auto_approve, classifier_scorer
from storage.repo.communities import find_chat, upsert_chat
from storage.repo.import_rows import (
    insert_members,
    insert_message_rows,
    no_gc_pause,
    widen_cache,
)
from storage.repo.import_runs import RunInfo, begin_run, finish_run, undo_run
from storage.repo.pair_batch import PairBatch

__all__ = ["CHUNK", "ImportSummary", "import_export", "import_messages"]

# Stored ids of recent messages kept for their pairs (two generations of this many at most;
# the engine tracks 20,000 messages by default, older ones are looked up).
_KEEP_IDS = 20_000
# Messages per transaction: short enough (well under 200 ms of write lock on SQLite)
# that the live bot's writes get through between chunks.
CHUNK = 1000
# Seconds between heartbeats of a running import (at most; a tenth of ``stale_after`` if less).
_BEAT_S = 5.0


@dataclass
class ImportSummary:
    """What an import did; printed by the CLI and returned as JSON."""

    source: str
    platform: str
    community: str
    chats: int = 0
    messages_read: int = 0
    messages_added: int = 0
    duplicates_skipped: int = 0
    messages_truncated: int = 0
    pairs_found: int = 0
    pairs_added: int = 0
    pairs_duplicate: int = 0
    pairs_auto_approved: int = 0  # by the community's classifier (auto_approve_above)
    chunks: int = 0
    median_chunk_seconds: float = 0.0
    max_chunk_seconds: float = 0.0
    seconds: float = 0.0
    chat_titles: list[str] = field(default_factory=list)


class _Importer:
    """The state of one import between chunks (no session is held between them)."""

    def __init__(self, engine: Engine, run: RunInfo) -> None:
        self.db = engine
        self.info = run
        self.run = run.run_id
        self.community_id = community_id = run.community_id
        self.chats: dict[tuple[str, str], int] = {}
        self.members: dict[tuple[str, str], int] = {}
        self.names: dict[tuple[str, str], tuple[str, bool]] = {}  # new members to create
        self.roles: dict[str, Role] = {}
        with session_scope(engine) as session:
            for member in session.execute(
                select(Member).where(col(Member.community_id) == community_id)
            ).scalars():
                self.members[(member.platform, member.external_id)] = member.id or 0
                if member.role != Role.MEMBER:
                    self.roles[member.external_id] = Role(member.role)
            # content hashes the community holds (the pair writer's run-wide duplicates)
            self.seen = set(
                session.execute(
                    select(col(QAPair.content_hash)).where(col(QAPair.community_id) == community_id)
                ).scalars()
            )
        self.rows: list[MessageRecord] = []
        self.pairs: list[tuple[str, PairedAnswer]] = []
        self.chunk_times: list[float] = []
        # chat → external id → stored id (str → int dicts: the garbage collector skips them)
        self.ids: dict[int, dict[str, int]] = {}
        self.old_ids: dict[int, dict[str, int]] = {}
        self.kept = 0

    def chat(self, platform: str, external_id: str, title: str = "") -> int:
        """The chat's id; created (or retitled) in its own short transaction."""
        key = (platform, external_id)
        if key not in self.chats:
            with session_scope(self.db) as session:
                new = find_chat(session, platform, external_id) is None
                chat = upsert_chat(session, self.community_id, platform, external_id, title)
                if new:
                    self.info.created_chats.append(chat.id or 0)
                if chat.community_id != self.community_id:
                    owner = session.get(Community, chat.community_id)
                    raise ConflictError(
                        f"chat {platform}:{external_id} already belongs to community "
                        f"{owner.name if owner else chat.community_id!r}: import it into that "
                        "community (-c), a chat's messages and pairs live in one"
                    )
                self.chats[key] = chat.id or 0
        return self.chats[key]

    def take(
        self, chunk: Chunk, summary: ImportSummary, progress: Callable[[int], None] | None
    ) -> None:
        """Buffer a chunk's chats (created now), messages and pairs; ``progress`` is told
        every 1,000 messages read."""
        members, names = self.members, self.names
        for event in chunk.events:
            if isinstance(event, ExportChatInfo):
                if (event.platform, event.chat_id) not in self.chats:
                    summary.chat_titles.append(event.title)
                self.chat(event.platform, event.chat_id, event.title)
                continue
            platform, chat_id, author = event[0], event[1], event[3]
            if (platform, chat_id) not in self.chats:
                self.chat(platform, chat_id)
            if author and (platform, author) not in members:
                names.setdefault((platform, author), (event[4], event[5]))
            self.rows.append(event)
            summary.messages_read += 1
            if progress is not None and summary.messages_read % 1000 == 0:
                progress(summary.messages_read)
        self.pairs.extend(chunk.pairs)
        summary.messages_truncated += chunk.truncated

    def flush(self, summary: ImportSummary) -> None:
        """Write the buffered members, messages and pairs in one short transaction."""
        if not (self.rows or self.pairs):
            return
        started = time.perf_counter()
        with no_gc_pause(), session_scope(self.db) as session:
            widen_cache(session)
            self._members(session)
            if self.rows:
                summary.messages_added += self._insert_messages(session)
            pairs, self.pairs, self.rows = self.pairs, [], []
            summary.pairs_found += len(pairs)
            written = self._store_pairs(session, pairs)
            summary.pairs_added += written.inserted
            summary.pairs_duplicate += written.duplicates
        elapsed = time.perf_counter() - started
        summary.chunks += 1
        summary.max_chunk_seconds = max(summary.max_chunk_seconds, round(elapsed, 4))
        self.chunk_times.append(elapsed)

    def _members(self, session: Session) -> None:
        if not self.names:
            return
        created, ids = insert_members(session, self.community_id, self.names)
        self.info.created_members.extend(created)
        self.members.update(ids)
        self.names = {}

    def _insert_messages(self, session: Session) -> int:
        """Insert the buffered messages (a re-imported one is skipped); how many were new.

        Their ids come back from ``RETURNING`` and are kept (for the last ``_KEEP_IDS``
        messages or so) for the pairs that refer to them.
        """
        chats, members, run = self.chats, self.members, self.run
        # record (bot.import_reader.MessageRecord) → row (in MESSAGE_COLUMNS order):
        # platform 0, chat 1, id 2, author 3, is bot 5, text … edited at 6-10, asks 11, media 12
        rows = [
            (
                chats[(r[0], r[1])],
                r[0],
                r[2],
                members.get((r[0], r[3])) if r[3] else None,
                *r[6:11],
                False,
                r[11],
                r[5],
                r[12],
                run,
            )
            for r in self.rows
        ]
        inserted = insert_message_rows(session, rows)
        if self.kept > _KEEP_IDS:  # two generations: memory stays flat
            self.old_ids, self.ids, self.kept = self.ids, {}, 0
        ids, chat_ids, last = self.ids, None, None
        for mid, chat_id, ext in inserted:
            if chat_id != last:
                chat_ids, last = ids.setdefault(chat_id, {}), chat_id
            chat_ids[ext] = mid  # type: ignore[index]
        self.kept += len(inserted)
        return len(inserted)

    def _store_pairs(self, session: Session, pairs: list[tuple[str, PairedAnswer]]) -> PairBatch:
        """Write the chunk's pairs through the one pair writer (as ``new`` decisions, 500
        at a time); a pair whose key or content the community holds already is a duplicate.
        """
        writes = PairBatch(session, import_id=self.run, seen=self.seen)
        community_id, chats, members = self.community_id, self.chats, self.members
        kept: dict[int, Mapping[str, int]] = {}  # chat → its kept message ids
        member_ids: dict[str, Callable[[str], int | None]] = {}
        for n, (platform, pair) in enumerate(pairs, 1):
            chat_pk = chats[(platform, pair.chat_id)]
            ids = kept.get(chat_pk)
            if ids is None:
                ids = kept[chat_pk] = ChainMap(
                    self.ids.get(chat_pk, {}), self.old_ids.get(chat_pk, {})
                )
            authors = member_ids.get(platform)
            if authors is None:
                authors = member_ids[platform] = partial(_member_id, members, platform)
            writes.add(
                community_id=community_id,
                chat_pk=chat_pk,
                platform=platform,
                decisions=(Decision(DecisionKind.NEW, pair_key(pair), pair),),
                message_ids=ids,
                member_ids=authors,
            )
            if n % 500 == 0:
                writes.write()
        writes.write()
        return writes


def _member_id(members: dict[tuple[str, str], int], platform: str, author: str) -> int | None:
    return members.get((platform, author))


# The cyclic collector's thresholds while an import runs (CPython's defaults: 700, 10, 10).
# An import keeps many objects alive for a while (the engine's window, the chunk being
# written), and with the defaults the collector walked them and the rest of the heap again
# and again: 1.8 s of CPU in a 25 s import of 200,000 distinct messages (416 young, 38
# middle and 4 full collections), against 0.1 s with these; 7.6 s of 84 s (9 %) against
# 0.15 s for 1,000,000 templated ones. The same peak memory (nearly everything is freed by
# reference counting: the collector only finds cycles).
_IMPORT_GC_THRESHOLDS = (20_000, 20, 20)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the block (or the decorated function) with the collector's import thresholds,
    then put the old ones back. A reader process forked inside inherits them."""
    before = gc.get_threshold()
    gc.set_threshold(*_IMPORT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_fewer_collections()
def import_messages(
    engine: Engine,
    items: Iterable[ExportChatInfo | ChatMessage],
    *,
    community: str,
    source: str = "",
    platform: str = "",
    pairing: PairingConfig | None = None,
    progress: Callable[[int], None] | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    stale_after: timedelta = timedelta(minutes=10),
    scorer: Scorer | None = None,
    reader_process: bool = False,
    reread: Callable[[], Iterable[ExportChatInfo | ChatMessage]] | None = None,
) -> ImportSummary:
    """Store a stream of export items for ``community``: all of it, or nothing.

    With ``reader_process`` the items are paired in a child process
    (:func:`bot.import_reader.read_chunks_in_child`) that reads them again, from
    ``reread()`` when given (a fresh reader of the same export), while this one reads and
    writes them.

    The community's question patterns and reply linking apply as they do live
    (:func:`harvest.community_config.community_pairing`), its question patterns unless
    ``pairing`` names its own question config; its pair classifier scores the pairs (as it
    does live) unless ``scorer`` is given, and approves those above its
    ``auto_approve_above`` at the end.
    """
    started = utcnow()
    summary = ImportSummary(source=source, platform=platform, community=community)
    run = begin_run(engine, community, source, stale_after=stale_after)
    try:
        pairing = community_pairing(run.patterns, run.reply_linking, pairing)
        if scorer is None:
            with session_scope(engine) as session:
                scorer = classifier_scorer(session, run.community_id)
        state = _Importer(engine, run)
        harvester = HarvestEngine(pairing, state.roles, scorer=scorer, incremental=False)
        if reader_process:
            chunks = read_chunks_in_child(items, harvester, max_message_bytes, CHUNK, reread)
        else:
            chunks = read_chunks(items, harvester, max_message_bytes, CHUNK)
        # A heartbeat now and then (not a transaction per chunk): far more often than a
        # run is taken for abandoned.
        every, last_beat = min(_BEAT_S, stale_after.total_seconds() / 10), time.monotonic()
        try:
            for chunk in chunks:
                state.take(chunk, summary, progress)
                state.flush(summary)
                if time.monotonic() - last_beat >= every:
                    finish_run(engine, run.run_id, done=False)
                    last_beat = time.monotonic()
        finally:
            chunks.close()  # stops the reader process (on an error or an interrupt)
        finish_run(engine, run.run_id, done=True)
    except BaseException:
        undo_run(engine, run)
        raise
    with session_scope(engine) as session:
        summary.pairs_auto_approved = len(auto_approve(session, run.community_id))
    summary.duplicates_skipped = summary.messages_read - summary.messages_added
    summary.chats = len(state.chats)
    if state.chunk_times:
        summary.median_chunk_seconds = round(statistics.median(state.chunk_times), 4)
    summary.seconds = (utcnow() - started).total_seconds()
    return summary


def import_export(
    engine: Engine,
    path: str | Path,
    *,
    community: str,
    kind: str | None = None,
    pairing: PairingConfig | None = None,
    progress: Callable[[int], None] | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    reader_process: bool = False,
) -> ImportSummary:
    """Import a Telegram Desktop or DiscordChatExporter export (file or folder); with
    ``reader_process``, read and paired in a child process while this one writes."""
    detected = sniff_export(path)
    if kind is not None and kind != detected:
        raise InputError(f"this is a {detected} export, not {kind}", source=str(path))
    return import_messages(
        engine,
        read_export(path),
        reread=partial(read_export, path),
        community=community,
        source=str(path),
        platform=detected,
        pairing=pairing,
        progress=progress,
        max_message_bytes=max_message_bytes,
        reader_process=reader_process,
    )
