"""The discord.py client fanqa runs: intents, sharding, and parsers that survive bad payloads.

discord.py turns each gateway payload into objects in one parser per event type; an
exception there (a payload missing a field) would end ``Client.connect()`` and take the bot
down. :func:`guard_parsers` wraps every parser so such a payload is logged and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

import discord

__all__ = ["Handlers", "build_client", "guard_parsers", "intents"]

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Guilds, guild messages, message content (privileged), reactions, members (privileged)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    wanted.guild_reactions = True
    wanted.members = True
    return wanted


class Handlers(Protocol):
    """What the client forwards its events to (``DiscordBot``)."""

    async def ready(self) -> None: ...
    async def message(self, message: discord.Message) -> None: ...
    async def edit(self, payload: discord.RawMessageUpdateEvent) -> None: ...
    async def delete(self, payload: discord.RawMessageDeleteEvent) -> None: ...
    async def bulk_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None: ...
    async def reaction(self, payload: discord.RawReactionActionEvent) -> None: ...
    async def guild_join(self, guild: discord.Guild) -> None: ...


class _Forwarding:
    """on_* events → ``self.handlers`` (the raw, cache-free events for edits and reactions)."""

    handlers: Handlers

    async def on_ready(self) -> None:
        await self.handlers.ready()

    async def on_message(self, message: discord.Message) -> None:
        await self.handlers.message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.handlers.edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.handlers.delete(payload)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.handlers.bulk_delete(payload)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.handlers.reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.handlers.reaction(payload)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.handlers.guild_join(guild)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Discord event %s failed; skipped", event_method)


class FanqaClient(_Forwarding, discord.Client):
    """One gateway connection."""


class FanqaShardedClient(_Forwarding, discord.AutoShardedClient):
    """As many shards as Discord recommends (``GET /gateway/bot``), for large deployments.

    Shards identify ``max_concurrency`` at a time (Discord's ``session_start_limit``; large
    bots get 16 or more), waiting 5 s only between such rounds rather than before each shard.
    """

    max_concurrency: int = 1

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if initial or shard_id is None:
            return
        if shard_id % max(self.max_concurrency, 1) == 0:
            await asyncio.sleep(5.0)


def _guarded(event: str, parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse_or_skip(data: Any) -> Any:
        try:
            return parse(data)
        except Exception:
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            log.exception("skipped a malformed %s payload (keys: %s)", event, keys)
            return None

    return parse_or_skip


def guard_parsers(client: discord.Client) -> None:
    """Make every gateway parser of ``client`` log and skip a payload it cannot parse."""
    state: Any = client._connection  # the one place discord.py builds objects from payloads
    parsers: dict[str, Callable[[Any], Any]] = state.parsers
    for event, parse in list(parsers.items()):
        parsers[event] = _guarded(event, parse)


def build_client(
    handlers: Handlers,
    *,
    sharded: bool = False,
    guild_ready_timeout: float = 2.0,
    max_messages: int = 1000,
) -> discord.Client:
    """A client with fanqa's intents whose events go to ``handlers``.

    Members are not chunked at start-up (large guilds would take minutes); moderators are
    looked up through the REST API when a member is not cached.
    """
    cls = FanqaShardedClient if sharded else FanqaClient
    client = cls(
        intents=intents(),
        chunk_guilds_at_startup=False,
        guild_ready_timeout=guild_ready_timeout,
        max_messages=max_messages,
        allowed_mentions=discord.AllowedMentions.none(),
    )
    client.handlers = handlers
    guard_parsers(client)
    return client
