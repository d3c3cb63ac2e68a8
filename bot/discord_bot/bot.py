"""``DiscordBot``: discord.py events → the core's ``BotService`` and back (translation only).

Events of one chat (a channel and its threads) are handled one at a time, in the order the
gateway delivered them, so an answer is never harvested before its question. Every decision
(who moderates, what a reaction means, when to answer) is the service's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import discord
from discord import app_commands
from sqlalchemy.exc import IntegrityError

from bot.core.commands import REFUSAL
from bot.core.events import CommandEvent, ReactionEvent
from bot.core.service import BotService
from bot.core.units.chats import linked_chats
from bot.core.warm_up import warm_up
from bot.discord_bot.client import FanqaShardedClient, build_client
from bot.discord_bot.commands import build_commands
from bot.discord_bot.locate import Locator
from bot.discord_bot.platform import DiscordPlatform
from bot.discord_bot.text import split_message
from bot.discord_bot.translate import (
    PLATFORM,
    Place,
    delete_event,
    edit_event,
    is_content,
    message_event,
    prompt_of,
    reaction_event,
    reply_target,
)
from bot.runtime import settle_heap
from harvest.errors import PlatformError

__all__ = ["DiscordBot"]

log = logging.getLogger(__name__)
_MAX_LOCKS = 4096
T = TypeVar("T")


async def _once_more_on_conflict(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``; once more if it lost a race to create the same row.

    Events of different chats run concurrently; two first messages of one author in two
    chats of a community both try to create that member. The loser's transaction is rolled
    back whole, so running it again is safe (and then finds the row).
    """
    try:
        return await call()
    except IntegrityError:
        log.info("a concurrent event created the same row first; retrying")
        return await call()


