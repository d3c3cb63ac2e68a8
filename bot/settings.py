"""Settings from ``FANQA_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from harvest.sanitize import register_secrets

__all__ = ["DEFAULT_WEB_PORT", "Settings", "get_settings"]

DEFAULT_WEB_PORT = 8080


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
    db_busy_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a write waits for another process's lock (an import) before "
        "it fails with one clear line.",
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

    # Harvesting
    max_message_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="A longer message text (UTF-8 bytes) is truncated on import, with a marker.",
    )
    max_answer_chars: int = Field(
        default=4000, ge=1, description="Longest answer `fanqa pairs edit` accepts."
    )

    # Answering (the abstain threshold is each community's ``min_confidence``)
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

    # The review desk (``fanqa web``; ``fanqa run`` serves it too when web_port is set)
    web_host: str = Field(default="127.0.0.1", description="Address the review desk binds.")
    web_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the review desk; `fanqa run` serves it only when set.",
    )
    web_base_url: str | None = Field(
        default=None,
        description="Public URL of the review desk for login links (default http://HOST:PORT).",
    )
    web_secret: SecretStr | None = Field(
        default=None,
        description="Signs desk sessions; unset: generated once into DATA_DIR/web_secret.",
    )

    @field_validator("web_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")) or value[-3:] == "://":
            raise ValueError("must be an http:// or https:// URL, e.g. https://desk.example.org")
        return value.rstrip("/")

    @field_validator("web_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value or any(c.isspace() or c in "/:" for c in value.strip("[]")):
            raise ValueError("must be a host name or address, e.g. 127.0.0.1 or 0.0.0.0")
        return value

    @property
    def desk_url(self) -> str:
        """Where the review desk is reached: ``web_base_url`` or ``http://host:port``."""
        if self.web_base_url:
            return self.web_base_url
        host = "127.0.0.1" if self.web_host in ("0.0.0.0", "::") else self.web_host
        return f"http://{host}:{self.web_port or DEFAULT_WEB_PORT}"

    def model_post_init(self, _context: Any) -> None:
        """Every configured secret is masked wherever text leaves (``harvest.sanitize``)."""
        secrets = (
            self.openai_api_key,
            self.telegram_token,
            self.telegram_webhook_secret,
            self.discord_token,
            self.web_secret,
        )
        values = [s.get_secret_value() for s in secrets if s is not None]
        with suppress(ArgumentError):  # a malformed URL is reported when the engine opens
            values.append(make_url(self.database_url).password or "")
        register_secrets(values)

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
