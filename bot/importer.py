"""Import a chat export: stream it through the harvest engine, store it in short chunks.

Messages go in with multi-row ``INSERT … ON CONFLICT DO NOTHING`` batches (the unique
(chat, external id) constraint makes a re-import a no-op); pairs are what the one harvest
engine (:class:`harvest.engine.HarvestEngine`, which the live bot feeds too) closes,
deduplicated by source key and by normalised content hash. Each chunk is its own short
transaction, so live writers get the database between chunks; every row carries the
import's id while it runs, and any failure (a malformed file, an interrupt) removes them:
an import is all or nothing. A run abandoned without cleaning up (the process was killed)
is cleaned by the next import once its heartbeat is stale.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.import_reader import Chunk, MessageRecord, read_chunks, read_chunks_in_child
from harvest.dedup import content_hash
from harvest.engine import HarvestEngine, PairingConfig, Scorer
from harvest.errors import ConflictError, InputError
from harvest.exports import ExportChatInfo, read_export, sniff_export
from harvest.exports.limits import DEFAULT_MAX_MESSAGE_BYTES
from harvest.model import ChatMessage, PairedAnswer, Role
from harvest.questions import QuestionConfig
from storage.db import session_scope
from storage.models import Member, Message, PairMessage, QAPair, utcnow
from storage.repo.classifiers import auto_approve, classifier_scorer
from storage.repo.communities import find_chat, upsert_chat
from storage.repo.harvested import new_pair_row, source_key
from storage.repo.import_rows import (
    insert_members,
    insert_message_rows,
    no_gc_pause,
    widen_cache,
)
from storage.repo.import_runs import RunInfo, begin_run, finish_run, undo_run

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


def _table(model: Any) -> Any:
    """The Core table of a SQLModel class (for bulk ``INSERT … ON CONFLICT``)."""
    return model.__table__


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
        self.seen: set[str] = set()
        with session_scope(engine) as session:
            for member in session.execute(
                select(Member).where(col(Member.community_id) == community_id)
            ).scalars():
                self.members[(member.platform, member.external_id)] = member.id or 0
                if member.role != Role.MEMBER:
                    self.roles[member.external_id] = Role(member.role)
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
                    raise ConflictError(
                        f"chat {platform}:{external_id} already belongs to another community"
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
            for start in range(0, len(pairs), 500):
                self._store_pairs(session, pairs[start : start + 500], summary)
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

    def _message_ids(
        self, session: Session, wanted: dict[int, set[str]]
    ) -> dict[tuple[int, str], int]:
        """Stored ids of messages by (chat, external id): kept ones, then one look-up per
        chat for the rest (older messages, or ones a previous import stored)."""
        ids: dict[tuple[int, str], int] = {}
        for chat_id, externals in wanted.items():
            missing = []
            new, old = self.ids.get(chat_id, {}), self.old_ids.get(chat_id, {})
            for ext in externals:
                mid = new.get(ext) or old.get(ext)
                if mid is None:
                    missing.append(ext)
                else:
                    ids[(chat_id, ext)] = mid
            if missing:  # per chat, so the unique index is used
                for mid, ext in session.execute(
                    select(col(Message.id), col(Message.external_id)).where(
                        col(Message.chat_id) == chat_id, col(Message.external_id).in_(missing)
                    )
                ):
                    ids[(chat_id, ext)] = mid
        return ids

    def _store_pairs(
        self, session: Session, batch: list[tuple[str, PairedAnswer]], summary: ImportSummary
    ) -> None:
        wanted: dict[int, set[str]] = {}
        for platform, pair in batch:
            chat_id = self.chats[(platform, pair.chat_id)]
            wanted.setdefault(chat_id, set()).update((pair.question_id, *pair.answer_ids))
        ids = self._message_ids(session, wanted)
        candidates = [
            (
                platform,
                pair,
                source_key(platform, (pair.chat_id, pair.question_id, pair.answer_ids[0])),
            )
            for platform, pair in batch
        ]
        known = set(
            session.execute(
                select(col(QAPair.source_key)).where(
                    col(QAPair.community_id) == self.community_id,
                    col(QAPair.source_key).in_([key for _, _, key in candidates]),
                )
            ).scalars()
        )
        now = utcnow()
        rows: list[dict[str, Any]] = []
        answers: list[list[int]] = []
        for platform, pair, key in candidates:
            chat_id = self.chats[(platform, pair.chat_id)]
            chash = content_hash(pair.question_text, pair.answer_text)
            if chash in self.seen or key in known:
                summary.pairs_duplicate += 1
                continue
            self.seen.add(chash)
            known.add(key)
            row = new_pair_row(
                pair,
                community_id=self.community_id,
                chat_pk=chat_id,
                key=key,
                chash=chash,
                question_message_id=ids.get((chat_id, pair.question_id)),
                asker_id=self.members.get((platform, pair.asker_id)),
                answerer_id=self.members.get((platform, pair.answerer_id)),
                now=now,
            )
            rows.append({**row, "import_id": self.run})
            answers.append([m for a in pair.answer_ids if (m := ids.get((chat_id, a)))])
        if not rows:
            return
        # RETURNING (id, source key), matched by key: rows in any order, many per statement
        # (asking for the parameters' order costs one statement per pair on SQLite).
        table = _table(QAPair)
        stmt = table.insert().returning(table.c.id, table.c.source_key)
        keyed = {key: pid for pid, key in session.execute(stmt, rows)}
        pair_ids = [keyed[row["source_key"]] for row in rows]
        links = [
            {"pair_id": pid, "message_id": mid, "position": position}
            for pid, mids in zip(pair_ids, answers, strict=True)
            for position, mid in enumerate(mids)
        ]
        if links:
            session.execute(_table(PairMessage).insert(), links)
        summary.pairs_added += len(rows)


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
) -> ImportSummary:
    """Store a stream of export items for ``community``: all of it, or nothing.

    With ``reader_process`` the items are read and paired in a child process
    (:func:`bot.import_reader.read_chunks_in_child`) while this one writes.

    The community's question patterns apply (as they do live) unless ``pairing`` names
    its own question config; its pair classifier scores the pairs (as it does live) unless
    ``scorer`` is given, and approves those above its ``auto_approve_above`` at the end.
    """
    started = utcnow()
    summary = ImportSummary(source=source, platform=platform, community=community)
    run = begin_run(engine, community, source, stale_after=stale_after)
    try:
        pairing = pairing or PairingConfig()
        if pairing.question == PairingConfig().question and run.patterns:
            pairing = _with_patterns(pairing, run.patterns)
        if scorer is None:
            with session_scope(engine) as session:
                scorer = classifier_scorer(session, run.community_id)
        state = _Importer(engine, run)
        harvester = HarvestEngine(pairing, state.roles, scorer=scorer, incremental=False)
        read = read_chunks_in_child if reader_process else read_chunks
        chunks = read(items, harvester, max_message_bytes, CHUNK)
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


def _with_patterns(pairing: PairingConfig, patterns: tuple[str, ...]) -> PairingConfig:
    return replace(pairing, question=QuestionConfig(extra_patterns=patterns), linker=None)


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
        community=community,
        source=str(path),
        platform=detected,
        pairing=pairing,
        progress=progress,
        max_message_bytes=max_message_bytes,
        reader_process=reader_process,
    )
