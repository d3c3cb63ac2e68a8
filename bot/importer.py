"""Import a chat export into the database: stream, pair, insert in bulk, one transaction.

Messages go in with multi-row ``INSERT … ON CONFLICT DO NOTHING`` batches (the unique
(chat, external id) constraint makes a re-import a no-op); members are cached by id; pairs
are deduplicated by source key and by normalised content hash. Any error rolls the whole
import back, so a malformed file leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from harvest.dedup import content_hash
from harvest.errors import ConflictError, InputError
from harvest.exports import ExportChatInfo, read_export, sniff_export
from harvest.model import ChatMessage, PairedAnswer, Role
from harvest.pairing import Pairer, PairingConfig
from harvest.questions import is_question
from storage.db import session_scope
from storage.models import Member, Message, PairMessage, QAPair, utcnow
from storage.repo.communities import ensure_member, get_or_create_community, upsert_chat
from storage.repo.pairs import split_for_hash

__all__ = ["ImportSummary", "import_export", "import_messages"]


def _table(model: Any) -> Any:
    """The Core table of a SQLModel class (for bulk ``INSERT … ON CONFLICT``)."""
    return model.__table__


BATCH = 5000


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
    pairs_found: int = 0
    pairs_added: int = 0
    pairs_duplicate: int = 0
    seconds: float = 0.0
    chat_titles: list[str] = field(default_factory=list)


def _insert(session: Session, table: Any, rows: list[dict[str, Any]], index: list[str]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=index)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=index)
    else:  # pragma: no cover - other databases: plain insert, duplicates filtered upstream
        stmt = table.insert()
    session.execute(stmt, rows)


class _Importer:
    def __init__(
        self,
        session: Session,
        community_id: int,
        pairing: PairingConfig,
        summary: ImportSummary,
    ) -> None:
        self.session = session
        self.summary = summary
        self.seen_hashes: set[str] | None = None
        self.community_id = community_id
        self.chats: dict[tuple[str, str], int] = {}
        self.members: dict[tuple[str, str], int] = {}
        self.roles: dict[str, Role] = {}
        for member in session.execute(
            select(Member).where(col(Member.community_id) == community_id)
        ).scalars():
            self.members[(member.platform, member.external_id)] = member.id
            if member.role != Role.MEMBER:
                self.roles[member.external_id] = Role(member.role)
        self.pairer = Pairer(pairing, roles=self.roles)
        self.rows: list[dict[str, Any]] = []
        self.pairs: list[tuple[str, PairedAnswer]] = []
        self.question_config = pairing.question
        self.platform_of: dict[str, str] = {}

    def chat(self, platform: str, external_id: str, title: str = "") -> int:
        key = (platform, external_id)
        if key not in self.chats:
            chat = upsert_chat(self.session, self.community_id, platform, external_id, title)
            if chat.community_id != self.community_id:
                raise ConflictError(
                    f"chat {platform}:{external_id} already belongs to another community"
                )
            self.chats[key] = chat.id or 0
        return self.chats[key]

    def member(self, msg: ChatMessage) -> int:
        key = (msg.platform, msg.author_id)
        member_id = self.members.get(key)
        if member_id is None:  # race-safe: a concurrent import may add the same member
            member_id = self.members[key] = ensure_member(
                self.session,
                self.community_id,
                msg.platform,
                msg.author_id,
                msg.author_name,
                is_bot=msg.is_bot,
            )
        return member_id

    def add(self, msg: ChatMessage) -> None:
        chat_id = self.chat(msg.platform, msg.chat_id)
        self.rows.append(
            {
                "chat_id": chat_id,
                "platform": msg.platform,
                "external_id": msg.message_id,
                "author_id": self.member(msg) if msg.author_id else None,
                "text": msg.text,
                "reply_to_external_id": msg.reply_to_id,
                "thread_external_id": msg.thread_id,
                "sent_at": msg.sent_at,
                "edited_at": msg.edited_at,
                "deleted": False,
                "is_question": bool(msg.text) and is_question(msg.text, self.question_config),
                "is_bot": msg.is_bot,
                "has_media": msg.has_media,
            }
        )
        self.platform_of[msg.chat_id] = msg.platform
        for pair in self.pairer.feed(msg):
            self.pairs.append((self.platform_of[pair.chat_id], pair))
        if len(self.rows) >= BATCH:
            self.flush_messages()

    def flush_messages(self) -> None:
        """Insert the buffered messages, then the pairs found so far (their messages are in)."""
        _insert(self.session, _table(Message), self.rows, ["chat_id", "external_id"])
        self.rows = []
        if self.seen_hashes is None:
            self.seen_hashes = set(
                self.session.execute(
                    select(col(QAPair.content_hash)).where(
                        col(QAPair.community_id) == self.community_id
                    )
                ).scalars()
            )
        pairs, self.pairs = self.pairs, []
        self.summary.pairs_found += len(pairs)
        for start in range(0, len(pairs), 500):
            self._store_pair_batch(pairs[start : start + 500], self.seen_hashes, self.summary)

    def finish(self) -> None:
        self.pairs.extend((self.platform_of[p.chat_id], p) for p in self.pairer.flush())
        self.flush_messages()

    def _store_pair_batch(
        self, batch: list[tuple[str, PairedAnswer]], seen: set[str], summary: ImportSummary
    ) -> None:
        wanted: dict[int, set[str]] = {}
        for platform, pair in batch:
            chat_id = self.chats[(platform, pair.chat_id)]
            wanted.setdefault(chat_id, set()).update((pair.question_id, *pair.answer_ids))
        ids: dict[tuple[int, str], int] = {}
        for chat_id, externals in wanted.items():  # per chat, so the unique index is used
            for mid, ext in self.session.execute(
                select(col(Message.id), col(Message.external_id)).where(
                    col(Message.chat_id) == chat_id, col(Message.external_id).in_(externals)
                )
            ):
                ids[(chat_id, ext)] = mid
        rows: list[dict[str, Any]] = []
        answers: list[list[int]] = []
        candidates = [
            (platform, pair, f"{platform}:{pair.chat_id}:{pair.question_id}:{pair.answer_ids[0]}")
            for platform, pair in batch
        ]
        known = set(
            self.session.execute(
                select(col(QAPair.source_key)).where(
                    col(QAPair.community_id) == self.community_id,
                    col(QAPair.source_key).in_([key for _, _, key in candidates]),
                )
            ).scalars()
        )
        now = utcnow()
        for platform, pair, source_key in candidates:
            chat_id = self.chats[(platform, pair.chat_id)]
            chash = content_hash(pair.question_text, pair.answer_text)
            if chash in seen or source_key in known:
                summary.pairs_duplicate += 1
                continue
            seen.add(chash)
            known.add(source_key)
            rows.append(
                {
                    "community_id": self.community_id,
                    "chat_id": chat_id,
                    "source_key": source_key,
                    "question_message_id": ids.get((chat_id, pair.question_id)),
                    "question_text": pair.question_text,
                    "answer_text": pair.answer_text,
                    "asker_id": self.members.get((platform, pair.asker_id)),
                    "answerer_id": self.members.get((platform, pair.answerer_id)),
                    "method": str(pair.method),
                    "score": pair.score,
                    "status": "pending",
                    "content_hash": chash,
                    "split": split_for_hash(chash),
                    "golden": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            answers.append([m for a in pair.answer_ids if (m := ids.get((chat_id, a)))])
        if not rows:
            return
        table = _table(QAPair)
        pair_ids = (
            self.session.execute(
                table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
            )
            .scalars()
            .all()
        )
        links = [
            {"pair_id": pid, "message_id": mid, "position": position}
            for pid, mids in zip(pair_ids, answers, strict=True)
            for position, mid in enumerate(mids)
        ]
        if links:
            self.session.execute(PairMessage.__table__.insert(), links)  # type: ignore[attr-defined]
        summary.pairs_added += len(rows)


def _count_messages(session: Session, chat_ids: Iterable[int]) -> int:
    ids = list(chat_ids)
    if not ids:
        return 0
    return int(
        session.execute(
            select(func.count()).select_from(Message).where(col(Message.chat_id).in_(ids))
        ).scalar_one()
    )


def import_messages(
    engine: Engine,
    items: Iterable[ExportChatInfo | ChatMessage],
    *,
    community: str,
    source: str = "",
    platform: str = "",
    pairing: PairingConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Store a stream of export items for ``community`` in one transaction."""
    started = utcnow()
    summary = ImportSummary(source=source, platform=platform, community=community)
    with session_scope(engine) as session:
        community_row = get_or_create_community(session, community)
        state = _Importer(session, community_row.id or 0, pairing or PairingConfig(), summary)
        before_counts: dict[int, int] = {}
        for item in items:
            if isinstance(item, ExportChatInfo):
                chat_id = state.chat(item.platform, item.chat_id, item.title)
                if chat_id not in before_counts:
                    before_counts[chat_id] = _count_messages(session, [chat_id])
                    summary.chat_titles.append(item.title)
                continue
            state.add(item)
            summary.messages_read += 1
            if progress is not None and summary.messages_read % 1000 == 0:
                progress(summary.messages_read)
        state.finish()
        for chat_key in state.chats.values():
            before_counts.setdefault(chat_key, 0)
        after = _count_messages(session, before_counts)
        summary.messages_added = after - sum(before_counts.values())
        summary.duplicates_skipped = summary.messages_read - summary.messages_added
        summary.chats = len(state.chats)
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
) -> ImportSummary:
    """Import a Telegram Desktop or DiscordChatExporter export (file or folder)."""
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
    )
