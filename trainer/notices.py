"""What moderators are told about training, in English and Chinese, with an idempotency key.

Every function returns a ``Notice``; its ``key`` names the event (run, attempt, milestone), so
the outbox records it once however often a restarted worker reaches the same point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.models import ModelVersion, TrainingRun

__all__ = [
    "Notice",
    "finished",
    "gate_chart",
    "gate_table",
    "progress",
    "promoted",
    "queued",
    "rolled_back",
    "started",
]

_TRIGGERS = {"schedule": "scheduled", "command": "asked in chat", "manual": "from the CLI"}


@dataclass(frozen=True, slots=True)
class Notice:
    """One message for a community's moderator chat."""

    key: str
    community_id: int
    text: str
    image: Path | None = None


def queued(run: TrainingRun, reason: str = "") -> Notice:
    why = f" ({reason})" if reason else ""
    how = _TRIGGERS.get(run.trigger, run.trigger)
    return Notice(
        f"run:{run.id}:queued",
        run.community_id,
        f"🗓 Training run #{run.id} queued, {how}{why}. / 训练任务 #{run.id} 已排队。",
    )


def started(run: TrainingRun, attempt: int) -> Notice:
    again = f" (attempt {attempt})" if attempt > 1 else ""
    where = "hosted fine-tuning" if run.backend != "local" else "local LoRA"
    return Notice(
        f"run:{run.id}:started:{attempt}",
        run.community_id,
        f"🏋️ Training run #{run.id} started{again}: {where} on {run.base_model}. "
        f"/ 训练任务 #{run.id} 已开始。",
    )


def progress(run: TrainingRun, attempt: int, percent: int) -> Notice:
    loss = f", loss {run.last_loss:.4g}" if run.last_loss is not None else ""
    return Notice(
        f"run:{run.id}:progress:{attempt}:{percent}",
        run.community_id,
        f"⏳ Run #{run.id}: {percent}% (step {run.step}/{run.total_steps}{loss}). "
        f"/ 训练进度 {percent}%。",
    )


def finished(run: TrainingRun) -> Notice:
    if run.status == "succeeded":
        text = f"✅ Training run #{run.id} finished. / 训练任务 #{run.id} 已完成。"
    elif run.status == "cancelled":
        text = f"⏹ Training run #{run.id} was cancelled. / 训练任务 #{run.id} 已取消。"
    else:
        reason = (run.error or "unknown error").strip().splitlines()[-1][:400]
        text = f"❌ Training run #{run.id} failed: {reason} / 训练任务 #{run.id} 失败。"
    return Notice(f"run:{run.id}:finished:{run.attempts}", run.community_id, text)


def _table(report_md: str) -> str:
    """The report's text without its image line (the chart is sent as a photo)."""
    lines = [line for line in report_md.splitlines() if not line.startswith("![")]
    return "\n".join(lines).strip()


def gate_table(run: TrainingRun, model: ModelVersion) -> Notice:
    """The gate's decision with its metrics table (``report.md``)."""
    path = Path(model.report_path) if model.report_path else None
    body = _table(path.read_text(encoding="utf-8")) if path and path.exists() else ""
    verdict = "passed" if (model.gate or {}).get("promote") else "did not pass"
    head = f"Model #{model.id} from run #{run.id} {verdict} the evaluation gate. / 评估结果："
    return Notice(
        f"run:{run.id}:gate:{model.id}", run.community_id, f"{head}\n\n{body}" if body else head
    )


def gate_chart(run: TrainingRun, model: ModelVersion) -> Notice | None:
    """The report's PNG chart (loss curves, live vs candidate), when it was written."""
    folder = Path(model.report_path).parent if model.report_path else Path(run.out_dir or ".")
    png = folder / "report.png"
    if not png.exists():
        return None
    return Notice(
        f"run:{run.id}:chart:{model.id}",
        run.community_id,
        f"Run #{run.id}: training curves and metrics / 训练曲线与指标",
        png,
    )


def promoted(model: ModelVersion, by: str = "the evaluation gate") -> Notice:
    return Notice(
        f"model:{model.id}:live:{model.promoted_at:%Y%m%dT%H%M%S%f}"
        if model.promoted_at
        else f"model:{model.id}:live",
        model.community_id,
        f"🚀 Model #{model.id} is now live (promoted by {by}). / 模型 #{model.id} 已上线。",
    )


def rolled_back(model: ModelVersion, by: str, at: datetime) -> Notice:
    return Notice(
        f"model:{model.id}:rollback:{at:%Y%m%dT%H%M%S%f}",
        model.community_id,
        f"↩️ Rolled back by {by}: model #{model.id} is live again. / 已回滚到模型 #{model.id}。",
    )
