"""The bot as one object: every adapter (Telegram, Discord, console) feeds it neutral events.

``BotService`` ties harvesting, reaction moderation, commands and answering together, so the
platforms behave the same and their adapters stay translation only. Database work and model
generation run in worker threads (``asyncio.to_thread``), never in the event loop.

Answering policy per chat (``Chat.answer_policy`` or the community's ``answer_policy``):
``mention`` answers when the bot is mentioned or replied to, ``auto`` also answers a question
nobody has answered within ``auto_answer_after_min`` minutes (``auto_answer_due``), ``off``
never answers. A 👍/👎 on one of the bot's answers goes to the answer log; a moderator's reply
to one of the bot's answers becomes a pending pair (the correction).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.answering import Answer, answer, notice_for
from bot.core.commands import CommandHandler
from bot.core.events import CommandEvent, DeleteEvent, EditEvent, MessageEvent, ReactionEvent
from bot.core.harvesting import Harvester, HarvestOutcome
from bot.core.moderation import ReactionModerator, ReactionOutcome, is_moderator
from bot.core.port import ChatPlatform
from harvest.dedup import content_hash
from harvest.model import ChatMessage
from harvest.questions import detect_language
from storage.db import session_scope
from storage.models import (
    AnswerLog,
    Chat,
    Community,
    HandledCommand,
    Member,
    Message,
    QAPair,
    utcnow,
)
from storage.repo.communities import find_chat, get_or_create_member
from storage.repo.messages import get_message
from storage.repo.pairs import split_for_hash
from trainer.generation import GeneratorFactory

__all__ = [
    "FEEDBACK_DOWN",
    "FEEDBACK_UP",
    "AnswerPolicy",
    "BotService",
    "MessageOutcome",
    "format_answer",
    "pick_notice",
    "review_card",
]

log = logging.getLogger(__name__)

FEEDBACK_UP = frozenset({"👍", "❤", "❤️", "🔥", "👏", "💯"})
FEEDBACK_DOWN = frozenset({"👎", "💩", "🤮"})


class AnswerPolicy:
    """The answering policies a chat can have."""

    MENTION = "mention"
    AUTO = "auto"
    OFF = "off"
    ALL = (MENTION, AUTO, OFF)


BOT_AUTHOR_ID = "fanqa-bot"
_CARD_Q, _CARD_A = 200, 400
_HASH_NUMBER = re.compile(r"#(?=\d)")


def _card_snippet(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    flat = _HASH_NUMBER.sub("＃", flat)  # the card names exactly one pair: #id
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def review_card(pair: QAPair, chat_title: str = "", answerer: Member | None = None) -> str:
    """A new pair's review card: moderators react ✅ / ❌ on it to approve / reject."""
    where = f" · {chat_title}" if chat_title else ""
    who = f" — {answerer.display_name}" if answerer is not None and answerer.display_name else ""
    return (
        f"📝 #{pair.id} pending{where}\n"
        f"Q: {_card_snippet(pair.question_text, _CARD_Q)}\n"
        f"A: {_card_snippet(pair.answer_text, _CARD_A)}{who}\n"
        f"✅ approve · ❌ reject · /edit {pair.id} …"
    )


pick_notice = notice_for  # the abstain notice in the question's language


def format_answer(result: Answer, question: str, links: dict[int, str | None] | None = None) -> str:
    """The text the bot posts: the answer, then its sources (pair ids, with links if known)."""
    if result.abstained:
        return result.text  # the notice, already in the asker's language, or silence
    shown = result.sources[:3]
    if not shown:
        return result.text
    links = links or {}
    parts = [f"#{pid} {links[pid]}" if links.get(pid) else f"#{pid}" for pid in shown]
    label = "来源" if detect_language(question) == "zh" else "Sources"
    return f"{result.text}\n\n{label}: {', '.join(parts)}"


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What a new message did: the harvest outcome, and the bot's reply id if it answered."""

    harvest: HarvestOutcome
    answered: bool = False
    reply_id: str | None = None
    correction_pair_id: int | None = None


