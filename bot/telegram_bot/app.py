"""The Telegram bot: a python-telegram-bot ``Application`` wired to the neutral ``BotService``.

Long polling by default (``webhook_url`` switches to a webhook); ``allowed_updates`` always
names ``message_reaction`` because Telegram leaves reactions out unless asked and remembers
the last list. Outgoing calls go through ``AIORateLimiter`` (it also waits out a 429's
``retry_after`` and retries). Handler errors are logged and the update skipped.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, BotCommandScopeAllChatAdministrators, ChatMember, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.core.commands import COMMANDS
from bot.core.service import BotService
from bot.core.units.chats import linked_chats
from bot.core.warm_up import warm_up
from bot.runtime import settle_heap
from bot.telegram_bot.adapter import (
    PLATFORM,
    BotIdentity,
    telegram_chat_key,
    to_command_event,
    to_edit_event,
    to_message_event,
    to_reaction_events,
)
from bot.telegram_bot.platform import TelegramPlatform
from bot.telegram_bot.polling_request import PollingRequest
from bot.telegram_bot.safebot import SafeExtBot, hide_token
from harvest.errors import PlatformError

__all__ = ["ALLOWED_UPDATES", "POLL_INTERVAL", "TelegramBot", "rights_notice"]

log = logging.getLogger(__name__)

# Exactly the updates the bot handles (no inline buttons: callback queries are not asked for).
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "message_reaction",
    "my_chat_member",
)
# Messages received but not yet stored beyond which the bot stops taking new updates.
MAX_BACKLOG = 5_000
# Seconds between the end of one getUpdates and the next. The Bot API answers a long poll
# as soon as one update waits, so with no pause a busy group makes the bot poll back to back,
# a few updates a call, and the polling alone keeps a core busy: at 1,000 updates/s, ≈ 250
# calls/s and 1.0 ms of the bot's CPU per update, whatever else it was spared. 5 ms lets
# updates gather (≈ 10 a call): 0.6-0.8 ms per update, and both median and p99 latency fell
# (bench/telegram_latency.py --poll-interval; README). A quiet chat waits at most 5 ms more.
POLL_INTERVAL = 0.005
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_ADMIN = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
_Context = ContextTypes.DEFAULT_TYPE


def rights_notice(title: str, *, reads_all: bool) -> str:
    """What the bot tells moderators when it is in a chat without admin rights."""
    where = f"“{title}”" if title else "this chat"
    see = (
        "It can read messages (privacy mode is off) but"
        if reads_all
        else "Without them it only sees commands and replies to itself, and it"
    )
    return (
        f"fanqa is not an administrator of {where}. {see} receives no reactions, so "
        "moderators' 👍/👎 verdicts are lost. Please make the bot an admin (no special "
        "rights needed).\n"
        f"fanqa 还不是「{title or '本群'}」的管理员：无法接收表情回应（管理员的 👍/👎 审核会丢失）"
        + ("" if reads_all else "，也看不到普通消息")
        + "。请将机器人设为管理员。"
    )


def _file_url(base_url: str) -> str:
    root = base_url[: -len("/bot")] if base_url.endswith("/bot") else base_url.rstrip("/")
    return f"{root}/file/bot"


class TelegramBot:
    """One Telegram bot serving ``service`` (see the module docstring).

    ``base_url``: a self-hosted Bot API server, e.g. ``http://127.0.0.1:8081/bot`` (calls go
    to ``<base_url><token>/<method>``). ``webhook_url``: public HTTPS URL; the bot then
    listens on ``webhook_listen:webhook_port`` at that URL's path instead of polling.
    """

    def __init__(
        self,
        service: BotService,
        token: str,
        *,
        base_url: str | None = None,
        webhook_url: str | None = None,
        webhook_port: int = 8443,
        webhook_secret: str | None = None,
        webhook_listen: str = "0.0.0.0",
        poll_timeout: int = 10,
        poll_interval: float = POLL_INTERVAL,
        max_retries: int = 5,
        admin_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not token:
            raise PlatformError(
                "no Telegram bot token (set FANQA_TELEGRAM_TOKEN)", platform=PLATFORM
            )
        hide_token(token)  # PTB and httpx log URLs, and a Bot API URL carries the token
        base = base_url or "https://api.telegram.org/bot"
        bot = SafeExtBot(
            token,
            base_url=base,
            base_file_url=_file_url(base),
            request=HTTPXRequest(connection_pool_size=32),
            get_updates_request=PollingRequest(),  # aiohttp: cheaper per poll (its docstring)
            rate_limiter=AIORateLimiter(max_retries=max_retries),
        )
        self.service = service
        self._token = token
        self._api_host = urlparse(base).netloc or base
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            Application.builder().bot(bot).concurrent_updates(False).build()
        )
        self.platform = TelegramPlatform(self.application.bot, admin_ttl=admin_ttl, clock=clock)
        self.webhook_url = webhook_url
        self.webhook_port = webhook_port
        self.webhook_secret = webhook_secret
        self.webhook_listen = webhook_listen
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.me: BotIdentity | None = None
        self._unlinked_seen: set[str] = set()
        self._add_handlers()
        service.register(self.platform)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (``getMe``), register commands, start polling or the webhook."""
        app = self.application
        rejected = False
        unreachable: str | None = None
        try:
            await app.initialize()
        except InvalidToken:  # its message repeats the token: never let it reach a log
            rejected = True
        except NetworkError as exc:  # TimedOut included; httpx's text carries no URL
            unreachable = str(exc).replace(self._token, "…")
        if rejected:
            raise PlatformError(
                "Telegram rejected the bot token (401); check FANQA_TELEGRAM_TOKEN",
                platform=PLATFORM,
            )
        if unreachable is not None:
            raise PlatformError(
                f"cannot reach the Telegram Bot API at {self._api_host} ({unreachable}); "
                "check the network, or FANQA_TELEGRAM_BASE_URL for a self-hosted server",
                platform=PLATFORM,
            )
        user = app.bot.bot
        self.me = BotIdentity(user.id, user.username or "")
        log.info("telegram: connected as @%s (id %s)", user.username, user.id)
        await self._register_commands()
        # the harvest path compiled before the first update (bot.core.warm_up), then frozen
        await self.service.db.offload(warm_up, self.service.engine, PLATFORM)
        settle_heap()
        await app.start()
        assert app.updater is not None
        if self.webhook_url:
            path = urlparse(self.webhook_url).path.lstrip("/")
            await app.updater.start_webhook(
                listen=self.webhook_listen,
                port=self.webhook_port,
                url_path=path,
                webhook_url=self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            log.info("telegram: webhook on port %s", self.webhook_port)
        else:
            await app.updater.start_polling(
                poll_interval=self.poll_interval,
                timeout=self.poll_timeout,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            log.info("telegram: polling for %s", ", ".join(ALLOWED_UPDATES))
        await self.check_rights()

    async def stop(self) -> None:
        """Stop fetching updates, finish the ones in hand, close the HTTP clients."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await self.service.drain()  # messages in hand: harvested, answered
        await app.shutdown()

    async def run_forever(self) -> None:
        """``start()``, then serve until cancelled (Ctrl-C in ``fanqa run``), then ``stop()``."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def _register_commands(self) -> None:
        usable = {n: s for n, s in COMMANDS.items() if _COMMAND_NAME.match(n)}
        everyone = [
            BotCommand(n, s.summary[:256]) for n, s in usable.items() if not s.moderator_only
        ]
        admins = [BotCommand(n, s.summary[:256]) for n, s in usable.items()]
        bot = self.application.bot
        try:
            await bot.set_my_commands(everyone)
            await bot.set_my_commands(admins, scope=BotCommandScopeAllChatAdministrators())
        except TelegramError as exc:  # a missing command menu must not keep the bot down
            log.warning("telegram: could not register commands: %s", exc)

    # -- rights -------------------------------------------------------------------------

    async def _linked_chats(self) -> list[tuple[int, str, str]]:
        return await self.service.db.run(linked_chats, PLATFORM)

    async def _community_of(self, chat_id: str) -> tuple[int, str] | None:
        for community_id, external_id, title in await self._linked_chats():
            if external_id == chat_id:
                return community_id, title
        return None

    async def check_rights(self) -> list[str]:
        """Tell moderators of every linked chat where the bot is no admin; the chat ids."""
        lacking = []
        chats = await self._linked_chats()
        for community_id, chat_id, title in chats:
            try:
                member = await self.application.bot.get_chat_member(
                    chat_id=int(chat_id), user_id=self.me.id if self.me else 0
                )
            except (TelegramError, ValueError) as exc:
                log.warning("telegram: cannot check the bot's rights in %s: %s", chat_id, exc)
                continue
            if member.status not in _ADMIN:
                lacking.append(chat_id)
                await self._warn(community_id, chat_id, title)
        return lacking

    async def _warn(self, community_id: int, chat_id: str, title: str) -> None:
        reads_all = bool(self.application.bot.bot.can_read_all_group_messages)
        text = rights_notice(title, reads_all=reads_all)
        log.warning("telegram: not an administrator of %s (%s)", chat_id, title)
        if not await self.service.notify(community_id, text):
            try:
                await self.platform.send(chat_id, text)
            except TelegramError as exc:
                log.warning("telegram: cannot post the rights notice in %s: %s", chat_id, exc)

    # -- handlers -----------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        new = filters.UpdateType.MESSAGE
        app.add_handler(MessageHandler(new & filters.COMMAND, self._on_command))
        app.add_handler(MessageHandler(new & ~filters.COMMAND, self._on_message))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self._on_edit))
        app.add_handler(MessageReactionHandler(self._on_reaction))
        app.add_handler(
            ChatMemberHandler(self._on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        app.add_error_handler(self._on_error)

    def _identity(self) -> BotIdentity:
        if self.me is None:
            raise PlatformError("the Telegram bot is not started", platform=PLATFORM)
        return self.me

    async def _on_message(self, update: Update, context: _Context) -> None:
        message = update.message
        if message is None:
            return
        translated = to_message_event(message, self._identity())
        if translated is None:
            return
        msg = translated.event.message
        if translated.topic_id is not None:
            self.platform.remember_topic(msg.chat_id, msg.message_id, translated.topic_id)
        # Not awaited: the next update is handled at once, and the messages that arrive
        # meanwhile are stored together; edits, reactions and commands wait for them.
        task = self.service.post_message(translated.event, self.platform, prompt=translated.prompt)
        title = message.chat.title or message.chat.type
        task.add_done_callback(lambda done: self._after_message(done, msg.chat_id, title))
        if self.service.backlog > MAX_BACKLOG:  # far behind: stop fetching until it shrinks
            await asyncio.wait([task])

    def _after_message(self, done: asyncio.Task[Any], chat_id: str, title: str) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            log.error(
                "telegram: a message in %s was skipped after an error", chat_id, exc_info=error
            )
            return
        if done.result().harvest.kind == "ignored" and chat_id not in self._unlinked_seen:
            self._unlinked_seen.add(chat_id)
            log.info(
                "telegram: chat %s (%s) is not linked to a community; its messages are ignored",
                chat_id,
                title,
            )

    async def _on_edit(self, update: Update, context: _Context) -> None:
        if update.edited_message is not None:
            await self.service.on_edit(to_edit_event(update.edited_message))

    async def _on_reaction(self, update: Update, context: _Context) -> None:
        if update.message_reaction is None:
            return
        for event in to_reaction_events(update.message_reaction):
            outcome = await self.service.on_reaction(event, self.platform)
            log.debug("telegram: reaction %s on %s: %s", event.emoji, event.message_id, outcome)

    async def _on_command(self, update: Update, context: _Context) -> None:
        message = update.message
        if message is None:
            return
        event = to_command_event(message, self._identity())
        if event is None:
            return
        head = (message.text or "").split(maxsplit=1)[0].lower()
        addressed = head.endswith(f"@{self._identity().username.lower()}")
        if event.name not in COMMANDS and not addressed:
            return  # probably another bot's command: stay quiet
        text = await self.service.on_command(event, self.platform)
        if text:
            await self.platform.reply(event.chat_id, str(message.message_id), text)

    async def _on_my_chat_member(self, update: Update, context: _Context) -> None:
        change = update.my_chat_member
        if change is None:
            return
        chat_id = telegram_chat_key(change.chat.id)
        self.platform.forget_administrators(chat_id)
        status = change.new_chat_member.status
        log.info("telegram: my status in %s (%s) is now %s", chat_id, change.chat.title, status)
        if status in (ChatMember.MEMBER, ChatMember.RESTRICTED):
            found = await self._community_of(chat_id)
            if found is not None:
                await self._warn(found[0], chat_id, found[1] or change.chat.title or "")

    async def _on_error(self, update: object, context: _Context) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "telegram: update %s skipped after an error: %s",
            update_id,
            type(context.error).__name__,
            exc_info=context.error,
        )
