"""The one secret sanitizer: masks configured secrets and key-shaped strings in any text.

Every sink that can carry a provider's or a platform's error text runs through it:

- log records (``install_log_sanitizer``, called by the CLI at start-up: message, arguments
  and the formatted traceback of every record, whatever handler prints it),
- the CLI error printer (``bot.cli.errors``),
- the database columns that hold error or notification text (``storage.sinks``: a run's
  ``error``, a notification's ``text`` and ``error``, masked at flush),
- chat notifications (the outbox rows above are what the bot posts).

Configured secrets (the OpenAI key, the Telegram and Discord tokens, the webhook secret)
are registered by ``bot.settings.Settings`` when it loads; besides those, ``Authorization``
header values, ``Bearer`` tokens, ``key=…`` assignments and vendor key shapes (``sk-…``,
Telegram and Discord tokens, GitHub, AWS, Google, Slack) are masked even when nobody
registered them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MASK",
    "install_log_sanitizer",
    "register_secrets",
    "registered_secret_count",
    "sanitize",
]

MASK = "[REDACTED]"

# A secret shorter than this is not registered: masking "abc" everywhere would garble text.
_MIN_SECRET = 6

_KEY_SHAPES = (
    r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{8,}",  # OpenAI / Anthropic
    r"(?<![\w:])\d{8,10}:[A-Za-z0-9_-]{35}(?![\w-])",  # Telegram bot token
    r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b",  # Discord
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub
    r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
    r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",  # Slack
)
_SHAPED = re.compile("|".join(f"(?:{p})" for p in _KEY_SHAPES))
# "Authorization: Bearer x", "'authorization': 'Basic x'", "Bearer x" (any scheme, any value)
_AUTH_HEADER = re.compile(
    r"(?i)(?P<name>\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?:[A-Za-z]+\s+)?[^\s\"',;}]+)"
)
_BEARER = re.compile(r"(?i)(?P<name>\bbearer\s+)(?P<value>[^\s\"',;}]+)")
# api_key=…, "x-api-key": "…", token: … (the name stays, the value goes)
_ASSIGNED = re.compile(
    r"(?i)(?P<name>\b[a-z_-]*(?:api[_-]?key|token|secret|passw(?:or)?d)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[A-Za-z0-9+/=_.:-]{8,})"
)
# A Telegram token inside a Bot API URL: /bot123456:ABC…/getMe
_BOT_URL = re.compile(r"(?P<name>/bot)(?P<value>\d{5,}:[A-Za-z0-9_-]{10,})")

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_secret_re: re.Pattern[str] | None = None


def register_secrets(values: Iterable[str | None]) -> None:
    """Add configured secret values (None and very short values are ignored)."""
    global _secrets, _secret_re
    new = {v for v in values if v and len(v) >= _MIN_SECRET}
    with _lock:
        if new <= _secrets:
            return
        _secrets = _secrets | new
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial masks
        _secret_re = re.compile("|".join(re.escape(v) for v in ordered))


def registered_secret_count() -> int:
    """How many configured secret values are masked (for ``fanqa run --check``)."""
    return len(_secrets)


def _keep_name(match: re.Match[str]) -> str:
    return match.group("name") + MASK


def sanitize(text: str) -> str:
    """``text`` with every configured secret and key-shaped string replaced by ``MASK``."""
    if not text:
        return text
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _AUTH_HEADER.sub(_keep_name, text)
    text = _BEARER.sub(_keep_name, text)
    text = _BOT_URL.sub(_keep_name, text)
    text = _ASSIGNED.sub(_keep_name, text)
    return _SHAPED.sub(MASK, text)


_installed = False


def install_log_sanitizer() -> None:
    """Mask secrets in every log record created from now on (idempotent).

    A record factory rather than a handler filter: it holds for records of every logger and
    every handler, including ones added later (a file handler, pytest's capture). The
    message is rendered once, masked, and stored without arguments; a traceback is
    formatted and masked into ``exc_text``, which the standard formatter prints as is.
    """
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = sanitize(message), None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = sanitize(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = sanitize(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
