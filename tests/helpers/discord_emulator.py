"""A local Discord REST + gateway emulator that the real discord.py client talks to.

One aiohttp server on 127.0.0.1 serves the REST routes the bot uses under ``/api/v10`` and a
gateway websocket at ``/gateway`` (HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeat ACK).
Tests build guilds, channels, roles and members, then act as users: :meth:`post`,
:meth:`edit`, :meth:`delete`, :meth:`react`, :meth:`create_thread`, :meth:`slash` dispatch
Discord-shaped payloads, and :meth:`wait_sent` waits for what the bot posts. :meth:`rate_limit`
answers the next N calls of a route with a 429 (``retry_after``, ``X-RateLimit-*``, ``Via``).
:meth:`patched` points ``discord.http.Route.BASE`` and the gateway URL here (and restores them).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import discord
import yarl
from aiohttp import WSMsgType, web

__all__ = ["APP_ID", "DiscordEmulator", "Guild", "SentMessage", "snowflake"]

DISCORD_EPOCH_MS = 1_420_070_400_000
APP_ID = 900_000_000_000_000_001
BOT_ID = 900_000_000_000_000_002
_counter = itertools.count(1)
T = TypeVar("T")
_JSON = "application/json"  # exactly: discord.py parses only this content type


def snowflake(at: datetime | None = None) -> int:
    """A fresh Discord id whose timestamp is ``at`` (now by default)."""
    ms = int((at or datetime.now(UTC)).timestamp() * 1000)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (next(_counter) % (1 << 22))


def _iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat()


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A Discord user object."""
    return {
        "id": str(user_id),
        "username": name.lower().replace(" ", "_"),
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


@dataclass
class Guild:
    """A guild the bot is in: channels, roles (id → permissions) and members."""

    id: int
    name: str
    owner_id: int
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)
    roles: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, dict[str, Any]] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": _iso(),
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": list(self.roles.values()),
            "channels": list(self.channels.values()),
            "threads": list(self.threads.values()),
            "members": list(self.members.values()),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
        }


@dataclass(frozen=True)
class SentMessage:
    """A message the bot created through REST."""

    id: int
    channel_id: int
    content: str
    reply_to: int | None
    files: tuple[str, ...]
    at: float


