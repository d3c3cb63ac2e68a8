"""An ``ExtBot`` whose polling survives an update python-telegram-bot cannot parse.

Stock PTB parses a ``getUpdates`` batch all at once; one update it cannot de-serialise
makes the whole batch fail, the offset never moves, and polling fetches the same broken
batch forever: the bot goes deaf. Here the batch is parsed again one update at a time and a
broken update is replaced by an empty ``Update`` with the same id: it is logged, no handler
matches it, and the offset moves past it.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ExtBot

__all__ = ["SafeExtBot", "hide_token"]

log = logging.getLogger(__name__)

# Loggers that may print a URL, and so the token: PTB logs its base URL at DEBUG, httpx
# every request URL at INFO.
_URL_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "telegram.ext.Updater", "httpx")


class _Redact(logging.Filter):
    """Replaces bot tokens in a record's message with ``<token>``."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        hidden = text
        for token in self.tokens:
            hidden = hidden.replace(token, "<token>")
        if hidden != text:
            record.msg, record.args = hidden, None
        return True


_REDACT = _Redact()


def hide_token(token: str) -> None:
    """Keep ``token`` out of every log line of the loggers that print Bot API URLs."""
    _REDACT.tokens.add(token)
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


class SafeExtBot(ExtBot[Any]):
    """``ExtBot`` that skips (and logs) updates it cannot parse instead of stalling."""

    _raw_updates: list[Any] | None = None

    async def _post(self, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, *args, **kwargs)
        if endpoint == "getUpdates":
            self._raw_updates = result if isinstance(result, list) else None
        return result

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise
        except Exception:
            raw = self._raw_updates
            if raw is None:
                raise
        return tuple(self._parse_each(raw))

    def _parse_each(self, raw: list[Any]) -> list[Update]:
        updates = []
        for item in raw:
            try:
                update = Update.de_json(item, self)
            except Exception as exc:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                if not isinstance(update_id, int):
                    log.error("telegram: dropped an update without an id: %s", exc)
                    continue
                log.error("telegram: skipped malformed update %s: %s", update_id, exc)
                update = Update(update_id=update_id)
            if update is not None:
                updates.append(update)
        return updates
