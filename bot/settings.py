"""Settings from ``FANQA_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Every setting fanqa reads; the README has a table of them.

    Secrets are ``SecretStr``: their repr and str print ``**********``.
    """

    model_config = SettingsConfigDict(
        env_prefix="FANQA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///data/fanqa.db",
        description="SQLAlchemy URL of the database (SQLite file by default).",
    )
    data_dir: Path = Field(default=Path("data"), description="Where models and reports go.")
    log_level: str = Field(default="INFO", description="Logging level.")

    # Telegram
    telegram_token: SecretStr | None = Field(default=None, description="Bot token (BotFather).")
    telegram_base_url: str | None = Field(
        default=None, description="Self-hosted Bot API server URL, e.g. http://host:8081/bot."
    )
    telegram_webhook_url: str | None = Field(
        default=None, description="Public URL for webhook mode; long polling when unset."
    )
    telegram_webhook_port: int = Field(default=8443, description="Port the webhook listens on.")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret token Telegram sends with every webhook call."
    )

    # Discord
    discord_token: SecretStr | None = Field(default=None, description="Discord bot token.")
    discord_sharded: bool = Field(default=False, description="Use AutoShardedClient.")

    # Models and training
    base_model: str = Field(
        default="Qwen/Qwen2.5-0.5B-Instruct",
        description="Base model for local fine-tuning: a local path or a hub id.",
    )
    training_backend: Literal["local", "openai"] = Field(
        default="local", description="Fine-tuning backend: local (transformers+peft) or openai."
    )
    hosted_base_model: str = Field(
        default="gpt-4.1-mini-2025-04-14",
        description="Base model id for the OpenAI-compatible hosted backend.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FANQA_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key of the OpenAI-compatible provider (also OPENAI_API_KEY).",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FANQA_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Base URL of the OpenAI-compatible API (also OPENAI_BASE_URL).",
    )
    hosted_poll_s: float = Field(
        default=5.0, gt=0, description="Seconds between polls of a hosted fine-tuning job."
    )
    scrub_pii: bool = Field(
        default=True, description="Scrub e-mails, phones and secrets before data leaves."
    )
    device: str = Field(default="auto", description="auto | cpu | cuda for local models.")

    # Answering
    min_confidence: float = Field(
        default=0.4, description="Default confidence under which the bot abstains."
    )
    dense_model: str | None = Field(
        default=None,
        description="A sentence-transformers model (local folder or hub id) for dense "
        "retrieval fused with BM25; unset: BM25 only.",
    )
    serve_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible server (e.g. vLLM with --enable-lora) that serves the "
        "local LoRA models; unset: load them in the bot process.",
    )
    worker_in_process: bool = Field(
        default=True, description="`fanqa run` also runs a training worker in-process."
    )
    heartbeat_timeout_s: int = Field(
        default=300, description="A running run without heartbeat for this long is failed."
    )

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
