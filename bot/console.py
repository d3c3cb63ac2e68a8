"""A terminal chat with the bot: the console adapter of the ``ChatPlatform`` port.

Each input line is one of: a message (mention ``@bot`` to ask the bot, as in a group);
``>ID text`` a reply to message ID; ``+ID ✅`` /
``-ID ✅`` a reaction added / removed; ``/command args``; ``:as NAME`` to switch user;
``:quit``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.events import CommandEvent, MessageEvent, ReactionEvent
from bot.core.harvesting import HarvestOutcome
from bot.core.service import BotService
from harvest.model import ChatMessage
from storage.db import session_scope
from storage.faults import as_storage_error
from storage.models import Message
from storage.repo.communities import get_community, upsert_chat
from trainer.generation import GeneratorFactory

__all__ = ["PLATFORM", "ConsolePlatform", "ConsoleSession", "parse_line"]

PLATFORM = "console"
_MENTION = re.compile(r"@(?:bot|fanqa)\b", re.IGNORECASE)
HINT = "lines: text | >ID reply | +ID ✅ / -ID ✅ | /command | :as NAME | :quit"


class ConsolePlatform:
    """The port for a terminal: prints what the bot says, numbers messages itself."""

    name = PLATFORM
    text_limit = 4096

    def __init__(self, out: Callable[[str], None], first_id: int = 1) -> None:
        self._print = out
        self._held: list[str] | None = None
        self.moderators: set[str] = set()
        self.sent: list[tuple[str, str, str | None]] = []  # (id, text, reply_to)
        self._next = first_id

    def out(self, line: str) -> None:
        """Print ``line``, or keep it until ``release`` while held."""
        if self._held is None:
            self._print(line)
        else:
            self._held.append(line)

    def hold(self) -> None:
        """Keep what the bot says until ``release`` (the user's line prints first)."""
        self._held = []

    def release(self) -> None:
        """Print what was held."""
        held, self._held = self._held or [], None
        for line in held:
            self._print(line)

    def next_id(self) -> str:
        """A fresh message id for this chat (users and the bot share the sequence)."""
        value, self._next = self._next, self._next + 1
        return str(value)

    async def reply(self, chat_id: str, to_message_id: str, text: str) -> str:
        message_id = self.next_id()
        self.out(f"[{message_id}] bot → {to_message_id}: {text}")
        self.sent.append((message_id, text, to_message_id))
        return message_id

    async def send(self, chat_id: str, text: str) -> str:
        message_id = self.next_id()
        self.out(f"[{message_id}] bot: {text}")
        self.sent.append((message_id, text, None))
        return message_id

    async def send_photo(self, chat_id: str, path: Path, caption: str) -> str:
        return await self.send(chat_id, f"{caption}\n  (chart: {path})")

    async def react(self, chat_id: str, message_id: str, emoji: str) -> None:
        self.out(f"  bot reacted {emoji} on [{message_id}]")

    async def is_moderator(self, chat_id: str, user_id: str) -> bool:
        return user_id in self.moderators

    def message_link(self, chat_id: str, message_id: str) -> str | None:
        return None  # a terminal has no links

    async def send_private(self, user_id: str, text: str) -> str:
        """A private message: printed apart, never stored as a message of the chat."""
        message_id = self.next_id()
        self.out(f"[{message_id}] bot → private to {user_id}: {text}")
        return message_id


def parse_line(line: str) -> tuple[str, str | None, str]:
    """Split an input line into (kind, target id, rest); kind is message | reply |
    react | unreact | command | as | quit | empty | bad."""
    text = line.strip()
    if not text:
        return "empty", None, ""
    if text == ":quit":
        return "quit", None, ""
    if text.startswith(":as "):
        return ("as", None, text[4:].strip()) if text[4:].strip() else ("bad", None, text)
    if text.startswith("/"):
        return "command", None, text[1:]
    head = text[0]
    if head in ">+-":
        target, _, rest = text[1:].partition(" ")
        if target.isdigit() and rest.strip():
            kind = {">": "reply", "+": "react", "-": "unreact"}[head]
            return kind, target, rest.strip()
        if head == ">":
            return "bad", None, text
    return "message", None, text


def _note(outcome: HarvestOutcome) -> str:
    if outcome.kind == "paired":
        return f"  (pending pair #{outcome.pair_ids[0]})"
    if outcome.kind == "merged":
        return f"  (added to pair #{outcome.pair_ids[0]})"
    return "  (question)" if outcome.is_question else ""


class ConsoleSession:
    """One terminal conversation in a community's console chat."""

    def __init__(
        self,
        engine: Engine,
        community: str,
        user: str,
        *,
        moderator: bool = False,
        out: Callable[[str], None] = print,
        generator_factory: GeneratorFactory | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        desk_url: str | None = None,
        service: BotService | None = None,
    ) -> None:
        """``service``: the one the composition root built (``fanqa chat``); without it a
        plain one on ``engine`` with ``generator_factory``, ``clock`` and ``desk_url``."""
        self.engine = engine
        self.user = user
        self.out = out
        self.clock = clock
        with session_scope(engine) as session:
            row = get_community(session, community)
            self.chat_id = f"console-{row.id}"
            chat = upsert_chat(
                session, row.id or 0, PLATFORM, self.chat_id, f"console ({row.name})"
            )
            ids = session.exec(select(Message.external_id).where(Message.chat_id == chat.id)).all()
        first = max((int(i) for i in ids if i.isdigit()), default=0) + 1
        self.platform = ConsolePlatform(out, first)
        if moderator:
            self.platform.moderators.add(user)
        self.service = service or BotService(
            engine, generator_factory=generator_factory, clock=clock, desk_url=desk_url
        )
        self.service.register(self.platform)
        self.harvester = self.service.harvester

    async def _message(self, text: str, reply_to: str | None = None) -> None:
        message_id = self.platform.next_id()
        msg = ChatMessage(
            platform=PLATFORM,
            chat_id=self.chat_id,
            message_id=message_id,
            author_id=self.user,
            author_name=self.user,
            text=text,
            sent_at=self.clock(),
            reply_to_id=reply_to,
        )
        mentioned = _MENTION.search(text) is not None
        # Echo the line before the bot's reply to it is printed.
        arrow = f" → {reply_to}" if reply_to else ""
        self.platform.hold()
        outcome = await self.service.on_message(
            MessageEvent(msg, mentioned), self.platform, prompt=_MENTION.sub(" ", text).strip()
        )
        self.out(f"[{message_id}] {self.user}{arrow}: {text}{_note(outcome.harvest)}")
        self.platform.release()

    async def _store_bot_messages(self) -> None:
        for message_id, text, reply_to in self.platform.sent:  # answers are stored already
            await self.service.store_bot_message(PLATFORM, self.chat_id, message_id, text, reply_to)
        self.platform.sent.clear()

    async def handle_line(self, line: str) -> bool:
        """Act on one input line; False once the user quits."""
        kind, target, rest = parse_line(line)
        if kind == "quit":
            return False
        if kind == "as":
            self.user = rest
            self.out(f"  now speaking as {rest}")
        elif kind == "bad":
            self.out(f"  ? {HINT}")
        elif kind in ("message", "reply"):
            await self._message(rest, target)
        elif kind in ("react", "unreact") and target is not None:
            event = ReactionEvent(
                PLATFORM, self.chat_id, target, self.user, self.user, rest, kind == "react"
            )
            outcome = await self.service.on_reaction(event, self.platform)
            self.out(f"  {outcome.text}")
        elif kind == "command":
            name, *args = rest.split()
            event_c = CommandEvent(PLATFORM, self.chat_id, self.user, self.user, name, tuple(args))
            await self.platform.send(
                self.chat_id, await self.service.on_command(event_c, self.platform)
            )
        await self._store_bot_messages()
        return True

    async def _run(self, lines: Iterable[str]) -> None:
        for line in lines:
            try:
                if not await self.handle_line(line):
                    break
            except Exception as exc:  # the database busy or read-only: say so, read on
                fault = as_storage_error(exc)
                if fault is None:
                    raise
                self.platform.release()
                self.out(f"  ! not stored: {fault}")

    def run(self, lines: Iterable[str]) -> None:
        """Read lines (a file, stdin, a list) until ``:quit`` or the end."""
        asyncio.run(self._run(lines))
