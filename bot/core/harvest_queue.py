"""Messages are harvested in arrival order, the ones that arrive together in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.core.events import MessageEvent

__all__ = ["HarvestQueue"]

R = TypeVar("R")


class HarvestQueue(Generic[R]):
    """Harvests the messages that arrive together in one batch, in arrival order.

    A lone message is a batch of one; under load (many chats, concurrent updates) the
    messages that arrived while a batch was being written form the next one. ``barrier``
    waits until everything submitted before it is stored, so an edit, reaction or command
    never overtakes the message it refers to. ``run`` stores a batch (off the loop) and
    returns one result, or the exception, per message.
    """

    def __init__(
        self, run: Callable[[list[MessageEvent]], Awaitable[list[R | Exception]]], max_batch: int
    ) -> None:
        self._run = run
        self.max_batch = max_batch
        self._pending: list[tuple[MessageEvent, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._submitted = 0
        self._finished = 0
        self._progress: asyncio.Condition | None = None

    def enqueue(self, event: MessageEvent) -> asyncio.Future[R]:
        """Queue ``event`` now (its place in the order is taken before this returns)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
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
            results: list[R | Exception]
            try:
                results = await self._run([event for event, _ in batch])
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
