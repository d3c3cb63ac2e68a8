"""storage: SQLModel tables, engine, Alembic migrations and repository functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.db import DEFAULT_URL, make_engine, session_scope
from storage.index_version import bump_index_version, index_version

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "DEFAULT_URL",
    "bump_index_version",
    "index_version",
    "make_engine",
    "session_scope",
    "upgrade",
]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (Alembic is imported here, when first needed)."""
    from storage.migrate import upgrade as _upgrade

    _upgrade(engine, revision)