class DiscordEmulator:
    """See the module docstring. ``await start()`` / ``await close()``, or ``async with``."""

    def __init__(self, *, shards: int = 1, max_concurrency: int = 1) -> None:
        self.shards = shards
        self.max_concurrency = max_concurrency
        self.bot = user_payload(BOT_ID, "fanqa", bot=True)
        self.guilds: dict[int, Guild] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.sent: list[SentMessage] = []
        self.reactions: list[tuple[int, int, str]] = []  # (channel, message, emoji) by the bot
        self.commands: dict[int, list[dict[str, Any]]] = {}  # guild → synced commands
        self.responses: list[dict[str, Any]] = []  # interaction callbacks and follow-ups
        self.requests: list[tuple[str, str, float, int]] = []  # method, route, time, status
        self.identified: list[dict[str, Any]] = []
        self.unauthorized: list[str] = []  # REST calls with a wrong Authorization header
        self.token = "emulated.token.value"
        self._limits: dict[tuple[str, str], list[float]] = {}
        self._sockets: dict[int, web.WebSocketResponse] = {}
        self._seq = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> DiscordEmulator:
        app = web.Application(middlewares=[self._middleware])
        api = "/api/v10"
        routes = [
            ("GET", "/gateway/bot", self._gateway_bot),
            ("GET", "/gateway", self._gateway_plain),
            ("GET", "/users/@me", self._me),
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/applications/@me", self._application),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("GET", "/channels/{channel_id}/messages", self._history),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._add_reaction,
            ),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._sync),
            ("PUT", "/applications/{app_id}/commands", self._sync_global),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app_id}/{token}", self._followup),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, api + path, handler)
        app.router.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def close(self) -> None:
        for ws in list(self._sockets.values()):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> DiscordEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @contextmanager
    def patched(self) -> Iterator[None]:
        """Point discord.py's REST base and gateway at this emulator, restoring them after."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = f"http://127.0.0.1:{self.port}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # -- world building -----------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False, user_id: int | None = None) -> int:
        uid = user_id or snowflake()
        self.users[uid] = user_payload(uid, name, bot=bot)
        return uid

    def add_guild(self, name: str, owner: str = "Owner", *, shard: int | None = None) -> Guild:
        """A guild with an @everyone role (no moderation rights) and the bot as a member;
        ``shard``: pick an id that lands on that shard."""
        owner_id = self.add_user(owner)
        guild_id = snowflake()
        while shard is not None and self._shard_of(guild_id) != shard:
            guild_id += 1 << 22  # one millisecond later
        guild = Guild(guild_id, name, owner_id)
        guild.roles[guild.id] = _role(guild.id, "@everyone", discord.Permissions.general())
        self.guilds[guild.id] = guild
        self.add_member(guild, owner_id)
        self.add_member(guild, BOT_ID)
        return guild

    def add_role(self, guild: Guild, name: str, permissions: discord.Permissions) -> int:
        role_id = snowflake()
        guild.roles[role_id] = _role(role_id, name, permissions, position=len(guild.roles))
        return role_id

    def add_member(self, guild: Guild, user_id: int, *roles: int) -> dict[str, Any]:
        user = self.bot if user_id == BOT_ID else self.users[user_id]
        member = {
            "user": user,
            "nick": None,
            "roles": [str(r) for r in roles],
            "joined_at": _iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }
        guild.members[user_id] = member
        return member

    def add_channel(self, guild: Guild, name: str, *, forum: bool = False) -> int:
        channel_id = snowflake()
        data: dict[str, Any] = {
            "id": str(channel_id),
            "guild_id": str(guild.id),
            "type": 15 if forum else 0,
            "name": name,
            "position": len(guild.channels),
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }
        if forum:
            data.update(
                available_tags=[
                    {
                        "id": str(snowflake()),
                        "name": "solved",
                        "moderated": True,
                        "emoji_name": "✅",
                    }
                ],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                default_thread_rate_limit_per_user=0,
            )
        guild.channels[channel_id] = data
        return channel_id

    def guild_of(self, channel_id: int) -> Guild:
        for guild in self.guilds.values():
            if channel_id in guild.channels or channel_id in guild.threads:
                return guild
        raise KeyError(channel_id)

    def _channel(self, channel_id: int) -> dict[str, Any] | None:
        for guild in self.guilds.values():
            found = guild.channels.get(channel_id) or guild.threads.get(channel_id)
            if found is not None:
                return found
        return None

    # -- gateway ------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        shard = 0
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    shard = (frame["d"].get("shard") or [0, 1])[0]
                    self.identified.append(frame["d"])
                    self._sockets[shard] = ws
                    await self._ready(ws, shard)
                elif op == 6:
                    shard = next((s for s, w in self._sockets.items() if w is ws), shard)
                    self._sockets[shard] = ws
                    await self._send(ws, "RESUMED", {})
        finally:
            if self._sockets.get(shard) is ws:
                del self._sockets[shard]
        return ws

    def _shard_of(self, guild_id: int) -> int:
        return (guild_id >> 22) % self.shards

    async def _ready(self, ws: web.WebSocketResponse, shard: int) -> None:
        mine = [g for g in self.guilds.values() if self._shard_of(g.id) == shard]
        await self._send(
            ws,
            "READY",
            {
                "v": 10,
                "user": self.bot,
                "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
                "session_id": f"session-{shard}",
                "resume_gateway_url": self.gateway_url,
                "shard": [shard, self.shards],
                "application": {"id": str(APP_ID), "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        for guild in mine:
            await self._send(ws, "GUILD_CREATE", guild.payload())

    async def _send(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def dispatch(self, event: str, data: Any, *, guild_id: int | None = None) -> None:
        """Send a dispatch event to the shard that holds ``guild_id`` (or shard 0)."""
        shard = self._shard_of(guild_id) if guild_id is not None else 0
        ws = self._sockets.get(shard)
        if ws is None:
            raise RuntimeError(f"no gateway connection for shard {shard}")
        await self._send(ws, event, data)

    # -- acting as users ----------------------------------------------------------------

    def message_payload(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        message_id: int | None = None,
        reply_to: int | None = None,
        reply_in: int | None = None,
        mentions: tuple[int, ...] = (),
        kind: int | None = None,
        at: datetime | None = None,
        attachments: int = 0,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE-shaped message object (with ``member`` and ``guild_id``).

        ``reply_in``: the channel of the message replied to, when it is another one.
        """
        guild = self.guild_of(channel_id)
        mid = message_id or snowflake(at)
        user = self.bot if author_id == BOT_ID else self.users[author_id]
        data: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "guild_id": str(guild.id),
            "author": user,
            "content": content,
            "timestamp": _iso(at),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [self.bot if u == BOT_ID else self.users[u] for u in mentions],
            "mention_roles": [],
            "attachments": [
                {
                    "id": str(snowflake()),
                    "filename": f"file{i}.png",
                    "size": 100,
                    "url": "https://cdn.discordapp.com/x.png",
                    "proxy_url": "https://media.discordapp.net/x.png",
                }
                for i in range(attachments)
            ],
            "embeds": [],
            "pinned": False,
            "type": kind if kind is not None else (19 if reply_to else 0),
            "flags": 0,
            "components": [],
        }
        member = guild.members.get(author_id)
        if member is not None:
            data["member"] = {k: v for k, v in member.items() if k != "user"}
        if reply_to is not None:
            data["message_reference"] = {
                "type": 0,
                "message_id": str(reply_to),
                "channel_id": str(reply_in or channel_id),
                "guild_id": str(guild.id),
            }
            data["referenced_message"] = self.messages.get(reply_to)
        return data

    async def post(self, channel_id: int, author_id: int, content: str, **kw: Any) -> int:
        """A user posts a message (MESSAGE_CREATE); returns its id."""
        data = self.message_payload(channel_id, author_id, content, **kw)
        mid = int(data["id"])
        self.messages[mid] = data
        await self.dispatch("MESSAGE_CREATE", data, guild_id=int(data["guild_id"]))
        return mid

    async def edit(self, message_id: int, content: str) -> None:
        """The author edits a message (MESSAGE_UPDATE with the full message)."""
        data = dict(self.messages[message_id])
        data.update(content=content, edited_timestamp=_iso())
        self.messages[message_id] = data
        await self.dispatch("MESSAGE_UPDATE", data, guild_id=int(data["guild_id"]))

    async def delete(self, message_id: int) -> None:
        data = self.messages.pop(message_id)
        await self.dispatch(
            "MESSAGE_DELETE",
            {"id": data["id"], "channel_id": data["channel_id"], "guild_id": data["guild_id"]},
            guild_id=int(data["guild_id"]),
        )

    def _reaction(self, message_id: int, user_id: int, emoji: str) -> tuple[dict[str, Any], int]:
        data = self.messages.get(message_id) or next(
            m for m in self.messages.values() if int(m["id"]) == message_id
        )
        guild_id = int(data["guild_id"])
        payload: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": data["channel_id"],
            "message_id": str(message_id),
            "guild_id": str(guild_id),
            "emoji": {"id": None, "name": emoji},
            "type": 0,
            "burst": False,
            "burst_colors": [],
            "message_author_id": data["author"]["id"],
        }
        member = self.guilds[guild_id].members.get(user_id)
        if member is not None:
            payload["member"] = member
        return payload, guild_id

    async def react(
        self, message_id: int, user_id: int, emoji: str, *, with_member: bool = True
    ) -> None:
        """``user_id`` adds a reaction; ``with_member=False`` leaves the member object out."""
        payload, guild_id = self._reaction(message_id, user_id, emoji)
        if not with_member:
            payload.pop("member", None)
        await self.dispatch("MESSAGE_REACTION_ADD", payload, guild_id=guild_id)

    async def unreact(self, message_id: int, user_id: int, emoji: str) -> None:
        payload, guild_id = self._reaction(message_id, user_id, emoji)
        payload.pop("member", None)
        payload.pop("message_author_id", None)
        await self.dispatch("MESSAGE_REACTION_REMOVE", payload, guild_id=guild_id)

    async def create_thread(
        self,
        parent_id: int,
        owner_id: int,
        name: str,
        *,
        thread_id: int | None = None,
        first_message: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """A thread (THREAD_CREATE); in a forum, ``first_message`` is the post (same id).

        ``thread_id``: the id of the parent message the thread starts from, if any.
        """
        guild = self.guild_of(parent_id)
        parent = guild.channels[parent_id]
        forum = parent["type"] == 15
        tid = thread_id or snowflake(at)
        data = {
            "id": str(tid),
            "guild_id": str(guild.id),
            "parent_id": str(parent_id),
            "owner_id": str(owner_id),
            "name": name,
            "type": 11,
            "last_message_id": str(tid) if forum else None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "applied_tags": [],
            "newly_created": True,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": _iso(at),
                "locked": False,
                "create_timestamp": _iso(at),
            },
        }
        guild.threads[tid] = data
        await self.dispatch("THREAD_CREATE", data, guild_id=guild.id)
        if forum and first_message is not None:
            await self.post(tid, owner_id, first_message, message_id=tid, at=at)
        return tid

    async def context_menu(self, channel_id: int, user_id: int, name: str, message_id: int) -> str:
        """A user runs the message context-menu command ``name`` on a message; its token."""
        token = await self._interaction(
            channel_id,
            user_id,
            {
                "id": str(snowflake()),
                "name": name,
                "type": 3,
                "target_id": str(message_id),
                "resolved": {"messages": {str(message_id): self.messages[message_id]}},
            },
        )
        return token

    async def slash(
        self,
        channel_id: int,
        user_id: int,
        group: str,
        command: str,
        args: str | None = None,
        *,
        permissions: discord.Permissions | None = None,
    ) -> str:
        """A user runs ``/group command [args]`` (INTERACTION_CREATE); returns its token."""
        options = [{"name": "args", "type": 3, "value": args}] if args is not None else []
        data: dict[str, Any] = {
            "id": str(snowflake()),
            "name": group,
            "type": 1,
            "options": [{"name": command, "type": 1, "options": options}],
        }
        return await self._interaction(channel_id, user_id, data, permissions)

    async def _interaction(
        self,
        channel_id: int,
        user_id: int,
        command: dict[str, Any],
        permissions: discord.Permissions | None = None,
    ) -> str:
        guild = self.guild_of(channel_id)
        member = dict(guild.members[user_id])
        perms = permissions if permissions is not None else self.permissions_of(guild, user_id)
        member["permissions"] = str(perms.value)
        token = f"itoken-{snowflake()}"
        channel = self._channel(channel_id) or {}
        data = {
            "id": str(snowflake()),
            "application_id": str(APP_ID),
            "type": 2,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": {k: v for k, v in channel.items() if k != "permission_overwrites"}
            | {"permissions": str(perms.value)},
            "member": member,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": str(discord.Permissions.all().value),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 26_214_400,
            "data": command | {"guild_id": str(guild.id)},
        }
        await self.dispatch("INTERACTION_CREATE", data, guild_id=guild.id)
        return token

    def permissions_of(self, guild: Guild, user_id: int) -> discord.Permissions:
        """Guild-level permissions from the member's roles (the owner has all)."""
        if user_id == guild.owner_id:
            return discord.Permissions.all()
        value = int(guild.roles[guild.id]["permissions"])
        for role in guild.members[user_id]["roles"]:
            value |= int(guild.roles[int(role)]["permissions"])
        return discord.Permissions(value)

    # -- waiting ------------------------------------------------------------------------

    async def wait_for(self, check: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until ``check()`` returns something truthy; return it."""

        async def loop() -> T:
            async with self._changed:
                while not (found := check()):
                    await self._changed.wait()
                return found

        return await asyncio.wait_for(loop(), timeout)

    async def wait_sent(
        self, pattern: str = "", *, channel_id: int | None = None, timeout: float = 5.0
    ) -> SentMessage:
        """The first message the bot sent whose content matches ``pattern`` (a regex)."""
        regex = re.compile(pattern, re.S)

        def check() -> SentMessage | None:
            for sent in self.sent:
                if (channel_id is None or sent.channel_id == channel_id) and regex.search(
                    sent.content
                ):
                    return sent
            return None

        return await self.wait_for(check, timeout)

    async def wait_response(self, token: str, timeout: float = 5.0) -> dict[str, Any]:
        """The interaction response (callback or follow-up) for ``token``."""
        return await self.wait_for(
            lambda: next((r for r in self.responses if r["token"] == token), None), timeout
        )

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- REST ---------------------------------------------------------------------------

    def rate_limit(self, method: str, route: str, times: int = 1, retry_after: float = 0.3) -> None:
        """Answer the next ``times`` calls of ``method route`` (a template such as
        ``/channels/{channel_id}/messages``) with a 429 asking to retry after ``retry_after``."""
        self._limits.setdefault((method, route), []).extend([retry_after] * times)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        info = request.match_info.route.resource
        route = (info.canonical if info is not None else request.path).removeprefix("/api/v10")
        key = (request.method, route)
        public = route.startswith(("/interactions/", "/webhooks/", "/gateway"))
        if not public and request.headers.get("Authorization") != f"Bot {self.token}":
            self.unauthorized.append(route)
            self.requests.append((request.method, route, time.monotonic(), 401))
            return _error(401, 0, "401: Unauthorized")
        pending = self._limits.get(key)
        if pending:
            retry_after = pending.pop(0)
            self.requests.append((request.method, route, time.monotonic(), 429))
            await self._notify()
            return _json(
                {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                },
                429,
                headers={
                    "Retry-After": str(max(1, round(retry_after))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": str(retry_after),
                    "X-RateLimit-Reset": str(time.time() + retry_after),
                    "X-RateLimit-Bucket": "emulated-" + route.replace("/", "-"),
                    "X-RateLimit-Scope": "user",
                    "Via": "1.1 google",
                },
            )
        response: web.StreamResponse = await handler(request)
        self.requests.append((request.method, route, time.monotonic(), response.status))
        await self._notify()
        return response

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": self.shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": self.max_concurrency,
                },
            }
        )

    async def _gateway_plain(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.bot | {"verified": True, "mfa_enabled": False, "flags": 0})

    async def _application(self, request: web.Request) -> web.Response:
        owner = user_payload(snowflake(), "App Owner")
        return _json(
            {
                "id": str(APP_ID),
                "name": "fanqa",
                "icon": None,
                "description": "emulated application",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner,
                "verify_key": "0" * 64,
                "team": None,
                "flags": 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED
                "summary": "",
                "rpc_origins": [],
                "interactions_endpoint_url": None,
            }
        )

    async def _get_channel(self, request: web.Request) -> web.Response:
        found = self._channel(int(request.match_info["channel_id"]))
        if found is None:
            return _error(404, 10003, "Unknown Channel")
        return _json(found)

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        if self._channel(channel_id) is None:
            return _error(404, 10003, "Unknown Channel")
        files: list[str] = []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(str(form["payload_json"]))
            files = [v.filename for k, v in form.items() if k.startswith("files[")]  # type: ignore[union-attr]
        else:
            body = await request.json()
        content = body.get("content") or ""
        if len(content) > 2000:
            return _error(400, 50035, "Invalid Form Body: content must be 2000 or fewer")
        ref = body.get("message_reference") or {}
        reply_to = int(ref["message_id"]) if ref.get("message_id") else None
        if reply_to is not None and reply_to not in self.messages:
            if ref.get("fail_if_not_exists", True):
                return _error(400, 50035, "Invalid Form Body: Unknown message")
            reply_to = None
        data = self.message_payload(channel_id, BOT_ID, content, reply_to=reply_to)
        data["nonce"] = body.get("nonce")
        self.messages[int(data["id"])] = data
        self.sent.append(
            SentMessage(int(data["id"]), channel_id, content, reply_to, tuple(files), time.time())
        )
        return _json(data)

    async def _history(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", "50"))
        found = sorted(
            (m for m in self.messages.values() if m["channel_id"] == channel_id),
            key=lambda m: int(m["id"]),
        )
        found = [m for m in found if int(m["id"]) > after][:limit]
        return _json(list(reversed(found)))  # Discord answers newest first

    async def _get_message(self, request: web.Request) -> web.Response:
        found = self.messages.get(int(request.match_info["message_id"]))
        if found is None or found["channel_id"] != request.match_info["channel_id"]:
            return _error(404, 10008, "Unknown Message")
        return _json(found)

    async def _add_reaction(self, request: web.Request) -> web.Response:
        self.reactions.append(
            (
                int(request.match_info["channel_id"]),
                int(request.match_info["message_id"]),
                request.match_info["emoji"],
            )
        )
        return web.Response(status=204)

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild_id"]))
        member = guild.members.get(int(request.match_info["user_id"])) if guild else None
        if member is None:
            return _error(404, 10007, "Unknown Member")
        return _json(member)

    async def _sync(self, request: web.Request) -> web.Response:
        body = await request.json()
        guild_id = int(request.match_info["guild_id"])
        stored = [
            {"description": "", "options": []}  # Discord's defaults (context menus have none)
            | cmd
            | {
                "id": str(snowflake()),
                "application_id": str(APP_ID),
                "guild_id": str(guild_id),
                "version": "1",
            }
            for cmd in body
        ]
        self.commands[guild_id] = stored
        return _json(stored)

    async def _sync_global(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.commands[0] = body
        return _json([c | {"id": str(snowflake()), "application_id": str(APP_ID)} for c in body])

    async def _callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = request.match_info["token"]
        data = body.get("data") or {}
        mid = snowflake()
        self.responses.append(
            {
                "token": token,
                "type": body.get("type"),
                "content": data.get("content"),
                "ephemeral": bool((data.get("flags") or 0) & 64),
            }
        )
        message: dict[str, Any] = {
            "id": str(mid),
            "channel_id": "0",
            "author": self.bot,
            "content": data.get("content") or "",
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 20,
            "flags": data.get("flags") or 0,
        }
        return _json(
            {
                "interaction": {
                    "id": request.match_info["interaction_id"],
                    "type": 2,
                    "response_message_id": str(mid),
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": bool((data.get("flags") or 0) & 64),
                },
                "resource": {"type": body.get("type"), "message": message},
            }
        )

    async def _followup(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(
            {
                "token": request.match_info["token"],
                "type": "followup",
                "content": body.get("content"),
                "ephemeral": bool((body.get("flags") or 0) & 64),
            }
        )
        data = self.message_payload(
            next(iter(self._all_channels())), BOT_ID, body.get("content") or ""
        )
        return _json(data)

    def _all_channels(self) -> Iterator[int]:
        for guild in self.guilds.values():
            yield from guild.channels


def _role(
    role_id: int, name: str, permissions: discord.Permissions, *, position: int = 0
) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions.value),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
        "icon": None,
        "unicode_emoji": None,
    }


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON reply whose content type is exactly ``application/json`` (no charset)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": _JSON, **(headers or {})},
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status)
