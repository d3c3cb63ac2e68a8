"""Imports commit in short chunks that live writers get between, and are all or nothing."""

from __future__ import annotations

import gc
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import bot.importer as importer
from bot.core import Harvester
from harvest.errors import InputError
from harvest.exports.limits import TRUNCATION_MARKER, truncate_text
from storage.db import session_scope
from storage.models import Chat, ImportRun, Member, Message, QAPair, ReviewEvent, utcnow
from storage.repo.communities import get_or_create_community, upsert_chat
from tests.bot.conftest import message

T0 = 1_704_067_200


def export(path: Path, n: int, *, long_text: str | None = None) -> Path:
    """A Telegram Desktop export of ``n`` messages: a question and its reply every 4."""
    messages = []
    for i in range(1, n + 1):
        msg: dict[str, object] = {
            "id": i,
            "type": "message",
            "date": "2024-01-01T00:00:00",
            "date_unixtime": str(T0 + 60 * i),
            "from": f"user {i % 7}",
            "from_id": f"user{i % 7}",
            "text": f"How do I redeem fund number {i}?" if i % 4 == 1 else f"chat line {i}",
        }
        if i % 4 == 2:
            msg["reply_to_message_id"] = i - 1
            msg["text"] = f"Open the app and redeem fund {i - 1}; it settles T+2."
        messages.append(msg)
    if long_text is not None:
        messages[-1]["text"] = long_text
    body = {"name": "Big club", "type": "private_supergroup", "id": 777, "messages": messages}
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {
            model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Message, QAPair, Member, Chat, ImportRun, ReviewEvent)
        }


@pytest.fixture
def live(sqlite_engine: Engine) -> Engine:
    """A database with community "fund" whose chat g1 the live bot harvests."""
    with session_scope(sqlite_engine) as s:
        fund = get_or_create_community(s, "fund")
        upsert_chat(s, fund.id or 0, "fake", "g1", "Fund chat")
    return sqlite_engine


def test_live_messages_are_harvested_during_an_import(
    live: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between chunks the import holds no lock: a live question and answer sent while it
    runs are stored and paired at once (a single-transaction import would block them)."""
    monkeypatch.setattr(importer, "CHUNK", 400)
    harvester = Harvester(live)
    outcomes = []

    def live_traffic(read: int) -> None:
        if read == 1000:
            outcomes.append(harvester.handle_message(message("q1", "alice", "Fee of fund 3?")))
            reply = message("a1", "bob", "0.5% a year, from the NAV.", reply_to="q1", at=20)
            outcomes.append(harvester.handle_message(reply))

    summary = importer.import_export(
        live, export(tmp_path / "result.json", 3000), community="fund", progress=live_traffic
    )
    assert [o.kind for o in outcomes] == ["stored", "paired"]
    assert (summary.messages_added, summary.chunks) == (3000, 8)
    assert summary.pairs_added >= 750


@pytest.mark.parametrize("reader_process", [False, True])
@pytest.mark.parametrize("stop", ["malformed", "interrupted"])
def test_a_failed_import_leaves_nothing_behind(
    live: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: str, reader_process: bool
) -> None:
    """A file that breaks after several committed chunks, or an import interrupted (Ctrl-C)
    after them, removes every row it wrote; the live chat's data stays (also when a child
    process reads the file: its error is raised here, and it is stopped on an interrupt)."""
    monkeypatch.setattr(importer, "CHUNK", 300)
    harvester = Harvester(live)
    harvester.handle_message(message("q1", "alice", "Fee of fund 3?"))
    harvester.handle_message(message("a1", "bob", "0.5% a year.", reply_to="q1", at=20))
    before = counts(live)
    path = export(tmp_path / "result.json", 3000)
    progress = None
    if stop == "malformed":
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: int(len(text) * 0.8)], encoding="utf-8")
    else:

        def progress(read: int) -> None:
            if read == 2000:
                raise KeyboardInterrupt

    with pytest.raises(InputError if stop == "malformed" else KeyboardInterrupt):
        importer.import_export(
            live, path, community="fund", progress=progress, reader_process=reader_process
        )
    assert counts(live) == before


@pytest.mark.parametrize("malformed", [False, True])
def test_an_import_collects_less_often_and_puts_the_collector_back(
    live: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, malformed: bool
) -> None:
    """While it runs, the import has the cyclic collector walk its objects less often; when
    it ends, finished or failed, the process's own thresholds are back."""
    monkeypatch.setattr(importer, "CHUNK", 300)
    own = (900, 11, 12)
    before = gc.get_threshold()
    gc.set_threshold(*own)
    seen: list[tuple[int, ...]] = []
    path = export(tmp_path / "result.json", 3000)  # progress is told every 1,000 read
    if malformed:
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: int(len(text) * 0.8)], encoding="utf-8")
    try:
        try:
            importer.import_export(
                live, path, community="fund", progress=lambda _: seen.append(gc.get_threshold())
            )
        except InputError:
            assert malformed
        assert gc.get_threshold() == own
    finally:
        gc.set_threshold(*before)
    assert seen and set(seen) == {(20_000, 20, 20)}


