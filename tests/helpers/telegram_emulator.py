"""A local Telegram Bot API server (aiohttp on 127.0.0.1) for the real python-telegram-bot.

Point ``Application`` / ``ExtBot`` at ``emulator.base_url``: every call then arrives as
``POST /bot<token>/<method>`` with form or multipart fields (complex values JSON-encoded),
exactly as PTB sends them to api.telegram.org.

The emulator keeps a small world (users, groups, supergroups, forums with topics,
administrators, messages) and an update queue. Tests act as users (``post``, ``reply``,
``edit``, ``react``, ``create_topic``, ``set_bot_status``) which enqueues updates in
Telegram's JSON shapes; ``getUpdates`` serves them with ``offset`` confirmation and a real
long-poll (an ``asyncio.Condition``, no busy loop). What the bot sends is recorded and can be
awaited (``wait_sent``). Errors can be injected per method (``fail``): 401, 400 with a
description, 429 with ``parameters.retry_after``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from telegram.constants import ReactionEmoji

__all__ = ["REACTIONS", "FakeChat", "TelegramEmulator"]

JSON = dict[str, Any]

# Telegram's fixed set of reaction emojis (users cannot react ✅ or ❌ in Telegram); PTB
# mirrors the Bot API's list in ReactionEmoji.
REACTIONS = frozenset(e.value for e in ReactionEmoji)
_DEFAULT_UPDATES = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "callback_query"}
    | {"my_chat_member", "inline_query", "poll", "poll_answer", "chat_join_request"}
)
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}
_MENTION = re.compile(r"@[A-Za-z0-9_]{3,32}")
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")


class ApiError(Exception):
    """An error reply: HTTP status, Telegram's description, optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


@dataclass
class FakeChat:
    """A group as the emulator knows it."""

    id: int
    title: str
    type: str = "supergroup"
    is_forum: bool = False
    owner: int | None = None
    admins: set[int] = field(default_factory=set)
    bot_status: str = "administrator"
    topics: dict[int, str] = field(default_factory=dict)
    next_id: int = 1

    def json(self) -> JSON:
        body: JSON = {"id": self.id, "type": self.type, "title": self.title}
        if self.is_forum:
            body["is_forum"] = True
        return body

    def new_id(self) -> int:
        value, self.next_id = self.next_id, self.next_id + 1
        return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[JSON]:
    """``bot_command`` and ``mention`` entities with Telegram's UTF-16 offsets."""
    found = []
    command = _COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())})
    for match in _MENTION.finditer(text):
        if command and match.start() < command.end():
            continue
        offset = _utf16_len(text[: match.start()])
        found.append({"type": "mention", "offset": offset, "length": _utf16_len(match.group())})
    return found


