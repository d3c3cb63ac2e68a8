"""Commands for every platform: name → permission → one unit of work → after-commit effects."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.core.commands import (
    COMMANDS,
    NO_DESK,
    NO_PRIVATE,
    NOT_LINKED,
    REFUSAL,
    DeskLogin,
    PurgeFreePages,
    Reschedule,
    command_name,
)
from bot.core.content import clean
from bot.core.desk import desk_message
from bot.core.events import CommandEvent
from bot.core.moderation import may_moderate
from bot.core.port import ChatPlatform
from bot.core.units.commands import run_command, start_command
from harvest.errors import FanqaError
from storage.database import Database
from storage.repo.privacy import purge_free_pages
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
    composition root); ``scheduling``: the running scheduler, None when none runs here;
    ``desk_url``: the review desk's address for ``/desk`` links, None when there is no desk.
    """

    def __init__(
        self,
        db: Database,
        defaults: TrainingDefaults | None = None,
        scheduling: Scheduling | None = None,
        *,
        desk_url: str | None = None,
    ) -> None:
        self.db = db
        self.defaults = defaults or TrainingDefaults()
        self.scheduling = scheduling
        self.desk_url = desk_url

    async def handle(self, event: CommandEvent, platform: ChatPlatform) -> str:
        """The reply text for ``event``; empty for a re-delivered one; never raises on bad
        input (the error becomes a one-line reply)."""
        name = command_name(event.name)
        spec = COMMANDS.get(name)
        if spec is None:
            return f"Unknown command /{name}. Try /help."
        if name == "desk" and self.desk_url is None:
            return NO_DESK
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
            if isinstance(effect, DeskLogin):
                if not await self._send_desk_link(effect, event, platform):
                    return NO_PRIVATE
            else:
                await self._apply(effect)
        return clean(reply)  # it may quote members' text (/pending); adapters split long ones

    async def _send_desk_link(
        self, effect: DeskLogin, event: CommandEvent, platform: ChatPlatform
    ) -> bool:
        """The login link, in private to the caller only; False when the platform refuses."""
        url = f"{(self.desk_url or '').rstrip('/')}/login/{effect.token}"
        try:
            await platform.send_private(event.user_id, desk_message(url))
        except FanqaError as exc:
            log.info("no private message to %s: %s", event.user_id, exc)
            return False
        return True

    async def _apply(self, effect: object) -> None:
        """After the commit: the scheduler's job store writes too, so off the loop."""
        if isinstance(effect, Reschedule) and self.scheduling is not None:
            await self.db.offload(
                self.scheduling.apply, effect.community_id, effect.cron, effect.timezone
            )
        elif isinstance(effect, PurgeFreePages):
            await self.db.offload(purge_free_pages, self.db.engine)
