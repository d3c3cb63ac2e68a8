"""Slash commands, written once for every platform; each returns the reply text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.events import CommandEvent
from bot.core.moderation import actor_label, is_moderator
from bot.core.port import ChatPlatform
from bot.core.training import TRAINING_COMMANDS, training_status
from harvest.errors import FanqaError, InputError, NotFound
from storage.db import session_scope
from storage.models import Member, ReviewEvent
from storage.repo.communities import find_chat, get_or_create_member, set_role
from storage.repo.pairs import count_pairs, list_pairs, record_event, review_pair
from storage.repo.privacy import forget_member as forget_everywhere
from storage.repo.privacy import purge_free_pages

__all__ = ["COMMANDS", "REFUSAL", "CommandHandler", "forget_member", "resolve_member"]

REFUSAL = "Sorry, only moderators can do that. / 抱歉，仅管理员可用。"
NOT_LINKED = "This chat is not linked to a community. / 此聊天尚未关联社区。"
_SNIPPET = 60


@dataclass(frozen=True, slots=True)
class _Ctx:
    community_id: int
    platform: str
    actor_id: int | None
    label: str
    chat_id: str = ""
    # Run after the command's transaction commits (e.g. rescheduling a training job).
    after_commit: list[Callable[[], object]] = field(default_factory=list)


_Func = Callable[[Session, _Ctx, tuple[str, ...]], str]


@dataclass(frozen=True, slots=True)
class _Spec:
    func: _Func
    usage: str
    summary: str
    moderator_only: bool = True


def _usage(name: str) -> InputError:
    return InputError(f"usage: {COMMANDS[name].usage}")


def _pair_id(raw: str, name: str) -> int:
    text = raw.lstrip("#")
    if not text.isdigit():
        raise _usage(name)
    return int(text)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"


def resolve_member(session: Session, community_id: int, platform: str, user: str) -> Member:
    """A community member by platform user id or ``@display name`` (case-insensitive)."""
    name = user.strip()
    if not name:
        raise InputError("name a user: an id or @name", field="user")
    members = session.exec(select(Member).where(Member.community_id == community_id)).all()
    if not name.startswith("@"):
        for member in members:
            if member.platform == platform and member.external_id == name:
                return member
    wanted = name.lstrip("@").casefold()
    found = [m for m in members if m.display_name.casefold() == wanted]
    same = [m for m in found if m.platform == platform] or found
    if len(same) > 1:
        ids = ", ".join(f"{m.platform}:{m.external_id}" for m in same)
        raise InputError(f"{name} is ambiguous ({ids}); use the user id", field="user")
    if not same:
        raise NotFound(f"no member {name} in this community", kind="member", key=name)
    return same[0]


def forget_member(session: Session, community_id: int, member: Member, label: str) -> str:
    """Remove a member's text everywhere (``storage.repo.privacy``); the reply text."""
    return forget_everywhere(session, community_id, member, label).summary()


