"""Answering a question asked in a chat: read, close, generate off the loop, then log.

The one place the bot calls the answering steps (``plan_answer`` → ``generate_for`` →
``decide_answer`` → ``log_answer``): the plan is read in one short transaction, the model
generates with no session open (on a generation thread of its own, one at a time: the model
is shared), and the answer log is written in a new short transaction. Moderation and
commands never wait behind a generation.
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from sqlmodel import Session

from storage.database import Database
from storage.repo.communities import find_chat
from trainer.answering import (
    Answer,
    AnswerPlan,
    GeneratorFactory,
    decide_answer,
    generate_for,
    log_answer,
    plan_answer,
)

__all__ = ["Answer", "Asker"]


def _plan(
    session: Session, platform: str, chat_id: str, question: str
) -> tuple[int, AnswerPlan] | None:
    chat = find_chat(session, platform, chat_id)
    if chat is None:
        return None
    return chat.id or 0, plan_answer(session, chat.community_id, question)


class Asker:
    """Answers questions for ``BotService`` (and anything else holding a ``Database``)."""

    def __init__(
        self,
        db: Database,
        generator_factory: GeneratorFactory | None = None,
        *,
        max_new_tokens: int = 128,
    ) -> None:
        self.db = db
        self.generator_factory = generator_factory
        self.max_new_tokens = max_new_tokens
        self._generator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fanqa-generate")

    async def ask(
        self, platform: str, chat_id: str, question: str, question_id: str | None = None
    ) -> Answer | None:
        """Answer ``question`` as asked in a chat (logged); None when the chat is unlinked."""
        started = time.perf_counter()
        planned = await self.db.run(_plan, platform, chat_id, question)
        if planned is None:
            return None
        chat_pk, plan = planned
        generation = None
        if plan.target is not None:
            work = functools.partial(
                generate_for, plan, self.generator_factory, max_new_tokens=self.max_new_tokens
            )
            generation = await asyncio.get_running_loop().run_in_executor(self._generator, work)
        result = decide_answer(plan, generation)
        log_id = await self.db.run(
            log_answer,
            plan,
            result,
            chat_id=chat_pk,
            platform=platform,
            question_external_id=question_id,
            latency_ms=(time.perf_counter() - started) * 1000.0,
        )
        return replace(result, log_id=log_id)
