"""storage: SQLModel tables, engine, Alembic migrations and repository functions."""

from storage.db import DEFAULT_URL, make_engine, session_scope
from storage.migrate import upgrade

__all__ = ["DEFAULT_URL", "make_engine", "session_scope", "upgrade"]
