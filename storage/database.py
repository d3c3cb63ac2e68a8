"""The one place blocking database work leaves the event loop: ``await db.run(unit, ...)``.

A *unit of work* is a plain function ``unit(session, *args) -> value`` that reads and writes
what it needs and returns plain values. ``Database.run`` runs it in one short transaction on
a small thread pool of its own, so the loop never blocks on SQLite's lock or a slow query,
and model generation (which runs on other threads) can never starve database work. No
session outlives a unit: nothing is held across an ``await``, a platform call or a model call.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import session_scope

__all__ = ["Database"]

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """Runs units of work off the event loop, each in its own short transaction.

    ``workers``: database threads (SQLite serialises writers anyway; a few let reads overlap).
    """

    def __init__(self, engine: Engine, *, workers: int = 4) -> None:
        self.engine = engine
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanqa-db")

    def call(
        self, unit: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``unit`` in one transaction on this thread (for code already off the loop)."""
        with session_scope(self.engine) as session:
            return unit(session, *args, **kwargs)

    async def run(
        self, unit: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``unit`` in one transaction on a database thread; committed when it returns."""
        work: Callable[[], T] = functools.partial(self.call, unit, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    async def offload(self, blocking: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database code that opens its own sessions (the harvester's)."""
        work: Callable[[], T] = functools.partial(blocking, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    def close(self) -> None:
        """Let the database threads end (units already queued still finish)."""
        self._pool.shutdown(wait=False)

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"
