"""Engine and sessions: SQLite (WAL, foreign keys, busy timeout) by default, any SQLAlchemy URL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

__all__ = ["DEFAULT_URL", "make_engine", "session_scope"]

DEFAULT_URL = "sqlite:///data/fanqa.db"

log = logging.getLogger(__name__)


DEFAULT_BUSY_TIMEOUT_S = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, busy_timeout_s: float) -> None:
    # Transactions are begun by ``_begin_immediate`` below, not by the sqlite3 module.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # forgotten text is zeroed, not left in free pages
    cursor.close()


def make_engine(
    url: str = DEFAULT_URL, *, echo: bool = False, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
) -> Engine:
    """Create an engine for ``url``; a SQLite file's folder is created when missing.

    A writer waits up to ``busy_timeout_s`` for another process's write lock (an import, the
    bot, a worker) before it fails with "database is locked" (``storage.faults`` turns that
    into one clear line). A new SQLite file is announced with a warning naming its path: a
    mistyped ``FANQA_DATABASE_URL`` shows up as "creating a new database".
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            if not path.exists():
                log.warning("no database at %s: creating a new, empty one", path.resolve())
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_s}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_timeout_s=busy_timeout_s))
        event.listen(engine, "begin", _begin_immediate)
    return engine


def _begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when a transaction begins, not at its first write.

    A transaction that read (after a SAVEPOINT, say) before another connection committed
    cannot upgrade to a writer: SQLite fails it at once with "database is locked" (the busy
    timeout does not apply, it would deadlock). Beginning IMMEDIATE makes writers queue on
    the busy timeout instead; the bot's threads (harvest batches, answers, the worker) write
    concurrently.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
