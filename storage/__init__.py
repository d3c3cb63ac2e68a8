"""storage: SQLModel tables, engine, Alembic migrations and repository functions."""

from storage.db import DEFAULT_URL, make_engine, session_scope
from storage.index_version import bump_index_version, index_version
from storage.migrate import upgrade

__all__ = [
    "DEFAULT_URL",
    "bump_index_version",
    "index_version",
    "make_engine",
    "session_scope",
    "upgrade",
]
