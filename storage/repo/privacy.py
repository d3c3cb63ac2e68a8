"""Forgetting a member: their text removed from every table and snapshot file that holds it.

``forget_member`` is the one implementation behind ``/forget USER`` and ``fanqa members
forget``. In the caller's transaction it

- blanks the member's messages (kept as deleted rows, so a re-delivered update or a
  re-imported export finds them and stores nothing) and their display name;
- blanks and deletes every pair they asked or answered, or whose answer contains one of their
  messages (the other person's own message stays: it can be paired again, with someone
  else's question);
- deletes answer-log rows for their questions or built from those pairs;
- blanks the bot's stored messages that quote them: review cards and answers of those pairs,
  replies to their messages, anything containing their words;
- redacts review events' before / after JSON about those pairs or quoting them (the event,
  who did what and when, stays);
- rewrites the dataset snapshot files (``data/runs/N/data/*.jsonl``) without their pairs, and
  every other text file in a run's folder that quotes them (reports, evaluations).

Future snapshots never see the pairs (deleted pairs are out of every dataset). Models
already trained on them are listed in the report, so a moderator can retrain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from storage.models import (
    AnswerLog,
    Chat,
    DatasetSnapshot,
    Member,
    Message,
    ModelVersion,
    PairMessage,
    QAPair,
    ReviewEvent,
    TrainingRun,
    utcnow,
)
from storage.repo.pairs import record_event

__all__ = ["FORGOTTEN", "ForgetReport", "forget_member", "purge_free_pages"]

FORGOTTEN = "[forgotten]"
_MIN_NEEDLE = 12  # shorter texts ("ok", "thanks!") are not searched for in other rows
_HEAD = 24  # a quote may be cut short ("…"): its first characters are searched for too
_SAFE_KEYS = frozenset({"status", "action", "split", "method", "golden", "role", "deleted"})
_TEXT_SUFFIXES = frozenset({".jsonl", ".json", ".md", ".txt", ".csv", ".tsv", ".html"})
_CARD = re.compile(r"^📝 #(\d+)\b")  # a review card's first line (bot.core review_card)
_SOURCES = re.compile(r"^(?:Sources|来源): (.+)$", re.MULTILINE)  # an answer's sources line
_ID = re.compile(r"#(\d+)\b")


@dataclass
class ForgetReport:
    """What ``forget_member`` removed, and which models were trained before the request."""

    member: str
    messages: int = 0
    pairs: list[int] = field(default_factory=list)
    answers: int = 0
    bot_messages: int = 0
    events: int = 0
    files: list[str] = field(default_factory=list)
    trained_models: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """One reply for the chat or the terminal."""
        text = f"Forgot {self.member}: {self.messages} message(s), {len(self.pairs)} pair(s)"
        extra = [
            f"{n} {what}"
            for n, what in (
                (self.answers, "answer log row(s)"),
                (self.bot_messages, "bot message(s)"),
                (len(self.files), "snapshot file(s)"),
            )
            if n
        ]
        text += (", " + ", ".join(extra) if extra else "") + " removed."
        if self.events:
            text += f" {self.events} review event(s) redacted."
        if self.trained_models:
            ids = ", ".join(str(m) for m in self.trained_models)
            text += f" Trained before the request: model {ids} (retrain to drop their data)."
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "messages": self.messages,
            "pairs": self.pairs,
            "answers": self.answers,
            "bot_messages": self.bot_messages,
            "events": self.events,
            "files": self.files,
            "trained_models": self.trained_models,
        }


def _flat(text: str) -> str:
    return " ".join(text.split())


def _needles(texts: Iterable[str]) -> set[str]:
    """The strings whose presence elsewhere counts as quoting the member."""
    out: set[str] = set()
    for text in texts:
        flat = _flat(text)
        if len(flat) >= _MIN_NEEDLE:
            out.add(flat)
            out.add(flat[:_HEAD])
    return out


def _quotes(text: str, needles: set[str]) -> bool:
    flat = _flat(text)
    return any(n in flat for n in needles)


def _pairs_of(
    session: Session, community_id: int, member_id: int, message_ids: list[int]
) -> list[QAPair]:
    in_answer = select(PairMessage.pair_id).where(col(PairMessage.message_id).in_(message_ids))
    return list(
        session.exec(
            select(QAPair).where(
                QAPair.community_id == community_id,
                or_(
                    col(QAPair.asker_id) == member_id,
                    col(QAPair.answerer_id) == member_id,
                    col(QAPair.question_message_id).in_(message_ids),
                    col(QAPair.id).in_(in_answer),
                ),
            )
        ).all()
    )


def _trained_on(session: Session, community_id: int, pair_ids: set[int]) -> list[int]:
    """Model versions whose run's snapshot held one of ``pair_ids``."""
    rows = session.exec(
        select(ModelVersion.id, DatasetSnapshot.train_pair_ids, DatasetSnapshot.eval_pair_ids)
        .join(TrainingRun, col(TrainingRun.id) == col(ModelVersion.run_id))
        .join(DatasetSnapshot, col(DatasetSnapshot.id) == col(TrainingRun.snapshot_id))
        .where(ModelVersion.community_id == community_id)
        .order_by(col(ModelVersion.id))
    ).all()
    return [
        mid
        for mid, train, held in rows
        if mid is not None and pair_ids & set(train or ()) | pair_ids & set(held or ())
    ]


