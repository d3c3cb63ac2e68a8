"""Answering a question asked in a chat: read, close, generate off the loop, then log.

The one place the bot calls the answering steps (``prepare`` → ``generate`` → ``decide`` →
``record``, ``bot.answering``): the plan is read in one short transaction, the model
generates with no session open (on a generation thread of its own, one at a time: the model
is shared), and the answer log is written in a new short transaction. Moderation and
commands never wait behind a generation.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session

from bot.answering import Answer, Prepared, Retriever, decide, generate, prepare, record
from storage.database import Database
from storage.repo.communities import find_chat
from trainer.generation import GeneratorFactory

__all__ = ["Answer", "Asker"]


def _plan(
    session: Session, platform: str, chat_id: str, question: str, retriever: Retriever | None
) -> tuple[int, Prepared] | None:
    chat = find_chat(session, platform, chat_id)
    if chat is None:
        return None
    return chat.id or 0, prepare(session, chat.community_id, question, retriever=retriever)


class Asker:
    """Answers questions for ``BotService`` (and anything else holding a ``Database``)."""

    def __init__(
        self,
        db: Database,
        generator_factory: GeneratorFactory | None = None,
        *,
        max_new_tokens: int = 128,
        retriever: Retriever | None = None,
    ) -> None:
        self.db = db
        self.retriever = retriever
        self.generator_factory = generator_factory
        self.max_new_tokens = max_new_tokens
        self._generator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fanqa-generate")

    async def ask(
        self, platform: str, chat_id: str, question: str, question_id: str | None = None
    ) -> Answer | None:
        """Answer ``question`` as asked in a chat (logged); None when the chat is unlinked."""
        planned = await self.db.run(_plan, platform, chat_id, question, self.retriever)
        if planned is None:
            return None
        chat_pk, plan = planned
        generation = None
        if plan.target is not None:
            work = functools.partial(
                generate, plan, self.generator_factory, max_new_tokens=self.max_new_tokens
            )
            generation = await asyncio.get_running_loop().run_in_executor(self._generator, work)
        return await self.db.run(
            record,
            plan,
            decide(plan, generation),
            chat_id=chat_pk,
            platform=platform,
            question_external_id=question_id,
        )
