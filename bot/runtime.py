"""The composition root: settings → storage (migrated) for the CLI, bots and worker."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from bot.settings import Settings, get_settings
from storage import make_engine, upgrade

if TYPE_CHECKING:
    from bot.answering import Retriever
    from trainer.generation import GeneratorFactory

__all__ = ["answer_generator_factory", "answer_retriever", "device_of", "open_engine"]

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


def device_of(settings: Settings) -> str | None:
    """The configured device for local models, None for "auto"."""
    return None if settings.device == "auto" else settings.device


def answer_generator_factory(settings: Settings | None = None) -> GeneratorFactory:
    """How live models generate: hosted ones (a remote model id) through the configured
    OpenAI-compatible API, local LoRAs in this process or from ``serve_base_url`` (vLLM)."""
    from trainer.generation import local_generator_factory
    from trainer.hosted import HostedBackend, openai_generator_factory, routing_generator_factory

    settings = settings or get_settings()
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