_Harvested = tuple[HarvestOutcome, tuple[str, str, str] | None, int | None]


class _HarvestQueue:
    """Harvests the messages that arrive together in one transaction, in arrival order.

    A lone message is a batch of one; under load (many chats, concurrent updates) the
    messages that arrived while a batch was being written form the next one. ``barrier``
    waits until everything submitted before it is stored, so an edit, reaction or command
    never overtakes the message it refers to.
    """

    def __init__(
        self, run: Callable[[list[MessageEvent]], list[_Harvested | Exception]], max_batch: int
    ) -> None:
        self._run = run
        self.max_batch = max_batch
        self._pending: list[tuple[MessageEvent, asyncio.Future[_Harvested]]] = []
        self._task: asyncio.Task[None] | None = None
        self._submitted = 0
        self._finished = 0
        self._progress: asyncio.Condition | None = None

    def enqueue(self, event: MessageEvent) -> asyncio.Future[_Harvested]:
        """Queue ``event`` now (its place in the order is taken before this returns)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Harvested] = loop.create_future()
        self._pending.append((event, future))
        self._submitted += 1
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return future

    @property
    def backlog(self) -> int:
        """Messages queued and not yet harvested."""
        return self._submitted - self._finished

    async def barrier(self) -> None:
        """Wait until every message submitted so far is harvested."""
        target = self._submitted
        if self._finished >= target:
            return
        progress = self._condition()
        async with progress:
            await progress.wait_for(lambda: self._finished >= target)

    def _condition(self) -> asyncio.Condition:
        if self._progress is None:
            self._progress = asyncio.Condition()
        return self._progress

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                results = await asyncio.to_thread(self._run, [event for event, _ in batch])
            except Exception as exc:  # the whole batch failed (e.g. the database is down)
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # its caller was cancelled
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
            self._finished += len(batch)
            progress = self._condition()
            async with progress:
                progress.notify_all()


class BotService:
    """Every platform's entry point into the core (see the module docstring).

    ``generator_factory`` makes the live model's generator (cached by the factory);
    ``clock`` is injectable so auto-answer tests need no sleeping.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        generator_factory: GeneratorFactory | None = None,
        clock: Callable[[], datetime] = utcnow,
        max_new_tokens: int = 128,
        max_batch: int = 256,
    ) -> None:
        self.engine = engine
        self.harvester = Harvester(engine)
        self.moderation = ReactionModerator(engine)
        self.commands = CommandHandler(engine)
        self.generator_factory = generator_factory
        self.clock = clock
        self.max_new_tokens = max_new_tokens
        self.platforms: dict[str, ChatPlatform] = {}
        self._answering = asyncio.Lock()  # one generation at a time: the model is shared
        self._queue = _HarvestQueue(self._harvest_batch, max_batch)
        self._background: set[asyncio.Task[MessageOutcome]] = set()

    def register(self, platform: ChatPlatform) -> None:
        """Make ``platform`` reachable for auto-answers and moderator notifications."""
        self.platforms[platform.name] = platform

    # -- messages -----------------------------------------------------------------------

    async def on_message(
        self, event: MessageEvent, platform: ChatPlatform, *, prompt: str | None = None
    ) -> MessageOutcome:
        """Harvest a new message; answer it when the chat's policy says so.

        ``prompt``: the question with the bot's mention removed (defaults to the text).
        """
        return await self.post_message(event, platform, prompt=prompt)

    def post_message(
        self, event: MessageEvent, platform: ChatPlatform, *, prompt: str | None = None
    ) -> asyncio.Task[MessageOutcome]:
        """``on_message`` for adapters that go on to the next update at once (Telegram).

        The message takes its place in the harvest order before this returns, so what
        arrives after it (an edit, a reaction, a command) waits for it; harvesting, cards and
        answers finish in the returned task, and consecutive messages share a transaction.
        """
        harvested = self._queue.enqueue(event)
        task = asyncio.get_running_loop().create_task(
            self._after_harvest(event, platform, prompt, harvested)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    @property
    def backlog(self) -> int:
        """Messages received and not yet harvested (an adapter may wait when it grows)."""
        return self._queue.backlog

    async def drain(self) -> None:
        """Wait for every posted message to be harvested and answered (clean shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _after_harvest(
        self,
        event: MessageEvent,
        platform: ChatPlatform,
        prompt: str | None,
        harvested: asyncio.Future[_Harvested],
    ) -> MessageOutcome:
        msg = event.message
        outcome, card, answered_log = await harvested
        if outcome.kind in ("ignored", "duplicate") or msg.is_bot:
            return MessageOutcome(outcome)
        if card is not None:
            await self._send_card(outcome.pair_ids[0], card, platform)
        correction = None
        if answered_log is not None:
            correction = await self._correction(msg, answered_log, platform)
        if correction is not None or not event.mentions_bot:
            return MessageOutcome(outcome, correction_pair_id=correction)
        if self.policy_of(msg.platform, msg.chat_id) == AnswerPolicy.OFF:
            return MessageOutcome(outcome)
        question = (prompt if prompt is not None else msg.text).strip()
        if not question:
            return MessageOutcome(outcome)
        reply_id = await self._answer(platform, msg.chat_id, msg.message_id, question)
        return MessageOutcome(outcome, answered=reply_id is not None, reply_id=reply_id)

    async def on_edit(self, event: EditEvent) -> HarvestOutcome:
        """Update a stored message and the pairs made of it."""
        await self._queue.barrier()
        return await asyncio.to_thread(self.harvester.handle_edit, event)

    async def on_delete(self, event: DeleteEvent) -> HarvestOutcome:
        """Mark a stored message deleted; its pairs leave every future dataset."""
        await self._queue.barrier()
        return await asyncio.to_thread(self.harvester.handle_delete, event)

    async def on_reaction(self, event: ReactionEvent, platform: ChatPlatform) -> ReactionOutcome:
        """Feedback on a bot answer, or a moderator's verdict on a harvested pair."""
        await self._queue.barrier()
        logged = await asyncio.to_thread(self._feedback, event)
        if logged is not None:
            return logged
        return await self.moderation.handle_reaction(event, platform)

    async def on_command(self, event: CommandEvent, platform: ChatPlatform) -> str:
        """The reply text for a command (never raises); empty for a re-delivered one."""
        await self._queue.barrier()
        if event.message_id is not None and not await asyncio.to_thread(self._first_time, event):
            log.info("command %s in %s delivered again: not run twice", event.name, event.chat_id)
            return ""
        return await self.commands.handle(event, platform)

    def _first_time(self, event: CommandEvent) -> bool:
        """Record the command's message; False when it was handled before."""
        try:
            with session_scope(self.engine) as session:
                session.add(
                    HandledCommand(
                        platform=event.platform,
                        chat_id=event.chat_id[:64],
                        message_id=str(event.message_id)[:64],
                    )
                )
        except IntegrityError:
            return False
        return True

    # -- answering ----------------------------------------------------------------------

    def policy_of(self, platform_name: str, chat_id: str) -> str:
        """The chat's answering policy (its own, else its community's); off when unlinked."""
        with session_scope(self.engine) as session:
            chat = find_chat(session, platform_name, chat_id)
            if chat is None:
                return AnswerPolicy.OFF
            if chat.answer_policy:
                return chat.answer_policy
            community = session.get(Community, chat.community_id)
            return community.answer_policy if community else AnswerPolicy.OFF

    async def ask(
        self, platform_name: str, chat_id: str, question: str, question_id: str | None = None
    ) -> Answer | None:
        """Answer ``question`` as asked in a chat (logged); None when the chat is unlinked."""
        async with self._answering:
            return await asyncio.to_thread(
                self._ask_sync, platform_name, chat_id, question, question_id
            )

    def _ask_sync(
        self, platform_name: str, chat_id: str, question: str, question_id: str | None
    ) -> Answer | None:
        with session_scope(self.engine) as session:
            chat = find_chat(session, platform_name, chat_id)
            if chat is None:
                return None
            return answer(
                session,
                chat.community_id,
                question,
                generator_factory=self.generator_factory,
                max_new_tokens=self.max_new_tokens,
                chat_id=chat.id,
                platform=platform_name,
                question_external_id=question_id,
            )

    async def _answer(
        self, platform: ChatPlatform, chat_id: str, message_id: str, question: str
    ) -> str | None:
        result = await self.ask(platform.name, chat_id, question, message_id)
        if result is None:
            return None
        links = await asyncio.to_thread(self._source_links, platform, result.sources[:3])
        text = format_answer(result, question, links)
        if not text:
            return None
        reply_id = await platform.reply(chat_id, message_id, text)
        await asyncio.to_thread(
            self._record_reply, platform.name, chat_id, message_id, reply_id, text, result
        )
        return reply_id

    def _source_links(self, platform: ChatPlatform, pair_ids: list[int]) -> dict[int, str | None]:
        link_for = getattr(platform, "message_link", None)
        if link_for is None or not pair_ids:
            return {}
        links: dict[int, str | None] = {}
        with session_scope(self.engine) as session:
            for pid in pair_ids:
                pair = session.get(QAPair, pid)
                if pair is None or pair.question_message_id is None:
                    continue
                row = session.get(Message, pair.question_message_id)
                chat = session.get(Chat, row.chat_id) if row is not None else None
                if row is None or chat is None or chat.platform != platform.name:
                    continue
                links[pid] = link_for(chat.external_id, row.external_id)
        return links

    def _record_reply(
        self,
        platform_name: str,
        chat_id: str,
        question_id: str,
        reply_id: str,
        text: str,
        result: Answer,
    ) -> None:
        with session_scope(self.engine) as session:
            if result.log_id is not None:
                row = session.get(AnswerLog, result.log_id)
                if row is not None:
                    row.answer_external_id = reply_id
                    session.add(row)
        self.store_bot_message(platform_name, chat_id, reply_id, text, question_id)

    def store_bot_message(
        self,
        platform_name: str,
        chat_id: str,
        message_id: str,
        text: str,
        reply_to: str | None = None,
    ) -> None:
        """Keep what the bot said, so reactions and replies to it can be understood."""
        self.harvester.handle_message(
            MessageEvent(
                ChatMessage(
                    platform=platform_name,
                    chat_id=chat_id,
                    message_id=message_id,
                    author_id=BOT_AUTHOR_ID,
                    author_name="fanqa",
                    text=text,
                    sent_at=self.clock(),
                    reply_to_id=reply_to,
                    is_bot=True,
                )
            )
        )

    # -- review cards -------------------------------------------------------------------

    def _harvest_batch(self, events: list[MessageEvent]) -> list[_Harvested | Exception]:
        """Harvest ``events`` in one transaction, then look up in one more session what
        follows from them: new pairs' review cards, the bot answers replied to."""
        results: list[_Harvested | Exception] = []
        follow: list[tuple[int, MessageEvent, HarvestOutcome]] = []
        for i, (event, outcome) in enumerate(
            zip(events, self.harvester.handle_messages(events), strict=True)
        ):
            if isinstance(outcome, Exception):
                results.append(outcome)
                continue
            results.append((outcome, None, None))
            msg = event.message
            if outcome.kind in ("ignored", "duplicate") or msg.is_bot:
                continue
            if outcome.kind == "paired" or msg.reply_to_id is not None:
                follow.append((i, event, outcome))
        if follow:
            with session_scope(self.engine) as session:
                for i, event, outcome in follow:
                    paired = outcome.kind == "paired"
                    card = self._card(session, outcome.pair_ids[0]) if paired else None
                    msg = event.message
                    log_id = self._answer_log_for(session, msg) if msg.reply_to_id else None
                    results[i] = (outcome, card, log_id)
        return results

    async def _send_card(
        self, pair_id: int, card: tuple[str, str, str], origin: ChatPlatform
    ) -> str | None:
        """Post a new pair's review card in the moderator chat (not the chat it came from)."""
        platform_name, chat_id, text = card
        platform = self.platforms.get(platform_name)
        if platform is None and origin.name == platform_name:
            platform = origin
        if platform is None:
            return None
        try:
            card_id = await platform.send(chat_id, text)
        except Exception:  # a card that cannot be posted must not lose the harvested pair
            log.exception("posting the review card of pair %s failed", pair_id)
            return None
        await asyncio.to_thread(self.store_bot_message, platform_name, chat_id, card_id, text)
        return card_id

    def _card(self, session: Session, pair_id: int) -> tuple[str, str, str] | None:
        pair = session.get(QAPair, pair_id)
        if pair is None:
            return None
        community = session.get(Community, pair.community_id)
        if community is None or not (community.moderator_platform and community.moderator_chat_id):
            return None
        target = find_chat(session, community.moderator_platform, community.moderator_chat_id)
        if target is None or target.id == pair.chat_id:
            return None  # unlinked, or the pair was found in the moderator chat itself
        source = session.get(Chat, pair.chat_id) if pair.chat_id is not None else None
        answerer = session.get(Member, pair.answerer_id) if pair.answerer_id else None
        return (
            community.moderator_platform,
            community.moderator_chat_id,
            review_card(pair, source.title if source else "", answerer),
        )

    async def auto_answer_due(self, now: datetime | None = None) -> list[str]:
        """Answer questions nobody answered in time in ``auto`` chats; returns reply ids."""
        now = now or self.clock()
        due = await asyncio.to_thread(self._due_questions, now)
        replies = []
        for platform_name, chat_id, message_id, text in due:
            platform = self.platforms.get(platform_name)
            if platform is None:
                continue
            try:
                reply_id = await self._answer(platform, chat_id, message_id, text)
            except Exception:  # one chat failing must not stop the others
                log.exception("auto-answer in %s:%s failed", platform_name, chat_id)
                continue
            if reply_id is not None:
                replies.append(reply_id)
        return replies

    def _due_questions(self, now: datetime) -> list[tuple[str, str, str, str]]:
        found: list[tuple[str, str, str, str]] = []
        with session_scope(self.engine) as session:
            rows = session.exec(select(Chat, Community).where(Chat.community_id == Community.id))
            for chat, community in rows.all():
                policy = chat.answer_policy or community.answer_policy
                if policy != AnswerPolicy.AUTO:
                    continue
                wait = timedelta(minutes=community.auto_answer_after_min)
                found.extend(
                    (chat.platform, chat.external_id, q.external_id, q.text)
                    for q in _unanswered(session, chat, now - wait, now - wait - timedelta(days=1))
                )
        return found

    # -- feedback and corrections -------------------------------------------------------

    def _feedback(self, event: ReactionEvent) -> ReactionOutcome | None:
        emoji = event.emoji.rstrip("\ufe0f")
        up = emoji in FEEDBACK_UP or event.emoji in FEEDBACK_UP
        down = emoji in FEEDBACK_DOWN or event.emoji in FEEDBACK_DOWN
        if not (up or down):
            return None
        with session_scope(self.engine) as session:
            linked = self.harvester.linked(session, event.platform, event.chat_id)
            if linked is None:
                return None
            row = session.exec(
                select(AnswerLog).where(
                    AnswerLog.chat_id == linked[0],
                    AnswerLog.answer_external_id == event.message_id,
                )
            ).first()
            if row is None:
                return None
            step = 1 if event.added else -1
            if up:
                row.feedback_up = max(0, row.feedback_up + step)
            else:
                row.feedback_down = max(0, row.feedback_down + step)
            session.add(row)
            return ReactionOutcome(None, f"feedback on answer {row.id} recorded")

    async def _correction(
        self, msg: ChatMessage, target: int, platform: ChatPlatform
    ) -> int | None:
        if not msg.text.strip():
            return None
        if not await is_moderator(self.engine, platform, msg.platform, msg.chat_id, msg.author_id):
            return None
        return await asyncio.to_thread(self._store_correction, msg, target)

    def _answer_log_for(self, session: Session, msg: ChatMessage) -> int | None:
        """The answer log row of the bot answer ``msg`` replies to, if it replies to one."""
        linked = self.harvester.linked(session, msg.platform, msg.chat_id)  # cached
        if linked is None or msg.reply_to_id is None:
            return None
        return session.exec(
            select(AnswerLog.id)
            .where(AnswerLog.chat_id == linked[0], AnswerLog.answer_external_id == msg.reply_to_id)
            .limit(1)
        ).first()

    def _store_correction(self, msg: ChatMessage, log_id: int) -> int | None:
        with session_scope(self.engine) as session:
            log_row = session.get(AnswerLog, log_id)
            chat = find_chat(session, msg.platform, msg.chat_id)
            if log_row is None or chat is None:
                return None
            chash = content_hash(log_row.question_text, msg.text)
            clash = session.exec(
                select(QAPair.id).where(
                    QAPair.community_id == chat.community_id, QAPair.content_hash == chash
                )
            ).first()
            if clash is not None:
                return clash
            question = (
                get_message(session, chat.id or 0, log_row.question_external_id)
                if log_row.question_external_id
                else None
            )
            author = get_or_create_member(
                session, chat.community_id, msg.platform, msg.author_id, msg.author_name[:255]
            )
            pair = QAPair(
                community_id=chat.community_id,
                chat_id=chat.id,
                source_key=f"{msg.platform}:{msg.chat_id}:"
                f"{log_row.question_external_id or 'answer-' + str(log_id)}:{msg.message_id}",
                question_message_id=question.id if question is not None else None,
                question_text=log_row.question_text,
                answer_text=msg.text.strip(),
                asker_id=question.author_id if question is not None else None,
                answerer_id=author.id,
                method="correction",
                score=1.0,
                content_hash=chash,
                split=split_for_hash(chash),
            )
            session.add(pair)
            session.flush()
            return pair.id

    # -- notifications ------------------------------------------------------------------

    async def notify(self, community_id: int, text: str, image: Path | None = None) -> bool:
        """Post ``text`` (and a chart) in the community's moderator chat; False when none."""
        target = await asyncio.to_thread(self._moderator_chat, community_id)
        if target is None:
            return False
        platform_name, chat_id = target
        platform = self.platforms.get(platform_name)
        if platform is None:
            return False
        try:
            if image is not None and image.exists():
                await platform.send_photo(chat_id, image, text)
            else:
                await platform.send(chat_id, text)
        except Exception:  # a notification must never break the caller
            log.exception("notifying community %s failed", community_id)
            return False
        return True

    def _moderator_chat(self, community_id: int) -> tuple[str, str] | None:
        with session_scope(self.engine) as session:
            community = session.get(Community, community_id)
            if community is None:
                return None
            if community.moderator_platform and community.moderator_chat_id:
                return community.moderator_platform, community.moderator_chat_id
            return None


def _unanswered(
    session: Session, chat: Chat, older_than: datetime, newer_than: datetime
) -> list[Message]:
    """Questions in ``chat`` sent in the window with no reply and no bot answer yet."""
    questions = session.exec(
        select(Message).where(
            Message.chat_id == chat.id,
            col(Message.is_question).is_(True),
            col(Message.deleted).is_(False),
            col(Message.is_bot).is_(False),
            Message.sent_at <= older_than,
            Message.sent_at > newer_than,
        )
    ).all()
    if not questions:
        return []
    ids = [q.external_id for q in questions]
    replied = set(
        session.exec(
            select(Message.reply_to_external_id).where(
                Message.chat_id == chat.id, col(Message.reply_to_external_id).in_(ids)
            )
        ).all()
    )
    in_thread = set(
        session.exec(
            select(Message.thread_external_id).where(
                Message.chat_id == chat.id,
                col(Message.thread_external_id).in_(ids),
                col(Message.external_id).not_in(ids),
            )
        ).all()
    )
    answered = set(
        session.exec(
            select(AnswerLog.question_external_id).where(
                AnswerLog.chat_id == chat.id, col(AnswerLog.question_external_id).in_(ids)
            )
        ).all()
    )
    return [q for q in questions if q.external_id not in replied | in_thread | answered]