class DiscordBot:
    """The Discord side of fanqa: ``await start()``, ``await stop()`` or ``run_forever()``.

    ``defer_after``: seconds a slash command may take before the bot defers the interaction
    (Discord wants a first response within 3 s) and answers with a follow-up instead.
    """

    def __init__(
        self,
        service: BotService,
        token: str,
        *,
        sharded: bool = False,
        guild_ready_timeout: float = 2.0,
        defer_after: float = 2.0,
    ) -> None:
        self.service = service
        self._token = token
        self.defer_after = defer_after
        self.client = build_client(self, sharded=sharded, guild_ready_timeout=guild_ready_timeout)
        self.locator = Locator(self.client)
        self.platform = DiscordPlatform(self.client, self.locator)
        self.tree = app_commands.CommandTree(self.client)
        for command in build_commands(self._run_command, self._approve_menu):
            self.tree.add_command(command)
        self.tree.on_error = self._tree_error  # type: ignore[method-assign]
        service.register(self.platform)
        self._locks: dict[str, asyncio.Lock] = {}
        self._ready = asyncio.Event()
        self._synced: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def __repr__(self) -> str:  # never show the token
        return f"<DiscordBot user={self.client.user!s} sharded={self.client.shard_count}>"

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, timeout: float = 60.0) -> None:
        """Log in, connect in a background task and wait until the guilds are ready."""
        self._stopping = False
        try:
            await self.client.login(self._token)
        except discord.LoginFailure as exc:
            await self.client.close()
            raise PlatformError("Discord rejected the bot token", platform=PLATFORM) from exc
        except (aiohttp.ClientError, OSError) as exc:  # no network, DNS, TLS: say so plainly
            await self.client.close()
            raise PlatformError(
                f"cannot reach Discord ({type(exc).__name__}: {exc}); check the network",
                platform=PLATFORM,
            ) from None
        except BaseException:
            await self.client.close()
            raise
        user = self.client.user
        log.info("logged in to Discord as %s (id %s)", user, user.id if user else "?")
        # the harvest path compiled before the first event (bot.core.warm_up), then frozen
        await self.service.db.offload(warm_up, self.service.engine, PLATFORM)
        settle_heap()  # before the gateway connects: no full collection stalls events later
        if isinstance(self.client, FanqaShardedClient):
            _, _, limits = await self.client.http.get_bot_gateway()
            self.client.max_concurrency = int(limits.get("max_concurrency", 1))
        self._task = asyncio.create_task(self._connect(), name="discord-gateway")
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=timeout, return_when="FIRST_COMPLETED"
        )
        if ready not in done:
            ready.cancel()
            failed = self._task if self._task in done else None
            await self.stop()
            if failed is not None and failed.exception() is not None:
                raise PlatformError(
                    f"Discord connection failed: {failed.exception()}", platform=PLATFORM
                ) from failed.exception()
            raise PlatformError("Discord did not become ready in time", platform=PLATFORM)

    async def _connect(self) -> None:
        """Keep the gateway connected: discord.py reconnects on network errors; anything else
        that ends the connection is logged and retried with backoff until ``stop()``."""
        delay = 1.0
        while not self._stopping and not self.client.is_closed():
            try:
                await self.client.connect(reconnect=True)
            except (discord.PrivilegedIntentsRequired, discord.LoginFailure):
                log.error(
                    "Discord refused the connection: enable the Message Content and "
                    "Server Members intents for this application"
                )
                raise
            except Exception:
                if self._stopping or self.client.is_closed():
                    return
                log.exception("Discord connection failed; reconnecting in %.0f s", delay)
                if self.client.ws is not None:
                    await self.client.ws.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
            else:
                return

    async def stop(self) -> None:
        """Close the connection and the HTTP session."""
        self._stopping = True
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(self._task, 10)  # closing: its outcome no longer matters
            self._task = None
        self._ready.clear()

    async def run_forever(self) -> None:
        """Start and run until cancelled or the connection gives up for good."""
        await self.start()
        try:
            assert self._task is not None
            await self._task
        finally:
            await self.stop()

    # -- commands sync ------------------------------------------------------------------

    async def _linked_channels(self) -> set[int]:
        chats = await self.service.db.run(linked_chats, PLATFORM)
        return {int(i) for _, i, _ in chats if i.isdigit()}

    async def sync_guilds(self) -> list[int]:
        """Sync slash commands to every guild with a linked channel; returns their ids."""
        linked = await self._linked_channels()
        synced = []
        for guild in self.client.guilds:
            if guild.id in self._synced or not any(c.id in linked for c in guild.channels):
                continue
            await self.sync_commands(guild)
            synced.append(guild.id)
        return synced

    async def sync_commands(self, guild: discord.abc.Snowflake) -> None:
        """Register the slash commands in one guild (instant, unlike global commands)."""
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)
        self._synced.add(guild.id)
        log.info("slash commands synced to guild %s", guild.id)

    # -- events (Handlers) --------------------------------------------------------------

    async def ready(self) -> None:
        try:
            await self.sync_guilds()
        except Exception:  # commands are a convenience: harvesting must still start
            log.exception("could not sync slash commands")
        finally:
            self._ready.set()

    async def guild_join(self, guild: discord.Guild) -> None:
        if self._ready.is_set():
            await self.sync_guilds()

    def _lock(self, channel: Any) -> asyncio.Lock:
        """The lock of the chat a channel (or thread) belongs to."""
        parent = (
            getattr(channel, "parent_id", None) if isinstance(channel, discord.Thread) else None
        )
        key = str(parent or getattr(channel, "id", channel))
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) >= _MAX_LOCKS:
                for stale in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[stale]
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def _is_me(self, user_id: int) -> bool:
        return self.client.user is not None and user_id == self.client.user.id

    async def message(self, message: discord.Message) -> None:
        if message.guild is None or self._is_me(message.author.id):
            return
        async with self._lock(message.channel):
            place = await self.locator.place(message.channel)
            if place is None:
                return
            self.locator.remember(message.id, place.channel_id)
            reply_to, is_root = await self._thread_link(message, place)
            bot_id = self.client.user.id if self.client.user else 0
            event = message_event(
                message, place, bot_id=bot_id, reply_to_id=reply_to, is_root=is_root
            )
            prompt = prompt_of(message, bot_id) if event.mentions_bot else None
            await _once_more_on_conflict(
                lambda: self.service.on_message(event, self.platform, prompt=prompt)
            )

    async def _thread_link(self, message: discord.Message, place: Place) -> tuple[str | None, bool]:
        """The reply target and whether the message is its thread's question.

        A message in a thread that does not use the reply button keeps no reply target: the
        harvest engine pairs it with the thread's question by its ``thread_id``, as it does
        an export's thread messages (one rule, import and live).
        """
        reply_to = reply_target(message, place)
        if place.thread_id is None or not is_content(message):
            return reply_to, False
        if message.id == int(place.thread_id):
            return None, True  # a forum post: the thread's question itself
        if reply_to is not None:
            return reply_to, False
        thread = await self.locator.channel(place.channel_id)
        if not isinstance(thread, discord.Thread):
            return None, False
        root = await self.locator.thread_root(thread)
        return None, root == message.id

    async def edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        message = payload.message
        author = getattr(message, "author", None)  # absent from a partial update
        if message.guild is None or author is None or self._is_me(author.id):
            return
        async with self._lock(message.channel):
            place = await self.locator.place(message.channel)
            event = edit_event(message, place) if place is not None else None
            if event is not None:
                await self.service.on_edit(event)

    async def delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._deleted(payload.guild_id, payload.channel_id, [payload.message_id])

    async def bulk_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self._deleted(payload.guild_id, payload.channel_id, sorted(payload.message_ids))

    async def _deleted(self, guild_id: int | None, channel_id: int, ids: list[int]) -> None:
        if guild_id is None:
            return
        async with self._lock(self.client.get_channel(channel_id) or channel_id):
            place = await self.locator.place(channel_id)
            if place is None:
                return
            for message_id in ids:
                await self.service.on_delete(delete_event(message_id, place))

    async def reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None or self._is_me(payload.user_id):
            return
        async with self._lock(self.client.get_channel(payload.channel_id) or payload.channel_id):
            place = await self.locator.place(payload.channel_id)
            if place is None:
                return
            event = reaction_event(payload, place)
            outcome = await _once_more_on_conflict(
                lambda: self.service.on_reaction(event, self.platform)
            )
            log.debug("reaction on %s: %s", payload.message_id, outcome.text)

    # -- interactions -------------------------------------------------------------------

    async def _chat_of(self, interaction: discord.Interaction) -> str:
        place = await self.locator.place(interaction.channel or interaction.channel_id or 0)
        return place.chat_id if place is not None else str(interaction.channel_id)

    async def _run_command(
        self, interaction: discord.Interaction, name: str, args: tuple[str, ...], ephemeral: bool
    ) -> None:
        user = interaction.user
        event = CommandEvent(
            PLATFORM, await self._chat_of(interaction), str(user.id), user.display_name, name, args
        )
        await self._respond(interaction, self.service.on_command(event, self.platform), ephemeral)

    async def _approve_menu(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        user = interaction.user
        chat_id = await self._chat_of(interaction)
        self.locator.remember(message.id, message.channel.id)
        event = ReactionEvent(
            PLATFORM, chat_id, str(message.id), str(user.id), user.display_name, "✅", True
        )

        async def verdict() -> str:
            outcome = await self.service.on_reaction(event, self.platform)
            return REFUSAL if outcome.reason == "not a moderator" else outcome.text

        await self._respond(interaction, verdict(), True)

    async def _respond(
        self, interaction: discord.Interaction, work: Awaitable[str], ephemeral: bool
    ) -> None:
        """Answer with the text ``work`` produces; defer first when it takes long."""
        task = asyncio.ensure_future(work)
        try:
            text = await asyncio.wait_for(asyncio.shield(task), self.defer_after)
        except TimeoutError:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
            chunks = split_message(await task) or ["✓"]
            for chunk in chunks:
                await interaction.followup.send(chunk, ephemeral=ephemeral)
            return
        first, *rest = split_message(text) or ["✓"]
        await interaction.response.send_message(first, ephemeral=ephemeral)
        for chunk in rest:
            await interaction.followup.send(chunk, ephemeral=ephemeral)

    async def _tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("slash command failed: %s", error, exc_info=error)
        if not interaction.response.is_done():
            await interaction.response.send_message(
                "Something went wrong. / 出错了。", ephemeral=True
            )
