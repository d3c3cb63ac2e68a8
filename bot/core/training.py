"""Training commands' units of work: /train, /cancel, /models, /promote, /rollback, /schedule,
and /status's lines.

Each command returns its reply text. Announcements (run queued, model promoted, rolled back)
go to the community's moderator chat through the outbox, in the command's own transaction;
not when the command was typed in the moderator chat itself (the reply says it already).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlmodel import Session, col, select

from bot.core.commands import Reschedule
from harvest.errors import ConflictError, InputError, NotFound
from storage.models import Community, RunStatus, TrainingRun, utcnow
from storage.repo.communities import get_community_by_id, update_community
from trainer import notices, outbox
from trainer.enqueue import TrainingDefaults, queue_training
from trainer.registry import get_model, list_models, live_model, promote, rollback
from trainer.runs import cancel_run

__all__ = ["TRAINING_WORK", "active_run", "training_status"]


class _Ctx(Protocol):
    @property
    def community_id(self) -> int: ...
    @property
    def platform(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def chat_id(self) -> str: ...
    @property
    def defaults(self) -> TrainingDefaults: ...
    @property
    def effects(self) -> list[object]: ...


_Func = Callable[[Session, _Ctx, tuple[str, ...]], str]


def _in_moderator_chat(community: Community, ctx: _Ctx) -> bool:
    return (community.moderator_platform, community.moderator_chat_id) == (
        ctx.platform,
        ctx.chat_id,
    )


def _announce(session: Session, ctx: _Ctx, notice: notices.Notice) -> None:
    community = get_community_by_id(session, ctx.community_id)
    if not _in_moderator_chat(community, ctx):
        outbox.record(session, notice.community_id, notice.text, key=notice.key)


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M %Z}".strip()


def active_run(session: Session, community_id: int) -> TrainingRun | None:
    """The community's newest queued or running training run."""
    return session.exec(
        select(TrainingRun)
        .where(TrainingRun.community_id == community_id)
        .where(col(TrainingRun.status).in_([RunStatus.QUEUED, RunStatus.RUNNING]))
        .order_by(col(TrainingRun.id).desc())
    ).first()


def training_status(session: Session, community_id: int, now: datetime | None = None) -> list[str]:
    """/status lines: the live model, the active run with progress, the next scheduled run."""
    from bot.scheduler import next_fire_time

    community = get_community_by_id(session, community_id)
    live = live_model(session, community_id)
    if live is None:
        lines = ["Live model: none yet (answers come from approved pairs). / 尚无上线模型。"]
    else:
        name = live.remote_model_id or live.base_model
        lines = [
            f"Live model: #{live.id} ({live.backend}, {name}), since {_when(live.promoted_at)}."
        ]
    run = active_run(session, community_id)
    if run is not None and run.status == RunStatus.RUNNING:
        pct = f" {100 * run.step // run.total_steps}%" if run.total_steps else ""
        loss = f", loss {run.last_loss:.4g}" if run.last_loss is not None else ""
        lines.append(
            f"Training: run #{run.id} running{pct} (step {run.step}/{run.total_steps}{loss})."
        )
    elif run is not None:
        lines.append(f"Training: run #{run.id} queued ({run.trigger}), waiting for a worker.")
    try:
        upcoming = next_fire_time(community.train_cron, community.timezone, now or utcnow())
    except InputError:
        upcoming = None
    if upcoming is None:
        lines.append(f"Scheduled training: off ({community.train_cron!r}).")
    else:
        lines.append(
            f"Next scheduled training: {upcoming:%Y-%m-%d %H:%M} {community.timezone} "
            f"({community.train_cron}, needs {community.min_new_pairs} new approved pairs)."
        )
    return lines