def test_an_abandoned_import_is_removed_by_the_next(live: Engine, tmp_path: Path) -> None:
    """Rows of an import whose process died (no heartbeat for long) go at the next import."""
    with session_scope(live) as s:
        fund = get_or_create_community(s, "fund")
        old = utcnow() - timedelta(hours=1)
        run = ImportRun(community_id=fund.id or 0, heartbeat_at=old, started_at=old)
        s.add(run)
        s.flush()
        chat = upsert_chat(s, fund.id or 0, "telegram", "999", "dead import")
        s.add(
            Message(
                chat_id=chat.id or 0,
                platform="telegram",
                external_id="1",
                text="half-imported",
                sent_at=old,
                import_id=run.id,
            )
        )
    importer.import_export(live, export(tmp_path / "result.json", 8), community="fund")
    with session_scope(live) as s:
        texts = set(s.execute(select(Message.text)).scalars())
        runs = s.execute(select(ImportRun.status)).scalars().all()
    assert ("half-imported" in texts, runs) == (False, ["done"])


def test_an_overlong_message_is_truncated_and_counted(engine: Engine, tmp_path: Path) -> None:
    """A multi-megabyte message is cut to the limit with a marker and counted."""
    huge = "定投" * 600_000
    path = export(tmp_path / "result.json", 4, long_text=huge)
    summary = importer.import_export(engine, path, community="fund", max_message_bytes=4096)
    with session_scope(engine) as s:
        longest = max(s.execute(select(Message.text)).scalars(), key=len)
    assert summary.messages_truncated == 1
    assert len(longest.encode("utf-8")) <= 4096 and longest.endswith(TRUNCATION_MARKER)


def test_truncate_text_keeps_whole_characters() -> None:
    """Cutting Chinese text never leaves half a character; short text is untouched."""
    assert truncate_text("short", 1024) == ("short", False)
    cut, done = truncate_text("汉" * 1000, 100)
    assert done and len(cut.encode("utf-8")) <= 100 and cut.endswith(TRUNCATION_MARKER)
    assert set(cut.removesuffix(TRUNCATION_MARKER)) == {"汉"}


def _pair_rows(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    from storage.models import PairMessage

    with session_scope(engine) as s:
        question = select(Message.external_id).where(Message.id == QAPair.question_message_id)
        pairs = s.execute(
            select(QAPair.source_key, question.scalar_subquery(), QAPair.answer_text)
        ).all()
        links = s.execute(
            select(QAPair.source_key, Message.external_id, PairMessage.position)
            .join(PairMessage, PairMessage.pair_id == QAPair.id)
            .join(Message, Message.id == PairMessage.message_id)
        ).all()
    return sorted(tuple(p) for p in pairs), sorted(tuple(link) for link in links)


def test_pairs_tie_to_their_messages_however_far_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pair's question and answer messages are tied to it whether their ids are kept
    from the insert or looked up again (a question asked many chunks earlier), and the
    same when a child process reads and pairs."""
    from storage import make_engine, upgrade

    source = export(tmp_path / "result.json", 400)
    found = []
    for keep, chunk, child in ((20_000, 1000, False), (1, 3, False), (20_000, 7, True)):
        monkeypatch.setattr(importer, "_KEEP_IDS", keep)
        monkeypatch.setattr(importer, "CHUNK", chunk)
        engine = make_engine(f"sqlite:///{tmp_path / f'{keep}-{child}.db'}")
        upgrade(engine)
        importer.import_export(engine, source, community="fund", reader_process=child)
        found.append(_pair_rows(engine))
    (pairs, links), again, in_child = found
    assert (pairs, links) == again == in_child
    assert {key for key, _, _ in links} == {key for key, _, _ in pairs}
    assert len(pairs) >= 100 and all(question is not None for _, question, _ in pairs)


@pytest.mark.parametrize("chunk", [1000, 2])
def test_pairs_whose_content_is_stored_are_counted_as_duplicates(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """A pair with the content of a stored one is a duplicate, not inserted: earlier in the
    same import (in the same chunk or an earlier one), or stored by an earlier import under
    other message ids (another chat: other source keys)."""
    monkeypatch.setattr(importer, "CHUNK", chunk)
    question, answer = "How do I redeem fund 7?", "Open the app and redeem it; it settles T+2."
    messages = [
        {
            "id": i,
            "type": "message",
            "date": "2024-01-01T00:00:00",
            "date_unixtime": str(T0 + 600 * i),
            "from": f"user {i % 2}",
            "from_id": f"user{i % 2}",
            "text": question if i % 2 else answer,
            **({} if i % 2 else {"reply_to_message_id": i - 1}),
        }
        for i in range(1, 5)
    ]
    paths = []
    for chat in (777, 778):
        body = {"name": "Club", "type": "private_supergroup", "id": chat, "messages": messages}
        path = tmp_path / f"{chat}.json"
        path.write_text(json.dumps(body), encoding="utf-8")
        paths.append(path)
    first = importer.import_export(engine, paths[0], community="fund")
    assert (first.pairs_found, first.pairs_added, first.pairs_duplicate) == (2, 1, 1)
    second = importer.import_export(engine, paths[1], community="fund")
    assert (second.pairs_found, second.pairs_added, second.pairs_duplicate) == (2, 0, 2)
    assert counts(engine)["QAPair"] == 1


def test_a_reader_process_that_reads_another_export_fails_the_import(
    live: Engine, tmp_path: Path
) -> None:
    """With the pairing in a child process both processes read the export; should the
    child's read differ from this one's (the file changed under the import), the import
    stops with an error and leaves nothing behind, instead of storing mismatched flags."""
    from harvest.exports import read_export

    before = counts(live)
    first, other = export(tmp_path / "a.json", 900), export(tmp_path / "b.json", 700)
    with pytest.raises(RuntimeError, match="different export"):
        importer.import_messages(
            live,
            read_export(first),
            reread=lambda: read_export(other),
            community="fund",
            reader_process=True,
        )
    assert counts(live) == before
