"""The composition root: settings → storage (migrated) for the CLI, bots and worker."""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy.engine import Engine

from bot.settings import Settings, get_settings
from storage import make_engine, upgrade

__all__ = ["open_engine"]

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def open_engine(settings: Settings | None = None) -> Engine:
    """An engine on the configured database with every migration applied."""
    settings = settings or get_settings()
    engine = _engine_for(settings.database_url)
    log.debug("database %s", engine.url.render_as_string(hide_password=True))
    return engine
