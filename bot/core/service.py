"""The bot as one object: every adapter (Telegram, Discord, console) feeds it neutral events.

``BotService`` routes each event to the part of the core that decides about it — harvesting
(``harvesting``, in arrival order through ``harvest_queue``), reactions (``reactions``),
commands (``command_handler``), answering (``asking``, policy in ``policy``) — and posts what
follows: review cards, answers, notifications, every text cleaned and capped (``content``).
All database work runs through ``storage.database.Database`` off the event loop, one short
transaction at a time; nothing holds a session across an ``await``, a platform call or a
model call.

A 👍/👎 on one of the bot's answers goes to the answer log; a moderator's reply to one of the
bot's answers becomes a pending pair (the correction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.answering import Retriever, notice_for
from bot.core.asking import Answer, Asker
from bot.core.command_handler import CommandHandler, Scheduling
from bot.core.content import outgoing
from bot.core.events import CommandEvent, DeleteEvent, EditEvent, MessageEvent, ReactionEvent
from bot.core.follow_ups import CARD_OUTCOMES, FollowUp, cards_for, follow_ups
from bot.core.harvest_queue import HarvestQueue
from bot.core.harvesting import Harvester, HarvestOutcome
from bot.core.learning_hooks import LearningHooks
from bot.core.moderation import ReactionOutcome
from bot.core.policy import AnswerPolicy, format_answer, should_answer
from bot.core.port import ChatPlatform
from bot.core.reactions import ReactionModerator, is_moderator
from bot.core.units.answers import (
    Card,
    card_for,
    chat_policy,
    due_questions,
    moderator_chat,
    record_reply,
    source_messages,
    store_correction,
)
from bot.core.units.reactions import track_card
from harvest.model import ChatMessage
from harvest.sanitize import sanitize
from storage.database import Database
from storage.models import utcnow
from trainer.enqueue import TrainingDefaults
from trainer.generation import GeneratorFactory

__all__ = [
    "BOT_AUTHOR_ID",
    "CARD_OUTCOMES",
    "AnswerPolicy",
    "BotService",
    "MessageOutcome",
    "format_answer",
    "pick_notice",
]

log = logging.getLogger(__name__)

BOT_AUTHOR_ID = "fanqa-bot"

pick_notice = notice_for  # the abstain notice in the question's language


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What a new message did: the harvest outcome, and the bot's reply id if it answered."""

    harvest: HarvestOutcome
    answered: bool = False
    reply_id: str | None = None
    correction_pair_id: int | None = None


# The outcome, its review cards to post, the answer log of the bot answer it replies to.
_Harvested = tuple[HarvestOutcome, list[Card], int | None]