def _redact(value: Any, needles: set[str], everything: bool) -> tuple[Any, bool]:
    """``value`` with its text redacted (all of it, or what quotes the member)."""
    if isinstance(value, dict):
        out, changed = {}, False
        for key, item in value.items():
            if key in _SAFE_KEYS and not isinstance(item, dict | list):
                out[key] = item
                continue
            out[key], hit = _redact(item, needles, everything)
            changed |= hit
        return out, changed
    if isinstance(value, list):
        items = [_redact(item, needles, everything) for item in value]
        return [i for i, _ in items], any(hit for _, hit in items)
    if isinstance(value, str) and value and (everything or _quotes(value, needles)):
        return FORGOTTEN, True
    return value, False


def _rewrite_jsonl(path: Path, drop: set[int], needles: set[str]) -> bool:
    """Drop lines ``drop`` (0-based) and lines quoting the member; True when changed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = []
    for index, line in enumerate(lines):
        if index in drop:
            continue
        try:
            strings = _strings(json.loads(line)) if line.strip() else []
        except json.JSONDecodeError:
            strings = [line]
        if any(_quotes(s, needles) for s in strings):
            continue
        kept.append(line)
    if len(kept) == len(lines):
        return False
    path.write_text("".join(kept), encoding="utf-8")
    return True


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _rewrite_text(path: Path, needles: set[str]) -> bool:
    """Replace every line quoting the member with ``FORGOTTEN``; True when changed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (UnicodeDecodeError, OSError):
        return False
    out = [FORGOTTEN + "\n" if _quotes(line, needles) else line for line in lines]
    if out == lines:
        return False
    path.write_text("".join(out), encoding="utf-8")
    return True


def _snapshots(
    session: Session, community_id: int, removed: set[int], needles: set[str]
) -> set[Path]:
    """Rewrite every snapshot of the community without ``removed``; the files changed."""
    changed: set[Path] = set()
    for snap in session.exec(
        select(DatasetSnapshot).where(DatasetSnapshot.community_id == community_id)
    ).all():
        folder = Path(snap.path) if snap.path else None
        for name, ids in (("train.jsonl", snap.train_pair_ids), ("eval.jsonl", snap.eval_pair_ids)):
            drop = {i for i, pid in enumerate(ids or ()) if pid in removed}
            path = folder / name if folder is not None else None
            if path is not None and path.is_file() and _rewrite_jsonl(path, drop, needles):
                changed.add(path)
        if removed & set(snap.train_pair_ids or ()) | removed & set(snap.eval_pair_ids or ()):
            snap.train_pair_ids = [p for p in snap.train_pair_ids if p not in removed]
            snap.eval_pair_ids = [p for p in snap.eval_pair_ids if p not in removed]
            snap.n_train, snap.n_holdout = len(snap.train_pair_ids), len(snap.eval_pair_ids)
            session.add(snap)
    return changed


def _run_folders(session: Session, community_id: int) -> set[Path]:
    folders = {
        Path(d)
        for d in session.exec(
            select(TrainingRun.out_dir).where(TrainingRun.community_id == community_id)
        ).all()
        if d
    }
    for report in session.exec(
        select(ModelVersion.report_path).where(ModelVersion.community_id == community_id)
    ).all():
        if report:
            folders.add(Path(report).parent)
    return {f for f in folders if f.is_dir()}


def _files(session: Session, community_id: int, removed: set[int], needles: set[str]) -> list[str]:
    changed = _snapshots(session, community_id, removed, needles)
    for folder in _run_folders(session, community_id):
        for path in folder.rglob("*"):
            if path in changed or not path.is_file() or path.suffix not in _TEXT_SUFFIXES:
                continue
            if path.stat().st_size > 64 * 1024**2:
                continue
            rewrite = _rewrite_jsonl(path, set(), needles) if path.suffix == ".jsonl" else None
            if rewrite or (rewrite is None and _rewrite_text(path, needles)):
                changed.add(path)
    return sorted(str(p) for p in changed)


