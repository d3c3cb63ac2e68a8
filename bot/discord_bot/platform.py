"""``DiscordPlatform``: the core's ChatPlatform port implemented with discord.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord

from bot.discord_bot.locate import Locator
from bot.discord_bot.text import MAX_MESSAGE, split_message
from bot.discord_bot.translate import PLATFORM
from harvest.errors import PlatformError

__all__ = ["DiscordPlatform", "is_moderator_permissions"]

_NO_PINGS = discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=True)


def is_moderator_permissions(permissions: discord.Permissions) -> bool:
    """What makes a Discord member a moderator for fanqa: Manage Messages or Administrator."""
    return permissions.manage_messages or permissions.administrator


class DiscordPlatform:
    """Sends, replies, reacts and checks moderators in guild channels and threads.

    ``chat_id`` is the parent channel of a thread; the thread a message lives in comes from
    the locator (messages seen recently), so replies land next to the message they answer.
    """

    name = PLATFORM
    text_limit = MAX_MESSAGE

    def __init__(self, client: discord.Client, locator: Locator) -> None:
        self.client = client
        self.locator = locator

    async def _target(self, chat_id: str, message_id: str | None = None) -> Any:
        channel_id = int(chat_id)
        if message_id is not None:
            channel_id = self.locator.channel_of(int(message_id)) or channel_id
        channel = await self.locator.channel(channel_id)
        if channel is None or not hasattr(channel, "send"):
            raise PlatformError(f"no Discord channel {channel_id} to post in", platform=PLATFORM)
        return channel

    async def _send_chunks(
        self, channel: Any, text: str, reference: discord.MessageReference | None = None
    ) -> str:
        chunks = split_message(text) or ["\u200b"]
        first: discord.Message | None = None
        try:
            for chunk in chunks:
                sent = await channel.send(
                    chunk,
                    reference=reference if first is None else None,
                    allowed_mentions=_NO_PINGS,
                )
                self.locator.remember(sent.id, channel.id)
                first = first or sent
        except discord.HTTPException as exc:
            raise PlatformError(f"Discord refused a message: {exc}", platform=PLATFORM) from exc
        assert first is not None
        return str(first.id)

    async def reply(self, chat_id: str, to_message_id: str, text: str) -> str:
        """Reply to a message (split over several messages past 2,000 characters)."""
        channel = await self._target(chat_id, to_message_id)
        reference = discord.MessageReference(
            message_id=int(to_message_id), channel_id=channel.id, fail_if_not_exists=False
        )
        return await self._send_chunks(channel, text, reference)

    async def send(self, chat_id: str, text: str) -> str:
        return await self._send_chunks(await self._target(chat_id), text)

    async def send_photo(self, chat_id: str, path: Path, caption: str) -> str:
        """Upload an image with its caption (the caption's overflow follows as text)."""
        channel = await self._target(chat_id)
        head, *rest = split_message(caption) or [""]
        try:
            sent = await channel.send(head, file=discord.File(path), allowed_mentions=_NO_PINGS)
        except discord.HTTPException as exc:
            raise PlatformError(f"Discord refused an upload: {exc}", platform=PLATFORM) from exc
        self.locator.remember(sent.id, channel.id)
        if rest:
            await self._send_chunks(channel, "\n".join(rest))
        return str(sent.id)

    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        channel = await self._target(chat_id, message_id)
        try:
            await channel.get_partial_message(int(message_id)).add_reaction(emoji)
        except discord.HTTPException as exc:
            raise PlatformError(f"Discord refused a reaction: {exc}", platform=PLATFORM) from exc

    async def send_private(self, user_id: str, text: str) -> str:
        """A direct message (the user's DM channel); PlatformError when Discord refuses,
        e.g. the user does not accept DMs from server members."""
        try:
            user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
            channel = user.dm_channel or await user.create_dm()
            sent = await channel.send(text, allowed_mentions=_NO_PINGS, suppress_embeds=True)
        except discord.HTTPException as exc:
            raise PlatformError(
                f"Discord refused a direct message: {exc}", platform=PLATFORM
            ) from exc
        return str(sent.id)

    async def is_moderator(self, chat_id: str, user_id: str) -> bool:
        """Manage Messages or Administrator in the guild of ``chat_id`` (member fetched if
        not cached; someone who is not in that guild is no moderator there)."""
        channel = await self.locator.channel(int(chat_id))
        guild = getattr(channel, "guild", None)
        if guild is None:
            return False
        member = guild.get_member(int(user_id))
        if member is None:
            try:
                member = await guild.fetch_member(int(user_id))
            except (discord.NotFound, discord.Forbidden):
                return False
            except discord.HTTPException as exc:
                raise PlatformError(f"could not look up member: {exc}", platform=PLATFORM) from exc
        return is_moderator_permissions(member.guild_permissions)

    def message_link(self, chat_id: str, message_id: str) -> str | None:
        """A jump link to a message (from the client's cache: no request)."""
        channel = self.client.get_channel(int(chat_id))
        guild = getattr(channel, "guild", None)
        if guild is None:
            return None
        where = self.locator.channel_of(int(message_id))
        if where is None and isinstance(channel, discord.ForumChannel):
            where = int(message_id)  # a forum post's question has its thread's id
        return f"https://discord.com/channels/{guild.id}/{where or chat_id}/{message_id}"
