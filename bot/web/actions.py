"""Desk actions that are chat commands: run the very unit of work /promote etc. run."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.core.units.commands import WORK, CommandCtx
from bot.web.auth import Grant
from storage.db import session_scope
from storage.repo.pairs import record_event

__all__ = ["WEB_PLATFORM", "run_command"]

WEB_PLATFORM = "web"


def run_command(
    engine: Engine, grant: Grant, name: str, *args: str, audit: str | None = None
) -> str:
    """Run chat command ``name`` as ``grant``'s moderator; its reply text.

    Errors (FanqaError) propagate and roll everything back. ``audit`` also appends a
    review_events row with that action, marked "via web", in the same transaction.
    """
    cid = grant.community.id or 0
    ctx = CommandCtx(cid, WEB_PLATFORM, grant.member.id, grant.label)
    with session_scope(engine) as session:
        reply = WORK[name](session, ctx, tuple(args))
        if ctx.effects:  # only /schedule has after-commit effects (the running scheduler)
            raise RuntimeError(f"/{name} has effects the desk cannot apply; nothing was done")
        if audit is not None:
            record_event(
                session,
                community_id=cid,
                action=audit,
                actor_id=grant.member.id,
                actor_label=grant.label,
                after={"args": list(args), "reply": reply},
            )
    return reply