def _shallow(message: JSON) -> JSON:
    """A message as it appears inside ``reply_to_message`` (no nested reply)."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


class TelegramEmulator:
    """The Bot API server and the world behind it (see the module docstring)."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int = 7_000_001,
        bot_username: str = "fanqa_bot",
        reads_all: bool = False,
    ) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "fanqa",
            "username": bot_username,
        }
        self.reads_all = reads_all
        self.users: dict[int, JSON] = {bot_id: self.bot_user}
        self.chats: dict[int, FakeChat] = {}
        self.messages: dict[tuple[int, int], JSON] = {}
        self.reactions: dict[tuple[int, int, int], list[str]] = {}
        self.log: list[JSON] = []  # every update ever enqueued
        self.pending: deque[JSON] = deque()
        self.confirmed = 0  # highest confirmed update id
        self.pushed_at: dict[int, float] = {}  # update id -> perf_counter when enqueued
        self.allowed_updates: list[str] | None = None
        self.sent: list[JSON] = []  # messages the bot sent (sendMessage / sendPhoto)
        self.calls: list[tuple[str, JSON]] = []
        self.bot_reactions: list[tuple[int, int, list[str]]] = []
        self.commands: dict[str, list[JSON]] = {}
        self.webhook: JSON = {"url": ""}
        self.webhook_statuses: list[int] = []
        self.errors: dict[str, deque[ApiError]] = {}
        self._next_update = 1
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # -- server -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` (PTB appends ``<token>/<method>``)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> TelegramEmulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        async with self._cond:  # end pending long polls now rather than at their timeout
            self._closing = True
            self._cond.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        params = await _params(request)
        self.calls.append((method, params))
        queued = self.errors.get(method.lower())
        try:
            if queued:
                raise queued.popleft()
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            body: JSON = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return _reply(exc.status, body)
        return _reply(200, {"ok": True, "result": result})

    # -- error injection ----------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status``."""
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            text = description or f"Too Many Requests: retry after {retry_after}"
            error = ApiError(429, text, {"retry_after": retry_after})
        else:
            error = ApiError(status, description or {401: "Unauthorized"}.get(status, "Error"))
        self.errors.setdefault(method.lower(), deque()).extend([error] * times)

    # -- the world ----------------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str, username: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self.users[user_id] = user
        return user

    def add_chat(
        self,
        chat_id: int,
        title: str,
        *,
        kind: str = "supergroup",
        forum: bool = False,
        owner: int | None = None,
        admins: tuple[int, ...] = (),
        bot_status: str = "administrator",
    ) -> FakeChat:
        chat = FakeChat(chat_id, title, kind, forum, owner, set(admins), bot_status)
        self.chats[chat_id] = chat
        return chat

    def chat(self, chat_id: int) -> FakeChat:
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    def is_admin(self, chat_id: int, user_id: int) -> bool:
        chat = self.chats[chat_id]
        if user_id == self.bot_user["id"]:
            return chat.bot_status in ("administrator", "creator")
        return user_id == chat.owner or user_id in chat.admins

    # -- user actions -> updates --------------------------------------------------------

    async def push(self, body: JSON) -> int:
        """Enqueue an update (``body`` without ``update_id``); its id. With a webhook set,
        POST it there instead (with the secret token header), as Telegram does."""
        if self.webhook.get("url"):
            return await self._post_webhook(body)
        async with self._cond:
            update_id = self._next_update
            self._next_update += 1
            update = {"update_id": update_id, **body}
            self.log.append(update)
            self.pending.append(update)
            self.pushed_at[update_id] = time.perf_counter()
            self._cond.notify_all()
        return update_id

    async def _post_webhook(self, body: JSON) -> int:
        import aiohttp

        update_id = self._next_update
        self._next_update += 1
        update = {"update_id": update_id, **body}
        self.log.append(update)
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with aiohttp.ClientSession() as http:
            reply = await http.post(self.webhook["url"], json=update, headers=headers)
            self.webhook_statuses.append(reply.status)
        return update_id

    def _new_message(
        self,
        chat: FakeChat,
        sender: JSON,
        *,
        text: str | None = None,
        reply_to: int | None = None,
        topic: int | None = None,
        extra: JSON | None = None,
        at: int | None = None,
    ) -> JSON:
        message: JSON = {
            "message_id": chat.new_id(),
            "from": sender,
            "chat": chat.json(),
            "date": int(time.time()) if at is None else at,
        }
        if text is not None:
            message["text"] = text
            entities = _entities(text)
            if entities:
                message["entities"] = entities
        target = self.messages.get((chat.id, reply_to)) if reply_to is not None else None
        if reply_to is not None and target is None:
            raise ApiError(400, "Bad Request: message to be replied not found")
        if topic is not None:
            message["message_thread_id"] = topic
            message["is_topic_message"] = True
            target = target or self.messages[(chat.id, topic)]  # the topic's creation message
        elif target is not None and chat.type == "supergroup":
            # replies in a plain supergroup carry a reply-thread id, but no topic
            message["message_thread_id"] = target.get("message_thread_id", target["message_id"])
        if target is not None:
            message["reply_to_message"] = _shallow(target)
        message.update(extra or {})
        self.messages[(chat.id, message["message_id"])] = message
        return message

    async def post(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        topic: int | None = None,
        at: int | None = None,
    ) -> JSON:
        """``user_id`` posts ``text`` (a reply when ``reply_to``, in a forum ``topic``;
        ``at``: its Unix time, now by default)."""
        chat = self.chat(chat_id)
        message = self._new_message(
            chat, self.users[user_id], text=text, reply_to=reply_to, topic=topic, at=at
        )
        await self.push({"message": message})
        return message

    async def post_photo(
        self,
        chat_id: int,
        user_id: int,
        caption: str,
        *,
        reply_to: int | None = None,
        topic: int | None = None,
        at: int | None = None,
    ) -> JSON:
        """``user_id`` posts a photo with a caption (a reply, in a topic: as :meth:`post`)."""
        photo = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}]
        extra: JSON = {"photo": photo, "caption": caption}
        message = self._new_message(
            self.chat(chat_id),
            self.users[user_id],
            reply_to=reply_to,
            topic=topic,
            extra=extra,
            at=at,
        )
        await self.push({"message": message})
        return message

    async def create_topic(
        self, chat_id: int, user_id: int, name: str, *, at: int | None = None
    ) -> int:
        """``user_id`` creates a forum topic; its thread id (= its creation message id)."""
        chat = self.chat(chat_id)
        if not chat.is_forum:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        created = {"forum_topic_created": {"name": name, "icon_color": 7322096}}
        message = self._new_message(chat, self.users[user_id], extra=created, at=at)
        thread = int(message["message_id"])
        message["message_thread_id"] = thread
        message["is_topic_message"] = True
        chat.topics[thread] = name
        await self.push({"message": message})
        return thread

    def ghost(self, chat_id: int, user_id: int) -> int:
        """A message the bot never received (sent before it joined); replies may quote it."""
        chat = self.chat(chat_id)
        message: JSON = {
            "message_id": chat.new_id(),
            "from": self.users[user_id],
            "chat": chat.json(),
            "date": 0,
            "text": "…",
        }
        self.messages[(chat.id, message["message_id"])] = message
        return int(message["message_id"])

    async def edit(self, chat_id: int, message_id: int, text: str) -> JSON:
        """The author edits a message's text."""
        message = self.messages[(chat_id, message_id)]
        message["text"] = text
        message["edit_date"] = int(time.time())
        entities = _entities(text)
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        await self.push({"edited_message": dict(message)})
        return message

    async def react(self, chat_id: int, message_id: int, user_id: int, *emojis: str) -> int:
        """Set ``user_id``'s reactions on a message to ``emojis`` (none: remove them all)."""
        bad = [e for e in emojis if e not in REACTIONS]
        if bad:
            raise ValueError(f"{bad} are not Telegram reactions")
        key = (chat_id, message_id, user_id)
        old = self.reactions.get(key, [])
        self.reactions[key] = list(emojis)
        return await self.push(
            {
                "message_reaction": {
                    "chat": self.chat(chat_id).json(),
                    "message_id": message_id,
                    "user": self.users[user_id],
                    "date": int(time.time()),
                    "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                    "new_reaction": [{"type": "emoji", "emoji": e} for e in emojis],
                }
            }
        )

    async def set_bot_status(self, chat_id: int, status: str, by_user: int) -> int:
        """An admin changes the bot's status in a chat (a ``my_chat_member`` update)."""
        chat = self.chat(chat_id)
        old = chat.bot_status
        chat.bot_status = status
        return await self.push(
            {
                "my_chat_member": {
                    "chat": chat.json(),
                    "from": self.users[by_user],
                    "date": int(time.time()),
                    "old_chat_member": self._member(chat, self.bot_user, old),
                    "new_chat_member": self._member(chat, self.bot_user, status),
                }
            }
        )

    async def redeliver(self, update_id: int) -> int:
        """Enqueue a stored update again under a new id (what a bot sees after a restart
        that lost its confirmed offset)."""
        body = next(u for u in self.log if u["update_id"] == update_id)
        return await self.push({k: v for k, v in body.items() if k != "update_id"})

    async def replay(self, from_update_id: int) -> None:
        """Forget that updates from ``from_update_id`` on were confirmed: Telegram serves
        them again, with their ids, to the next ``getUpdates`` without a newer offset."""
        async with self._cond:
            self.confirmed = min(self.confirmed, from_update_id - 1)
            self.pending = deque(u for u in self.log if u["update_id"] >= from_update_id)
            self._cond.notify_all()

    # -- observation --------------------------------------------------------------------

    async def wait_sent(
        self,
        match: str | Callable[[JSON], bool] | None = None,
        *,
        chat_id: int | None = None,
        after: int = 0,
        timeout: float = 5.0,
    ) -> JSON:
        """The first message the bot sent (index ≥ ``after``) whose text/caption contains
        ``match`` (or satisfies it); TimeoutError naming what was sent instead."""

        def found() -> JSON | None:
            for message in self.sent[after:]:
                if chat_id is not None and message["chat"]["id"] != chat_id:
                    continue
                text = message.get("text") or message.get("caption") or ""
                if match is None or (match(message) if callable(match) else match in text):
                    return message
            return None

        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(lambda: found() is not None)
        except TimeoutError:
            texts = [m.get("text") or m.get("caption") for m in self.sent[after:]]
            raise TimeoutError(f"bot sent no message matching {match!r}; sent: {texts}") from None
        result = found()
        assert result is not None
        return result

    async def wait_confirmed(self, update_id: int | None = None, timeout: float = 5.0) -> None:
        """Until the bot fetched and confirmed every update up to ``update_id`` (default:
        the newest)."""
        target = self._next_update - 1 if update_id is None else update_id
        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(lambda: self.confirmed >= target)

    async def wait_call(self, method: str, count: int = 1, timeout: float = 5.0) -> None:
        """Until ``method`` was called ``count`` times."""
        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(lambda: self.count(method) >= count)

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name.lower() == method.lower())

    # -- the API ------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _api_getme(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": self.reads_all,
            "supports_inline_queries": False,
        }

    async def _api_getupdates(self, params: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = _int(params.get("offset")) or 0
        limit = min(_int(params.get("limit")) or 100, 100)
        timeout = float(params.get("timeout") or 0)
        if "allowed_updates" in params:
            wanted = _json(params["allowed_updates"])
            self.allowed_updates = list(wanted) if wanted else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._cond:
            if offset > self.confirmed + 1:
                self.confirmed = offset - 1
                self._cond.notify_all()
            while True:
                batch = self._available(limit)
                remaining = deadline - loop.time()
                if batch or remaining <= 0 or self._closing:
                    return batch
                try:
                    await asyncio.wait_for(self._cond.wait(), remaining)
                except TimeoutError:
                    return self._available(limit)

    def _available(self, limit: int) -> list[JSON]:
        allowed = set(self.allowed_updates) if self.allowed_updates else _DEFAULT_UPDATES
        while self.pending and self.pending[0]["update_id"] <= self.confirmed:
            self.pending.popleft()
        batch = []
        for update in self.pending:
            kind = next(k for k in update if k != "update_id")
            if kind in allowed or kind not in _KNOWN_KINDS:
                batch.append(update)
            if len(batch) >= limit:
                break
        return batch

    async def _api_deletewebhook(self, params: JSON) -> bool:
        self.webhook = {"url": ""}
        return True

    async def _api_setwebhook(self, params: JSON) -> bool:
        self.webhook = {
            "url": params.get("url", ""),
            "secret_token": params.get("secret_token"),
            "allowed_updates": _json(params.get("allowed_updates") or "null"),
        }
        return True

    async def _api_getwebhookinfo(self, params: JSON) -> JSON:
        url = self.webhook.get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_setmycommands(self, params: JSON) -> bool:
        scope = _json(params.get("scope") or '{"type": "default"}')
        self.commands[scope["type"]] = list(_json(params["commands"]))
        return True

    async def _api_getmycommands(self, params: JSON) -> list[JSON]:
        scope = _json(params.get("scope") or '{"type": "default"}')
        return self.commands.get(scope["type"], [])

    async def _api_deletemycommands(self, params: JSON) -> bool:
        scope = _json(params.get("scope") or '{"type": "default"}')
        self.commands.pop(scope["type"], None)
        return True

    def _bot_message(self, params: JSON, extra: JSON, text: str | None) -> JSON:
        chat = self.chat(_int(params.get("chat_id")) or 0)
        if chat.bot_status in ("left", "kicked"):
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        reply = _json(params["reply_parameters"]) if "reply_parameters" in params else {}
        reply_to = reply.get("message_id") or _int(params.get("reply_to_message_id"))
        if reply_to is not None and (chat.id, reply_to) not in self.messages:
            if not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            reply_to = None
        topic = _int(params.get("message_thread_id"))
        if topic is not None and (not chat.is_forum or topic not in chat.topics):
            raise ApiError(400, "Bad Request: message thread not found")
        message = self._new_message(
            chat, self.bot_user, text=text, reply_to=reply_to, topic=topic, extra=extra
        )
        self.sent.append(message)
        return message

    async def _api_sendmessage(self, params: JSON) -> JSON:
        text = params.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        message = self._bot_message(params, {}, text)
        await self._notify()
        return message

    async def _api_sendphoto(self, params: JSON) -> JSON:
        photo = params.get("photo")
        size = len(photo) if isinstance(photo, bytes) else 0
        if not size:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = params.get("caption")
        if caption is not None and len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        sizes = [{"file_id": "AgAC", "file_unique_id": "AQAC", "width": 640, "height": 480}]
        extra: JSON = {"photo": [{**sizes[0], "file_size": size}]}
        if caption:
            extra["caption"] = caption
        message = self._bot_message(params, extra, None)
        await self._notify()
        return message

    async def _api_setmessagereaction(self, params: JSON) -> bool:
        chat = self.chat(_int(params.get("chat_id")) or 0)
        message_id = _int(params.get("message_id")) or 0
        if (chat.id, message_id) not in self.messages:
            raise ApiError(400, "Bad Request: message to react not found")
        reaction = _json(params.get("reaction") or "[]")
        emojis = [r.get("emoji", "") for r in reaction]
        if any(e not in REACTIONS for e in emojis):
            raise ApiError(400, "Bad Request: REACTION_INVALID")
        self.bot_reactions.append((chat.id, message_id, emojis))
        await self._notify()
        return True

    def _member(self, chat: FakeChat, user: JSON, status: str | None = None) -> JSON:
        if status is None:
            if user["id"] == self.bot_user["id"]:
                status = chat.bot_status
            elif user["id"] == chat.owner:
                status = "creator"
            elif user["id"] in chat.admins:
                status = "administrator"
            else:
                status = "member"
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            return {"status": "administrator", "user": user, **_ADMIN_RIGHTS}
        if status == "restricted":
            rights = {k: False for k in _RESTRICTED}
            return {
                "status": "restricted",
                "user": user,
                "is_member": True,
                "until_date": 0,
                **rights,
            }
        if status in ("left", "kicked"):
            body = {"status": status, "user": user}
            return {**body, "until_date": 0} if status == "kicked" else body
        return {"status": "member", "user": user}

    async def _api_getchatadministrators(self, params: JSON) -> list[JSON]:
        chat = self.chat(_int(params.get("chat_id")) or 0)
        ids = ([chat.owner] if chat.owner else []) + sorted(chat.admins)
        if chat.bot_status == "administrator":
            ids.append(self.bot_user["id"])
        return [self._member(chat, self.users[i]) for i in ids]

    async def _api_getchatmember(self, params: JSON) -> JSON:
        chat = self.chat(_int(params.get("chat_id")) or 0)
        user = self.users.get(_int(params.get("user_id")) or 0)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        return self._member(chat, user)

    async def _api_getchat(self, params: JSON) -> JSON:
        chat = self.chat(_int(params.get("chat_id")) or 0)
        return {**chat.json(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _api_close(self, params: JSON) -> bool:
        return True

    async def _api_logout(self, params: JSON) -> bool:
        return True


_KNOWN_KINDS = _DEFAULT_UPDATES | {"chat_member", "message_reaction", "message_reaction_count"}
_RESTRICTED = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


def _reply(status: int, body: JSON) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
    )


async def _params(request: web.Request) -> JSON:
    """Form, multipart or JSON parameters; file parts become their bytes."""
    if request.content_type == "application/json":
        body = await request.json()
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    if request.content_type == "multipart/form-data":
        params: JSON = {}
        reader = await request.multipart()
        async for part in reader:
            if part.name is None:
                continue
            data = await part.read()  # type: ignore[union-attr]
            params[part.name] = bytes(data) if part.filename else data.decode()
        return params
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