class BotService:
    """Every platform's entry point into the core (see the module docstring).

    ``db``: the database runner (an ``Engine`` is wrapped in one); ``generator_factory``
    makes the live model's generator; ``retriever`` holds the communities' indexes;
    ``clock`` is injectable so auto-answer tests need no sleeping; ``training_defaults`` /
    ``scheduling``: what ``/train`` queues and the scheduler ``/schedule`` reaches (set by
    the composition root).
    """

    def __init__(
        self,
        db: Database | Engine,
        *,
        generator_factory: GeneratorFactory | None = None,
        clock: Callable[[], datetime] = utcnow,
        max_new_tokens: int = 128,
        max_batch: int = 256,
        training_defaults: TrainingDefaults | None = None,
        scheduling: Scheduling | None = None,
        desk_url: str | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        self.learning = LearningHooks(self.db)
        self.learner = self.learning.learner
        self.harvester = Harvester(self.db.engine, scorers=self.learner.scorer_for)
        self.moderation = ReactionModerator(self.db)
        self.commands = CommandHandler(self.db, training_defaults, scheduling, desk_url=desk_url)
        self.asker = Asker(
            self.db, generator_factory, max_new_tokens=max_new_tokens, retriever=retriever
        )
        self.clock = clock
        self.platforms: dict[str, ChatPlatform] = {}
        self._queue: HarvestQueue[_Harvested] = HarvestQueue(self._harvest, max_batch)
        self._background: set[asyncio.Task[MessageOutcome]] = set()

    @property
    def engine(self) -> Engine:
        """The database engine (adapters use ``db``)."""
        return self.db.engine

    def register(self, platform: ChatPlatform) -> None:
        """Make ``platform`` reachable for auto-answers and moderator notifications."""
        self.platforms[platform.name] = platform

    def attach_scheduling(self, scheduling: Scheduling | None) -> None:
        """Let ``/schedule`` reach the running scheduler (None: no scheduler here)."""
        self.commands.scheduling = scheduling

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
        """Wait for every posted message to be harvested and answered, and for the refits
        moderators' decisions started (clean shutdown)."""
        while self._background or self.learning.pending:
            await asyncio.gather(*self._background, *self.learning.pending, return_exceptions=True)

    async def _harvest(self, events: list[MessageEvent]) -> list[_Harvested | Exception]:
        return await self.db.offload(self._harvest_batch, events)

    def _harvest_batch(self, events: list[MessageEvent]) -> list[_Harvested | Exception]:
        """On a database thread: harvest ``events`` in one transaction, which also looks up
        what follows from them (``bot.core.follow_ups``); the review cards of new pairs are
        made after auto-approval, in one more only when there are some."""
        self.learning.before_batch()
        follow: dict[int, FollowUp] = {}

        def look_up(session: Session, outcomes: list[HarvestOutcome | Exception]) -> None:
            follow.clear()  # the batch may be retried message by message
            follow.update(follow_ups(session, events, outcomes))

        outcomes = self.harvester.handle_messages(events, then=look_up)
        self.learning.after_batch(outcomes)
        carded = sorted({pid for pair_ids, _ in follow.values() for pid in pair_ids})
        cards = self.db.call(cards_for, carded) if carded else {}
        harvested: list[_Harvested | Exception] = []
        for i, outcome in enumerate(outcomes):
            pair_ids, answered = follow.get(i, ((), None))
            harvested.append(
                outcome
                if isinstance(outcome, Exception)
                else (outcome, [cards[p] for p in pair_ids if p in cards], answered)
            )
        return harvested

    async def _after_harvest(
        self,
        event: MessageEvent,
        platform: ChatPlatform,
        prompt: str | None,
        harvested: asyncio.Future[_Harvested],
    ) -> MessageOutcome:
        msg = event.message
        outcome, cards, answered_log = await harvested
        if outcome.kind in ("ignored", "duplicate") or msg.is_bot:
            return MessageOutcome(outcome)
        for card in cards:
            await self._send_card(card, platform)
        correction = None
        if answered_log is not None:
            correction = await self._correction(msg, answered_log, platform)
        question = (prompt if prompt is not None else msg.text).strip()
        if not event.mentions_bot or correction is not None:
            return MessageOutcome(outcome, correction_pair_id=correction)
        policy = await self.db.run(chat_policy, msg.platform, msg.chat_id)
        if not should_answer(
            policy, mentions_bot=event.mentions_bot, is_correction=False, question=question
        ):
            return MessageOutcome(outcome)
        reply_id = await self._answer(platform, msg.chat_id, msg.message_id, question)
        return MessageOutcome(outcome, answered=reply_id is not None, reply_id=reply_id)

    async def on_edit(self, event: EditEvent) -> HarvestOutcome:
        """Update a stored message and the pairs made of it; an approved pair it changed
        is pending again and gets a new review card saying why (``outcome.review``)."""
        await self._queue.barrier()
        outcome = await self.db.offload(self.harvester.handle_edit, event)
        origin = self.platforms.get(event.platform)
        await self._post_cards(outcome, origin)
        for pair_id in outcome.review:
            card = await self.db.run(card_for, pair_id)
            if card is not None:
                note = f"⚠️ {outcome.review_note}\n{card.text}"
                await self._send_card(replace(card, text=note), origin)
        return outcome

    async def on_delete(self, event: DeleteEvent) -> HarvestOutcome:
        """Mark a stored message deleted; its pairs leave every future dataset."""
        await self._queue.barrier()
        return await self.db.offload(self.harvester.handle_delete, event)

    async def on_reaction(self, event: ReactionEvent, platform: ChatPlatform) -> ReactionOutcome:
        """Feedback on a bot answer, or a moderator's verdict on a harvested pair."""
        await self._queue.barrier()
        outcome = await self.moderation.handle_reaction(event, platform)
        if outcome.action in ("approve", "reject"):
            self.learning.refit_after(pair_id=outcome.pair_id)
        return outcome

    async def on_command(self, event: CommandEvent, platform: ChatPlatform) -> str:
        """The reply text for a command (never raises); empty for a re-delivered one."""
        await self._queue.barrier()
        reply = await self.commands.handle(event, platform)
        if event.name in ("approve", "reject"):
            self.learning.refit_after(chat=(event.platform, event.chat_id))
        return reply

    # -- answering ----------------------------------------------------------------------

    async def policy_of(self, platform_name: str, chat_id: str) -> str:
        """The chat's answering policy (its own, else its community's); off when unlinked."""
        return await self.db.run(chat_policy, platform_name, chat_id)

    async def ask(
        self, platform_name: str, chat_id: str, question: str, question_id: str | None = None
    ) -> Answer | None:
        """Answer ``question`` as asked in a chat (logged); None when the chat is unlinked."""
        return await self.asker.ask(platform_name, chat_id, question, question_id)

    async def _answer(
        self, platform: ChatPlatform, chat_id: str, message_id: str, question: str
    ) -> str | None:
        result = await self.ask(platform.name, chat_id, question, message_id)
        if result is None:
            return None
        shown = result.sources[:3]
        found = await self.db.run(source_messages, platform.name, shown) if shown else {}
        links = {pid: platform.message_link(*where) for pid, where in found.items()}
        text = outgoing(format_answer(result, question, links), platform.text_limit)
        if not text:
            return None
        reply_id = await platform.reply(chat_id, message_id, text)
        await self.db.run(record_reply, result.log_id, reply_id)
        await self.store_bot_message(platform.name, chat_id, reply_id, text, message_id)
        return reply_id

    async def store_bot_message(
        self,
        platform_name: str,
        chat_id: str,
        message_id: str,
        text: str,
        reply_to: str | None = None,
    ) -> None:
        """Keep what the bot said, so reactions and replies to it can be understood."""
        event = MessageEvent(
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
        await self._queue.enqueue(event)

    async def auto_answer_due(self, now: datetime | None = None) -> list[str]:
        """Answer questions nobody answered in time in ``auto`` chats; returns reply ids."""
        due = await self.db.run(due_questions, now or self.clock())
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

    # -- review cards and corrections ---------------------------------------------------

    async def _post_cards(self, outcome: HarvestOutcome, origin: ChatPlatform | None) -> None:
        """Post the review card of every pair ``outcome`` puts in front of the moderators."""
        if outcome.kind not in CARD_OUTCOMES:
            return
        for pair_id in outcome.pair_ids:
            card = await self.db.run(card_for, pair_id)
            if card is not None:
                await self._send_card(card, origin)

    async def _send_card(self, card: Card, origin: ChatPlatform | None) -> str | None:
        """Post a card in the moderator chat (not the chat it came from) and track its id."""
        platform = self.platforms.get(card.platform)
        if platform is None and origin is not None and origin.name == card.platform:
            platform = origin
        if platform is None:
            return None
        text = outgoing(card.text, platform.text_limit)
        try:
            card_id = await platform.send(card.chat_id, text)
        except Exception:  # a card that cannot be posted must not lose the harvested pair
            log.exception("posting the review card of pair %s failed", card.pair_id)
            return None
        await self.store_bot_message(card.platform, card.chat_id, card_id, text)
        await self.db.run(track_card, card.platform, card.chat_id, card_id, card.pair_id)
        return card_id

    async def _correction(
        self, msg: ChatMessage, target: int, platform: ChatPlatform
    ) -> int | None:
        if not msg.text.strip():
            return None
        if not await is_moderator(self.db, platform, msg.chat_id, msg.author_id):
            return None
        return await self.db.run(store_correction, msg, target)

    # -- notifications ------------------------------------------------------------------

    async def notify(self, community_id: int, text: str, image: Path | None = None) -> bool:
        """Post ``text`` (and a chart) in the community's moderator chat; False when none."""
        text = sanitize(text)  # a provider's error text may carry a key (harvest.sanitize)
        target = await self.db.run(moderator_chat, community_id)
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
