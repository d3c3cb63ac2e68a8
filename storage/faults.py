"""Database and file-system faults as one clear ``StorageError`` line (never a traceback)."""

from __future__ import annotations

import errno

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from harvest.errors import InputError, StorageError

__all__ = ["as_storage_error", "is_busy"]

_BUSY = ("database is locked", "database table is locked", "database schema is locked")
_PG_BUSY = ("deadlock detected", "could not serialize access", "lock timeout", "lock_timeout")


def is_busy(exc: BaseException) -> bool:
    """True for a lock that another writer held too long (worth one more try)."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(b in text for b in (*_BUSY, *_PG_BUSY))


def as_storage_error(
    exc: BaseException, *, where: str | None = None
) -> StorageError | InputError | None:
    """``exc`` as a ``StorageError`` naming what to do; None when it is not a storage fault.

    ``where`` names the database (a path or a URL without password) in the message. A URL
    SQLAlchemy cannot read is an ``InputError`` naming ``FANQA_DATABASE_URL`` (exit 2).
    """
    place = f" ({where})" if where else ""
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return InputError(
            f"not a database URL SQLAlchemy can use ({exc}); e.g. sqlite:///data/fanqa.db or "
            "postgresql+psycopg://user@host/db",
            field="FANQA_DATABASE_URL",
        )
    if isinstance(exc, OperationalError | DBAPIError) and exc.orig is not None:
        text = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        low = text.lower()
        if is_busy(exc):
            return StorageError(
                f"the database{place} is busy: another fanqa process (an import, the bot, a "
                "worker) kept it locked too long; nothing was changed, try again",
                path=where,
            )
        if "readonly" in low or "read-only" in low:
            return StorageError(
                f"the database{place} is read-only: make the file and its folder writable "
                "by this user (SQLite also writes a -wal and a -shm file next to it)",
                path=where,
            )
        if "unable to open database" in low:
            return StorageError(
                f"cannot open the database{place}: does its folder exist and can this user "
                "write there?",
                path=where,
            )
        if "disk i/o error" in low or "database or disk is full" in low:
            return StorageError(f"the database{place} cannot be written: {text}", path=where)
        if isinstance(exc, OperationalError):
            return StorageError(f"the database{place} is unavailable: {text}", path=where)
        return None
    if isinstance(exc, PermissionError | OSError) and exc.errno in (
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOSPC,
    ):
        name = exc.filename or where or "a file"
        why = {errno.ENOSPC: "no space left on the device", errno.EROFS: "read-only file system"}
        reason = why.get(exc.errno or 0, "permission denied")
        return StorageError(f"cannot write {name}: {reason}", path=str(name))
    return None
