"""What each chat command does to storage: one unit of work per command run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.commands import (
    DESK_SENT,
    DeskLogin,
    PurgeFreePages,
    help_text,
    parse_limit,
    parse_pair_id,
    short,
    usage_error,
)
from bot.core.training import TRAINING_WORK, training_status
from harvest.errors import InputError, NotFound
from storage.models import HandledCommand, Member, ReviewEvent
from storage.repo.communities import find_chat, get_or_create_member, set_role
from storage.repo.logins import create_login_link
from storage.repo.pairs import count_pairs, list_pairs, record_event, review_pair
from storage.repo.privacy import forget_member as forget_everywhere
from trainer.enqueue import TrainingDefaults

__all__ = [
    "WORK",
    "CommandCtx",
    "CommandStart",
    "forget_member",
    "resolve_member",
    "run_command",
    "start_command",
]


@dataclass(frozen=True, slots=True)
class CommandStart:
    """Where a command arrived: its community (None: unlinked chat), the caller's role there,
    and ``repeated`` when the platform delivered this command before."""

    community_id: int | None
    role: str | None = None
    repeated: bool = False


def start_command(
    session: Session, platform: str, chat_id: str, user_id: str, message_id: str | None
) -> CommandStart:
    """Record the command's message (a re-delivered one is ``repeated``); find its chat."""
    if message_id is not None:
        try:
            with session.begin_nested():
                session.add(
                    HandledCommand(
                        platform=platform, chat_id=chat_id[:64], message_id=message_id[:64]
                    )
                )
        except IntegrityError:
            return CommandStart(None, repeated=True)
    chat = find_chat(session, platform, chat_id)
    if chat is None:
        return CommandStart(None)
    role = session.exec(
        select(Member.role).where(
            Member.community_id == chat.community_id,
            Member.platform == platform,
            Member.external_id == user_id,
        )
    ).first()
    return CommandStart(chat.community_id, role)


@dataclass(frozen=True, slots=True)
class CommandCtx:
    """Who runs a command where; ``effects`` collects what must happen after the commit."""

    community_id: int
    platform: str
    actor_id: int | None
    label: str
    chat_id: str = ""
    defaults: TrainingDefaults = field(default_factory=TrainingDefaults)
    effects: list[object] = field(default_factory=list)


_Work = Callable[[Session, CommandCtx, tuple[str, ...]], str]


def run_command(
    session: Session,
    name: str,
    community_id: int,
    platform: str,
    chat_id: str,
    user_id: str,
    user_name: str,
    args: tuple[str, ...],
    defaults: TrainingDefaults,
) -> tuple[str, list[object]]:
    """Run command ``name`` in one transaction: its reply and its after-commit effects."""
    actor = get_or_create_member(session, community_id, platform, user_id, user_name[:255])
    ctx = CommandCtx(community_id, platform, actor.id, f"{platform}:{user_id}", chat_id, defaults)
    reply = WORK[name](session, ctx, args)
    return reply, ctx.effects


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


def _pending(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
    limit = parse_limit(args, "pending")
    pairs = list_pairs(session, ctx.community_id, status="pending", limit=limit)
    if not pairs:
        return "Nothing pending. / 没有待审核的问答。"
    lines = [
        f"#{p.id} Q: {short(p.question_text)}\n    A: {short(p.answer_text)} · {p.confidence:.2f}"
        for p in pairs
    ]
    return "\n".join(["Pending / 待审核:", *lines])


def _review(action: str, done: str) -> _Work:
    def run(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
        if len(args) != 1:
            raise usage_error(action)
        pair = review_pair(
            session,
            parse_pair_id(args[0], action),
            action,
            community_id=ctx.community_id,
            actor_id=ctx.actor_id,
            actor_label=ctx.label,
        )
        return f"#{pair.id} {done}"

    return run


def _edit(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
    if len(args) < 2:
        raise usage_error("edit")
    pair = review_pair(
        session,
        parse_pair_id(args[0], "edit"),
        "edit",
        community_id=ctx.community_id,
        actor_id=ctx.actor_id,
        actor_label=ctx.label,
        answer_text=" ".join(args[1:]),
    )
    return f"#{pair.id} answer updated ✏️"


def _expert(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
    if len(args) < 2 or args[0] not in ("add", "remove"):
        raise usage_error("expert")
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


def _forget(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
    if not args:
        raise usage_error("forget")
    member = resolve_member(session, ctx.community_id, ctx.platform, " ".join(args))
    ctx.effects.append(PurgeFreePages())
    return forget_member(session, ctx.community_id, member, ctx.label)


def _status(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
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


def _desk(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
    """A one-time desk login token for the caller, sent in private after the commit. The
    handler checked they moderate: by role, or the platform vouched for an administrator."""
    member = session.get(Member, ctx.actor_id) if ctx.actor_id is not None else None
    if member is None:
        raise NotFound("no member record for you here", kind="member")
    granted_by = "role" if member.role == "moderator" else "platform-admin"
    token = create_login_link(session, member.id or 0, granted_by=granted_by)
    ctx.effects.append(DeskLogin(token))
    return DESK_SENT


def _help(session: Session, ctx: CommandCtx, args: tuple[str, ...]) -> str:
    return help_text()


WORK: dict[str, _Work] = {
    "pending": _pending,
    "approve": _review("approve", "approved ✅"),
    "reject": _review("reject", "rejected ❌"),
    "reset": _review("reset", "back to pending ↩️"),
    "edit": _edit,
    "expert": _expert,
    "forget": _forget,
    **TRAINING_WORK,
    "desk": _desk,
    "status": _status,
    "help": _help,
}
