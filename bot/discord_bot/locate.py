"""Where Discord messages live: chat / thread places, thread questions, message → channel.

fanqa stores a thread's messages in the parent channel's chat. Replies inside a thread often
do not use Discord's reply button, so the adapter ties them to the thread's question (its
root): the message the thread was started from (same id as the thread; in a forum, the post
itself), else the thread's first message. Roots and the channel of recently seen messages are
remembered in bounded maps; what is not cached is asked from the REST API.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import discord

from bot.discord_bot.translate import Place

__all__ = ["Locator"]

log = logging.getLogger(__name__)

_PLAIN_CHANNELS = (
    discord.TextChannel,
    discord.ForumChannel,
    discord.VoiceChannel,
    discord.StageChannel,
)


class _Bounded(OrderedDict[int, int]):
    """A dict that forgets its oldest entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: int, value: int) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class Locator:
    """Resolves places and thread roots for one client (cache first, then REST)."""

    def __init__(self, client: discord.Client, *, remember: int = 20_000) -> None:
        self.client = client
        self._where = _Bounded(remember)  # message id → the channel (or thread) it is in
        self._roots = _Bounded(remember)  # thread id → its question's message id

    def remember(self, message_id: int, channel_id: int) -> None:
        self._where.put(message_id, channel_id)

    def channel_of(self, message_id: int) -> int | None:
        """The channel or thread a recently seen message is in."""
        return self._where.get(message_id)

    def place_of(self, channel: Any) -> Place | None:
        """The place of a cached channel object; None for DMs and unknown channels."""
        if isinstance(channel, discord.Thread):
            return Place(str(channel.parent_id), str(channel.id), channel.id, channel.guild.id)
        if isinstance(channel, _PLAIN_CHANNELS):
            return Place(str(channel.id), None, channel.id, channel.guild.id)
        return None

    async def channel(self, channel_id: int) -> Any:
        """A guild channel or thread by id: from the cache, else fetched (None if gone)."""
        found = self.client.get_channel(channel_id)
        if found is not None:
            return found
        try:
            return await self.client.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def place(self, channel: Any) -> Place | None:
        """The place of a channel object or id, fetching it when it is not cached."""
        if isinstance(channel, int):
            channel = await self.channel(channel)
        elif isinstance(channel, discord.PartialMessageable) and channel.guild is not None:
            channel = await self.channel(channel.id)
        return self.place_of(channel)

    async def thread_root(self, thread: discord.Thread) -> int | None:
        """The id of the message that asks the thread's question (None if it has none)."""
        known = self._roots.get(thread.id)
        if known is not None:
            return known
        root = await self._find_root(thread)
        if root is not None:
            self._roots.put(thread.id, root)
        return root

    async def _find_root(self, thread: discord.Thread) -> int | None:
        parent = thread.parent
        if parent is None:
            parent = await self.channel(thread.parent_id)
        if isinstance(parent, discord.ForumChannel):
            return thread.id  # a forum post's first message has the thread's id
        try:
            await self.client.http.get_message(thread.parent_id, thread.id)
        except (discord.NotFound, discord.Forbidden):
            pass
        else:
            return thread.id  # started from a message of the parent channel
        try:
            async for first in thread.history(limit=1, oldest_first=True):
                return first.id
        except discord.HTTPException:
            log.warning("could not read the first message of thread %s", thread.id)
        return None
