"""The composition root: settings → engine (migrated) → database runner → services.

``build_root`` is the one helper every entry point (``fanqa run``, the CLI commands, the
console) builds its root with; everything below it gets what it needs passed down and never
reads the settings singleton itself.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from bot.settings import Settings, get_settings
from storage import make_engine, upgrade
from storage.database import Database

if TYPE_CHECKING:
    from bot.answering import Retriever
    from bot.core.service import BotService
    from trainer.generation import GeneratorFactory

__all__ = [
    "Root",
    "answer_generator_factory",
    "answer_retriever",
    "build_root",
    "device_of",
    "open_engine",
]

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _engine_for(url: str, busy_timeout_s: float) -> Engine:
    engine = make_engine(url, busy_timeout_s=busy_timeout_s)
    upgrade(engine)
    return engine


def open_engine(settings: Settings | None = None) -> Engine:
    """An engine on the configured database with every migration applied."""
    settings = settings or get_settings()
    engine = _engine_for(settings.database_url, settings.db_busy_timeout_s)
    log.debug("database %s", engine.url.render_as_string(hide_password=True))
    return engine


@dataclass(frozen=True)
class Root:
    """Settings, the migrated engine and the database runner of one process."""

    settings: Settings
    engine: Engine
    db: Database

    def service(self, **overrides: Any) -> BotService:
        """The bot service, wired from the settings (``overrides``: e.g. a test clock)."""
        from bot.core.service import BotService
        from trainer.enqueue import TrainingDefaults

        wiring: dict[str, Any] = {
            "generator_factory": answer_generator_factory(self.settings),
            "training_defaults": TrainingDefaults.from_settings(self.settings),
            "desk_url": self.settings.desk_url,
            "retriever": answer_retriever(self.settings),
        }
        return BotService(self.db, **(wiring | overrides))


def build_root(settings: Settings | None = None) -> Root:
    """The root for this process: ``settings`` (else the environment's) → engine → runner."""
    settings = settings or get_settings()
    engine = open_engine(settings)
    return Root(settings, engine, Database(engine))


def device_of(settings: Settings) -> str | None:
    """The configured device for local models, None for "auto"."""
    return None if settings.device == "auto" else settings.device


def answer_generator_factory(settings: Settings) -> GeneratorFactory:
    """How live models generate: hosted ones (a remote model id) through the configured
    OpenAI-compatible API, local LoRAs in this process or from ``serve_base_url`` (vLLM)."""
    from trainer.generation import local_generator_factory
    from trainer.hosted import HostedBackend, openai_generator_factory, routing_generator_factory

    local = local_generator_factory(device_of(settings))
    if settings.serve_base_url:
        import openai

        key = settings.openai_api_key
        client = openai.OpenAI(
            api_key=key.get_secret_value() if key is not None else "none",
            base_url=settings.serve_base_url,
            max_retries=2,
        )
        local = openai_generator_factory(client)
    hosted = None
    if settings.openai_api_key is not None:
        hosted = openai_generator_factory(HostedBackend.from_settings(settings).client)
    return routing_generator_factory(hosted=hosted, local=local)


def answer_retriever(settings: Settings | None = None) -> Retriever:
    """Where answering keeps its indexes: in memory and under ``data_dir/index`` (a one-shot
    ``fanqa ask`` loads it), with the configured dense model if any."""
    from bot.answering import Retriever

    settings = settings or get_settings()
    return Retriever(settings.index_dir, settings.dense_model, device_of(settings))


@cache
def settle_heap() -> None:
    """Once per process (``functools.cache``), before a bot takes its first updates:
    collect, then freeze what survived.

    What exists after start-up (modules, torch and transformers, the ORM's mappers, caches)
    lives as long as the process; ``gc.freeze`` keeps the cyclic collector from walking it
    again. Unfrozen, each full collection walked it all (≈ 0.1-0.2 s here), stalling every
    update in flight: that pause set the p99 of ``bench/telegram_latency.py``. Both bots call it.
    """
    gc.collect()
    gc.freeze()
