"""Storage: migrations, constraints, repository functions and the review audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from harvest.errors import InputError, NotFound, PermissionDenied
from storage import make_engine, session_scope, upgrade
from storage.models import Message, QAPair
from storage.repo import (
    count_pairs,
    get_community,
    get_or_create_community,
    get_or_create_member,
    list_pairs,
    list_review_events,
    review_pair,
    store_message,
    upsert_chat,
)


def _pair(
    session, community_id: int, key: str, q: str = "怎么定投？", a: str = "每月固定日期买入。"
):
    pair = QAPair(
        community_id=community_id,
        source_key=key,
        question_text=q,
        answer_text=a,
        content_hash=key,
    )
    session.add(pair)
    session.flush()
    return pair


def test_migrations_create_every_table_and_are_idempotent(engine) -> None:
    """Upgrading twice is a no-op and leaves all tables in place."""
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    expected = {
        "communities",
        "chats",
        "members",
        "messages",
        "qa_pairs",
        "pair_messages",
        "review_events",
        "dataset_snapshots",
        "training_runs",
        "run_metrics",
        "model_versions",
        "answer_log",
        "notifications",
        "handled_commands",
        "alembic_version",
    }
    assert expected <= tables


def test_migrations_match_the_models(engine) -> None:
    """Alembic finds nothing to autogenerate: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers every table)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_schemas": False, "compare_type": False}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_sqlite_uses_wal_and_foreign_keys(tmp_path) -> None:
    """The default SQLite engine turns on WAL, foreign keys, a 30 s busy timeout and
    secure_delete (forgotten text is zeroed in the file)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with eng.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_message_external_id_is_unique_per_chat(engine) -> None:
    """The same message stored twice keeps one row; a raw duplicate insert is refused."""
    with session_scope(engine) as s:
        c = get_or_create_community(s, "fund")
        chat = upsert_chat(s, c.id, "telegram", "-100", "Fund")
        when = datetime(2026, 1, 1, tzinfo=UTC)
        _, created1 = store_message(
            s,
            Message(chat_id=chat.id, platform="telegram", external_id="1", text="hi", sent_at=when),
        )
        _, created2 = store_message(
            s,
            Message(chat_id=chat.id, platform="telegram", external_id="1", text="hi", sent_at=when),
        )
        assert (created1, created2) == (True, False)
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(
            Message(chat_id=chat.id, platform="telegram", external_id="1", text="x", sent_at=when)
        )
        s.flush()


def test_datetimes_come_back_timezone_aware(engine) -> None:
    """A stored timestamp reads back as the same aware UTC instant."""
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    with session_scope(engine) as s:
        c = get_or_create_community(s, "fund")
        chat = upsert_chat(s, c.id, "telegram", "1")
        msg, _ = store_message(
            s,
            Message(chat_id=chat.id, platform="telegram", external_id="9", text="t", sent_at=when),
        )
        mid = msg.id
    with session_scope(engine) as s:
        assert s.get(Message, mid).sent_at == when


def test_review_actions_are_audited_with_before_and_after(engine) -> None:
    """Approve then edit leaves two review events with the states before and after."""
    with session_scope(engine) as s:
        c = get_or_create_community(s, "fund")
        mod = get_or_create_member(s, c.id, "telegram", "42", "Lin")
        pair = _pair(s, c.id, "k1")
        review_pair(
            s, pair.id, "approve", community_id=c.id, actor_id=mod.id, actor_label="telegram:42"
        )
        review_pair(
            s,
            pair.id,
            "edit",
            community_id=c.id,
            actor_id=mod.id,
            actor_label="telegram:42",
            answer_text="每月定投，长期持有。",
        )
        events = list_review_events(s, c.id, pair_id=pair.id)
        assert [(e.action, e.before["status"], e.after["status"]) for e in events] == [
            ("approve", "pending", "approved"),
            ("edit", "approved", "approved"),
        ]
        assert events[1].after["answer_text"] == "每月定投，长期持有。"
        assert count_pairs(s, c.id) == {"pending": 0, "approved": 1, "rejected": 0}


def test_another_communitys_pair_cannot_be_reviewed(engine) -> None:
    """A pair is only reachable through its own community."""
    with session_scope(engine) as s:
        a = get_or_create_community(s, "fund")
        b = get_or_create_community(s, "games")
        pair = _pair(s, a.id, "k1")
        with pytest.raises(PermissionDenied):
            review_pair(s, pair.id, "approve", community_id=b.id)
        assert list_pairs(s, a.id, status="pending")[0].id == pair.id


def test_unknown_community_and_bad_input_are_clear(engine) -> None:
    """Unknown names list what exists; a bad status names the field."""
    with session_scope(engine) as s:
        get_or_create_community(s, "fund")
        with pytest.raises(NotFound, match="known: fund"):
            get_community(s, "nope")
        with pytest.raises(InputError) as info:
            list_pairs(s, 1, status="maybe")
        assert info.value.field == "status"


def test_sqlite_writers_queue_instead_of_failing(tmp_path) -> None:
    """A transaction that read, then writes after another connection committed, waits its
    turn instead of failing with "database is locked"."""
    import threading

    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    upgrade(engine)
    read_done, other_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with session_scope(engine) as session, session.begin_nested():
                session.exec(text("SELECT count(*) FROM communities"))
                read_done.set()
                other_done.wait(0.5)  # the other connection wants to write meanwhile
                session.exec(
                    text(
                        "INSERT INTO communities (name, language, system_prompt, "
                        "answer_policy, auto_answer_after_min, abstain_mode, "
                        "min_confidence, timezone, train_cron, min_new_pairs, "
                        "question_patterns, created_at) VALUES ('a', 'auto', '', "
                        "'mention', 10, 'notice', 0.35, 'UTC', '0 3 * * *', 20, "
                        "'[]', '2026-01-01 00:00:00')"
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=slow_writer)
    worker.start()
    read_done.wait(5)
    with session_scope(engine) as session:
        get_or_create_community(session, "b")
    other_done.set()
    worker.join(10)
    assert errors == []
    with session_scope(engine) as session:
        names = sorted(session.exec(text("SELECT name FROM communities")).scalars())
    assert names == ["a", "b"]
