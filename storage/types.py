"""Column types: ``SanitizedText`` masks secrets in whatever is written to it, ORM or Core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from harvest.sanitize import sanitize

__all__ = ["SanitizedText"]


class SanitizedText(TypeDecorator[str]):
    """TEXT whose bound values pass through ``harvest.sanitize`` (errors, notifications).

    A bind processor rather than an ORM event, so an ``update(...).values(error=...)``
    statement is masked as well as an attribute set; the stored type is plain TEXT (no
    migration).
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else sanitize(str(value))