def _pending(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if len(args) > 1 or (args and not args[0].isdigit()):
        raise _usage("pending")
    limit = min(max(int(args[0]) if args else 5, 1), 20)
    pairs = list_pairs(session, ctx.community_id, status="pending", limit=limit)
    if not pairs:
        return "Nothing pending. / 没有待审核的问答。"
    lines = [f"#{p.id} Q: {_short(p.question_text)}\n    A: {_short(p.answer_text)}" for p in pairs]
    return "\n".join(["Pending / 待审核:", *lines])


def _review(action: str, done: str) -> _Func:
    def run(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
        if len(args) != 1:
            raise _usage(action)
        pair = review_pair(
            session,
            _pair_id(args[0], action),
            action,
            community_id=ctx.community_id,
            actor_id=ctx.actor_id,
            actor_label=ctx.label,
        )
        return f"#{pair.id} {done}"

    return run


def _edit(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if len(args) < 2:
        raise _usage("edit")
    pair = review_pair(
        session,
        _pair_id(args[0], "edit"),
        "edit",
        community_id=ctx.community_id,
        actor_id=ctx.actor_id,
        actor_label=ctx.label,
        answer_text=" ".join(args[1:]),
    )
    return f"#{pair.id} answer updated ✏️"


def _expert(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if len(args) < 2 or args[0] not in ("add", "remove"):
        raise _usage("expert")
    member = resolve_member(session, ctx.community_id, ctx.platform, " ".join(args[1:]))
    who = member.display_name or member.external_id
    if member.role == "moderator":
        return f"{who} is a moderator; roles unchanged."
    role = "expert" if args[0] == "add" else "member"
    before = member.role
    set_role(session, member.id or 0, role)
    record_event(
        session,
        community_id=ctx.community_id,
        action="role",
        actor_id=ctx.actor_id,
        actor_label=ctx.label,
        before={"member": f"{member.platform}:{member.external_id}", "role": before},
        after={"member": f"{member.platform}:{member.external_id}", "role": role},
    )
    return f"{who} is now {'an expert' if role == 'expert' else 'a member'}."


def _forget(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if not args:
        raise _usage("forget")
    member = resolve_member(session, ctx.community_id, ctx.platform, " ".join(args))
    ctx.after_commit.append(partial(purge_free_pages, session.get_bind()))  # SQLite: WAL out
    return forget_member(session, ctx.community_id, member, ctx.label)


def _status(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    counts = count_pairs(session, ctx.community_id)
    line = ", ".join(f"{k} {v}" for k, v in counts.items())
    last = session.exec(
        select(ReviewEvent)
        .where(ReviewEvent.community_id == ctx.community_id)
        .order_by(col(ReviewEvent.id).desc())
    ).first()
    training = training_status(session, ctx.community_id)
    if last is None:
        return "\n".join([f"Pairs: {line}. No reviews yet.", *training])
    target = f" #{last.pair_id}" if last.pair_id is not None else ""
    when = last.created_at.strftime("%Y-%m-%d %H:%M")
    head = f"Pairs: {line}. Last review: {last.action}{target} by {last.actor_label} ({when})."
    return "\n".join([head, *training])


def _help(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    lines = [f"{spec.usage} — {spec.summary}" for spec in COMMANDS.values()]
    tail = "React ✅/👍 to approve an answer, ❌/👎 to reject; remove the reaction to undo."
    return "\n".join([*lines, tail, "管理员可用 ✅ 批准、❌ 拒绝答案。"])


COMMANDS: dict[str, _Spec] = {
    "pending": _Spec(_pending, "/pending [N]", "list pairs waiting for review"),
    "approve": _Spec(_review("approve", "approved ✅"), "/approve ID", "approve a pair"),
    "reject": _Spec(_review("reject", "rejected ❌"), "/reject ID", "reject a pair"),
    "edit": _Spec(_edit, "/edit ID new answer", "replace a pair's answer"),
    "expert": _Spec(_expert, "/expert add|remove USER", "give or take the expert role"),
    "forget": _Spec(_forget, "/forget USER", "delete a member's messages and pairs"),
    **{
        name: _Spec(func, usage, summary)
        for name, (func, usage, summary) in TRAINING_COMMANDS.items()
    },
    "status": _Spec(
        _status, "/status", "pairs, live model, training run and next scheduled training", False
    ),
    "help": _Spec(_help, "/help", "this list", False),
}


class CommandHandler:
    """Runs a command in the chat's community; refuses moderator commands to others."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def handle(self, event: CommandEvent, platform: ChatPlatform) -> str:
        """The reply text for ``event`` (errors become a one-line reply, never raise)."""
        name = event.name.lstrip("/").split("@", 1)[0].lower()
        spec = COMMANDS.get(name)
        if spec is None:
            return f"Unknown command /{name}. Try /help."
        with session_scope(self.engine) as session:
            chat = find_chat(session, event.platform, event.chat_id)
            if chat is None:
                return NOT_LINKED
        if spec.moderator_only and not await is_moderator(
            self.engine, platform, event.platform, event.chat_id, event.user_id
        ):
            return REFUSAL
        try:
            with session_scope(self.engine) as session:
                actor = get_or_create_member(
                    session, chat.community_id, event.platform, event.user_id, event.user_name
                )
                ctx = _Ctx(
                    chat.community_id,
                    event.platform,
                    actor.id,
                    actor_label(event.platform, event.user_id),
                    event.chat_id,
                )
                reply = spec.func(session, ctx, tuple(event.args))
        except FanqaError as exc:
            return str(exc)
        for action in ctx.after_commit:
            action()
        return reply