def _train(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if args:
        raise InputError("usage: /train")
    community = get_community_by_id(session, ctx.community_id)
    run = queue_training(
        session,
        ctx.community_id,
        ctx.defaults,
        trigger="command",
        reason=f"asked by {ctx.label}",
        announce=not _in_moderator_chat(community, ctx),
    )
    return (
        f"Training run #{run.id} queued ({run.backend}, {run.base_model}); "
        f"a worker starts it soon. / 训练任务 #{run.id} 已排队。"
    )


def _cancel(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if args:
        raise InputError("usage: /cancel")
    run = active_run(session, ctx.community_id)
    if run is None:
        raise ConflictError("No training run is queued or running. / 没有排队或进行中的训练。")
    run = cancel_run(session, run.id or 0)  # what `fanqa runs cancel` does
    if run.status == RunStatus.CANCELLED:
        return f"Training run #{run.id} cancelled. / 训练任务 #{run.id} 已取消。"
    return f"Training run #{run.id} will stop at its next step. / 训练任务 #{run.id} 即将停止。"


def _models(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if len(args) > 1 or (args and not args[0].isdigit()):
        raise InputError("usage: /models [N]")
    limit = min(max(int(args[0]) if args else 5, 1), 20)
    models = list_models(session, ctx.community_id)[:limit]
    if not models:
        return "No trained models yet. / 尚无训练好的模型。"
    lines = ["Models / 模型:"]
    for m in models:
        cand = (m.metrics or {}).get("candidate", {})
        chrf, gain = cand.get("chrf"), cand.get("question_gain")
        scores = ", ".join(
            part
            for part in (
                f"chrF {chrf:.3g}" if chrf is not None else "",
                f"question gain {gain:.3g}" if gain is not None else "",
            )
            if part
        )
        tail = f", {scores}" if scores else ""
        lines.append(f"#{m.id} {m.status} (run #{m.run_id}{tail}), {m.created_at:%Y-%m-%d}")
    return "\n".join(lines)


def _model_id(args: tuple[str, ...]) -> int:
    text = args[0].lstrip("#") if len(args) == 1 else ""
    if not text.isdigit():
        raise InputError("usage: /promote ID")
    return int(text)


def _promote(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    model_id = _model_id(args)
    model = get_model(session, model_id)
    if model.community_id != ctx.community_id:
        raise NotFound(f"no model version with id {model_id}", kind="model", key=model_id)
    if model.status == "live":
        return f"Model #{model_id} is already live."
    model = promote(session, model_id)
    _announce(session, ctx, notices.promoted(model, by=ctx.label))
    return f"Model #{model_id} is now live. / 模型 #{model_id} 已上线。"


def _rollback(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    if args:
        raise InputError("usage: /rollback")
    model = rollback(session, ctx.community_id)
    _announce(session, ctx, notices.rolled_back(model, ctx.label, utcnow()))
    return f"Rolled back: model #{model.id} is live again. / 已回滚到模型 #{model.id}。"


def _schedule(session: Session, ctx: _Ctx, args: tuple[str, ...]) -> str:
    from bot.scheduler import OFF, next_fire_time, parse_cron

    community = get_community_by_id(session, ctx.community_id)
    if not args:
        upcoming = next_fire_time(community.train_cron, community.timezone, utcnow())
        when = f"; next at {upcoming:%Y-%m-%d %H:%M}" if upcoming else ""
        return f"Training schedule: {community.train_cron} ({community.timezone}){when}."
    if len(args) == 1 and args[0].lower() == OFF:
        cron, timezone = OFF, community.timezone
    elif len(args) in (5, 6):
        cron, timezone = " ".join(args[:5]), args[5] if len(args) == 6 else community.timezone
        parse_cron(cron, timezone)
    else:
        raise InputError("usage: /schedule CRON [TIMEZONE] | off, e.g. /schedule 0 3 * * * UTC")
    update_community(session, ctx.community_id, train_cron=cron, timezone=timezone)
    ctx.effects.append(Reschedule(ctx.community_id, cron, timezone))
    upcoming = next_fire_time(cron, timezone, utcnow())
    if upcoming is None:
        return "Scheduled training is off; /train still works. / 已关闭定时训练。"
    return (
        f"Training schedule set to {cron} ({timezone}); next at {upcoming:%Y-%m-%d %H:%M}. "
        "/ 定时训练已更新。"
    )


TRAINING_WORK: dict[str, _Func] = {
    "train": _train,
    "cancel": _cancel,
    "models": _models,
    "promote": _promote,
    "rollback": _rollback,
    "schedule": _schedule,
}
