"""Commands for every platform: name → permission → one unit of work → after-commit effects."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.core.commands import COMMANDS, NOT_LINKED, REFUSAL, Reschedule, command_name
from bot.core.events import CommandEvent
from bot.core.moderation import may_moderate
from bot.core.port import ChatPlatform
from bot.core.units.commands import run_command, start_command
from harvest.errors import FanqaError
from storage.database import Database
from trainer.enqueue import TrainingDefaults

__all__ = ["CommandHandler", "Scheduling"]

log = logging.getLogger(__name__)


class Scheduling(Protocol):
    """The port ``/schedule`` reaches the running training scheduler through."""

    def apply(self, community_id: int, cron: str, timezone: str) -> bool:
        """(Re)schedule a community's training tick; True when it changed."""
        ...


class CommandHandler:
    """Runs a command in the chat's community; refuses moderator commands to others.

    ``defaults``: backend and base model of runs queued from chat (from the settings, at the
    composition root); ``scheduling``: the running scheduler, None when none runs here.
    """

    def __init__(
        self,
        db: Database,
        defaults: TrainingDefaults | None = None,
        scheduling: Scheduling | None = None,
    ) -> None:
        self.db = db
        self.defaults = defaults or TrainingDefaults()
        self.scheduling = scheduling

    async def handle(self, event: CommandEvent, platform: ChatPlatform) -> str:
        """The reply text for ``event``; empty for a re-delivered one; never raises on bad
        input (the error becomes a one-line reply)."""
        name = command_name(event.name)
        spec = COMMANDS.get(name)
        if spec is None:
            return f"Unknown command /{name}. Try /help."
        start = await self.db.run(
            start_command, event.platform, event.chat_id, event.user_id, event.message_id
        )
        if start.repeated:
            log.info("command %s in %s delivered again: not run twice", name, event.chat_id)
            return ""
        if start.community_id is None:
            return NOT_LINKED
        if spec.moderator_only:
            allowed = may_moderate(start.role, None)
            if allowed is None:
                allowed = await platform.is_moderator(event.chat_id, event.user_id)
            if not allowed:
                return REFUSAL
        try:
            reply, effects = await self.db.run(
                run_command,
                name,
                start.community_id,
                event.platform,
                event.chat_id,
                event.user_id,
                event.user_name,
                tuple(event.args),
                self.defaults,
            )
        except FanqaError as exc:
            return str(exc)
        for effect in effects:
            await self._apply(effect)
        return reply

    async def _apply(self, effect: object) -> None:
        """After the commit: the scheduler's job store writes too, so off the loop."""
        if isinstance(effect, Reschedule) and self.scheduling is not None:
            await self.db.offload(
                self.scheduling.apply, effect.community_id, effect.cron, effect.timezone
            )
