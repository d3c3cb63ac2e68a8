"""Desk actions that are chat commands: run the very command function /promote etc. run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.core.commands import COMMANDS
from bot.web.auth import Grant
from storage.db import session_scope
from storage.repo.pairs import record_event

__all__ = ["WEB_PLATFORM", "WebContext", "run_command"]

WEB_PLATFORM = "web"


@dataclass(frozen=True, slots=True)
class WebContext:
    """What a chat command reads about its caller, for a moderator on the desk."""

    community_id: int
    actor_id: int | None
    label: str
    platform: str = WEB_PLATFORM
    chat_id: str = ""
    after_commit: list[Callable[[], object]] = field(default_factory=list)


def run_command(
    engine: Engine, grant: Grant, name: str, *args: str, audit: str | None = None
) -> str:
    """Run chat command ``name`` as ``grant``'s moderator; its reply text.

    Errors (FanqaError) propagate and roll everything back. ``audit`` also appends a
    review_events row with that action, marked "via web", in the same transaction.
    """
    spec = COMMANDS[name]
    cid = grant.community.id or 0
    ctx = WebContext(cid, grant.member.id, grant.label)
    with session_scope(engine) as session:
        reply = spec.func(session, ctx, tuple(args))  # type: ignore[arg-type]
        if audit is not None:
            record_event(
                session,
                community_id=cid,
                action=audit,
                actor_id=grant.member.id,
                actor_label=grant.label,
                after={"args": list(args), "reply": reply},
            )
    for action in ctx.after_commit:
        action()
    return reply