def forget_member(session: Session, community_id: int, member: Member, label: str) -> ForgetReport:
    """Remove ``member``'s text everywhere in ``community_id`` (see the module docstring)."""
    member_id = member.id or 0
    who = f"{member.platform}:{member.external_id}"
    messages = session.exec(select(Message).where(Message.author_id == member_id)).all()
    message_ids = [m.id for m in messages if m.id is not None]
    own_texts = [m.text for m in messages] + [member.display_name]
    pairs = _pairs_of(session, community_id, member_id, message_ids)
    removed = {p.id for p in pairs if p.id is not None}
    needles = _needles(
        [*own_texts, *(p.question_text for p in pairs), *(p.answer_text for p in pairs)]
    )
    report = ForgetReport(who, messages=len(messages), pairs=sorted(removed))
    report.trained_models = _trained_on(session, community_id, removed)
    chats = {
        c.id: c.external_id
        for c in session.exec(select(Chat).where(Chat.community_id == community_id)).all()
    }
    their_ids = {(m.chat_id, m.external_id) for m in messages}

    # answer-log rows: their questions, answers built from their pairs, quoting them
    logs = session.exec(select(AnswerLog).where(AnswerLog.community_id == community_id)).all()
    gone_logs = [
        row
        for row in logs
        if (row.chat_id, row.question_external_id) in their_ids
        or removed & set(row.source_pair_ids or ())
        or _quotes(row.question_text, needles)
        or _quotes(row.answer_text, needles)
    ]
    answer_ids = {(r.chat_id, r.answer_external_id) for r in gone_logs if r.answer_external_id}
    if gone_logs:
        session.execute(delete(AnswerLog).where(col(AnswerLog.id).in_([r.id for r in gone_logs])))
    report.answers = len(gone_logs)

    # the bot's stored messages: cards and answers of their pairs, replies to them, quotes
    bot_rows = session.exec(
        select(Message).where(col(Message.chat_id).in_(list(chats)), col(Message.is_bot).is_(True))
    ).all()
    for row in bot_rows:
        cited = {int(n) for n in _CARD.findall(row.text)}
        for line in _SOURCES.findall(row.text):
            cited |= {int(n) for n in _ID.findall(line)}
        if (
            (row.chat_id, row.external_id) in answer_ids
            or (row.reply_to_external_id and (row.chat_id, row.reply_to_external_id) in their_ids)
            or cited & removed
            or _quotes(row.text, needles)
        ) and row.text:
            row.text, row.deleted = "", True
            session.add(row)
            report.bot_messages += 1

    for message in messages:
        message.text, message.deleted = "", True
        session.add(message)
    now = utcnow()
    for pair in pairs:
        status = pair.status
        pair.question_text = pair.answer_text = ""
        pair.deleted_at = pair.deleted_at or now
        pair.updated_at = now
        session.add(pair)
        record_event(
            session,
            community_id=community_id,
            pair_id=pair.id,
            action="forget",
            actor_label=label,
            before={"status": status},
            after={"deleted": True},
        )

    # review events: before / after of their pairs redacted, quotes anywhere redacted
    for event in session.exec(
        select(ReviewEvent).where(ReviewEvent.community_id == community_id)
    ).all():
        everything = event.pair_id in removed and event.action != "forget"
        before, hit_before = _redact(event.before, needles, everything)
        after, hit_after = _redact(event.after, needles, everything)
        if hit_before or hit_after:
            event.before, event.after = before, after
            session.add(event)
            report.events += 1

    report.files = _files(session, community_id, removed, needles)
    member.display_name = ""
    session.add(member)
    record_event(
        session,
        community_id=community_id,
        action="forget",
        actor_label=label,
        after={"member": who, "messages": len(messages), "pairs": report.pairs},
    )
    session.flush()
    return report


def purge_free_pages(bind: Engine | Connection) -> None:
    """After a commit on SQLite: move the WAL into the file (its old pages held the text).

    With ``secure_delete`` on (``storage.db``) the overwritten cells are zeroed in the main
    file; the checkpoint then truncates the write-ahead log that still held the old pages.
    Other backends: nothing to do (PostgreSQL's VACUUM reclaims dead rows on its schedule).
    """
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside a transaction: a checkpoint cannot run in one
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
