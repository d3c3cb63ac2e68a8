"""What a command is: the chat commands, who may run them, their arguments and help (pure).

What each command does to storage is its unit of work in ``bot.core.units.commands``; the
``CommandHandler`` (``bot.core.command_handler``) ties the two together for every platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from harvest.errors import InputError

__all__ = [
    "COMMANDS",
    "DESK_SENT",
    "NOT_LINKED",
    "NO_DESK",
    "NO_PRIVATE",
    "REFUSAL",
    "CommandSpec",
    "DeskLogin",
    "PurgeFreePages",
    "Reschedule",
    "command_name",
    "help_text",
    "parse_limit",
    "parse_pair_id",
    "short",
    "usage_error",
]

REFUSAL = "Sorry, only moderators can do that. / 抱歉，仅管理员可用。"
NOT_LINKED = "This chat is not linked to a community. / 此聊天尚未关联社区。"
DESK_SENT = (
    "I sent you a private message with a link to the review desk. / 已私信你审核台的登录链接。"
)
NO_PRIVATE = (
    "I could not send you a private message: open a private chat with me first, then try "
    "again. / 无法私信你：请先与我私聊，然后重试。"
)
NO_DESK = "The review desk is not set up here (FANQA_WEB_PORT). / 未配置审核台。"
_SNIPPET = 60


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command's usage line, one-line summary, and whether only moderators may run it."""

    usage: str
    summary: str
    moderator_only: bool = True


COMMANDS: dict[str, CommandSpec] = {
    "pending": CommandSpec("/pending [N]", "list pairs waiting for review"),
    "approve": CommandSpec("/approve ID", "approve a pair"),
    "reject": CommandSpec("/reject ID", "reject a pair"),
    "reset": CommandSpec("/reset ID", "put a pair back to pending (undo an approval)"),
    "edit": CommandSpec("/edit ID new answer", "replace a pair's answer"),
    "expert": CommandSpec("/expert add|remove USER", "give or take the expert role"),
    "forget": CommandSpec("/forget USER", "delete a member's messages and pairs"),
    "train": CommandSpec("/train", "queue a training run now"),
    "cancel": CommandSpec("/cancel", "cancel the queued or running training run"),
    "models": CommandSpec("/models [N]", "list trained model versions"),
    "promote": CommandSpec("/promote ID", "make a model version live"),
    "rollback": CommandSpec("/rollback", "bring back the previous live model"),
    "schedule": CommandSpec("/schedule CRON [TZ] | off", "show or change nightly training"),
    "desk": CommandSpec("/desk", "a private login link to the web review desk"),
    "status": CommandSpec(
        "/status", "pairs, live model, training run and next scheduled training", False
    ),
    "help": CommandSpec("/help", "this list", False),
}


@dataclass(frozen=True, slots=True)
class Reschedule:
    """An effect of ``/schedule``, applied to the running scheduler after the commit."""

    community_id: int
    cron: str
    timezone: str


@dataclass(frozen=True, slots=True)
class DeskLogin:
    """An effect of ``/desk``: a one-time login token, sent to the caller in private (never in
    the group) after the commit."""

    token: str


@dataclass(frozen=True, slots=True)
class PurgeFreePages:
    """An effect of ``/forget``: after the commit, SQLite's write-ahead log (which still holds
    the old text) is moved into the database file (``storage.repo.privacy``)."""


def command_name(raw: str) -> str:
    """``/Approve@fanqa_bot`` → ``approve``."""
    return raw.lstrip("/").split("@", 1)[0].lower()


def usage_error(name: str) -> InputError:
    """The one-line error for a command called wrongly."""
    return InputError(f"usage: {COMMANDS[name].usage}")


def parse_pair_id(raw: str, name: str) -> int:
    """``12`` or ``#12`` → 12."""
    text = raw.lstrip("#")
    if not text.isdigit():
        raise usage_error(name)
    return int(text)


def parse_limit(args: tuple[str, ...], name: str, default: int = 5, most: int = 20) -> int:
    """An optional count argument, clamped to 1..``most``."""
    if len(args) > 1 or (args and not args[0].isdigit()):
        raise usage_error(name)
    return min(max(int(args[0]) if args else default, 1), most)


def short(text: str) -> str:
    """A one-line snippet of a pair's text for a listing."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"


def help_text() -> str:
    """The ``/help`` reply."""
    lines = [f"{spec.usage} — {spec.summary}" for spec in COMMANDS.values()]
    tail = "React ✅/👍 to approve an answer, ❌/👎 to reject; remove the reaction to undo."
    return "\n".join([*lines, tail, "管理员可用 ✅ 批准、❌ 拒绝答案。"])
