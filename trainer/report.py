"""A round's report: the gate's table for every candidate side by side, and a PNG of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from trainer.gate import GateDecision, metric_values
from trainer.metrics import StepMetrics

__all__ = ["Column", "write_report"]

_LABELS = {
    "chrf": "chrF ↑",
    "question_gain": "question gain ↑",
    "exact_match": "exact match ↑",
    "loss": "answer loss ↓",
    "perplexity": "perplexity ↓",
    "mean_token_accuracy": "token accuracy ↑",
    "sequence_accuracy": "sequence accuracy ↑",
}


@dataclass(frozen=True)
class Column:
    """One candidate in the report: its name, metrics, gate decision and training curve."""

    name: str
    metrics: Mapping[str, float | int | None]
    decision: GateDecision
    steps: Sequence[StepMetrics] = ()


def _cell(value: float | int | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _markdown(
    columns: Sequence[Column],
    best: int | None,
    promoted: bool,
    reference: str,
    ref: dict[str, float | None],
) -> str:
    verdict = "**promoted**" if promoted else "**rejected**"
    lines = [f"# Evaluation gate: {verdict}", ""]
    for i, col in enumerate(columns):
        mark = " (kept)" if i == best else ""
        head = f"candidate {i + 1}: {col.name}{mark}" if len(columns) > 1 else None
        if head:
            lines.append(f"**{head}** — {'passed' if col.decision.promote else 'rejected'}")
        lines += [f"- {reason}" for reason in col.decision.reasons]
        if head:
            lines.append("")
    names = [f"candidate {i + 1}" if len(columns) > 1 else "candidate" for i in range(len(columns))]
    lines += ["", f"| metric | {reference} | " + " | ".join(names) + " |"]
    lines.append("|---|---|" + "---|" * len(columns))
    values = [metric_values(c.metrics) for c in columns]
    for metric, label in _LABELS.items():
        if all(metric not in v for v in values) and metric not in ref:
            continue
        row = [_cell(ref.get(metric))] + [_cell(v.get(metric)) for v in values]
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    verdicts = ["pass" if c.decision.promote else "FAIL" for c in columns]
    lines.append("| gate | | " + " | ".join(verdicts) + " |")
    if len(columns) > 1:
        lines += [""] + [f"- candidate {i + 1}: {c.name}" for i, c in enumerate(columns)]
    for i, col in enumerate(columns):
        if col.steps:
            last = col.steps[-1]
            who = f"candidate {i + 1}" if len(columns) > 1 else "Training"
            text = f"{who}: {last.step} steps"
            if last.train_loss is not None:
                text += f", final train loss {last.train_loss:.4g}"
            lines += ["", text + "."]
    lines += ["", "![curves and metrics](report.png)", ""]
    return "\n".join(lines)


def _plot(
    path: Path,
    columns: Sequence[Column],
    promoted: bool,
    reference: str,
    ref: dict[str, float | None],
) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    values = [metric_values(c.metrics) for c in columns]
    shown = [m for m in _LABELS if m in ref or any(m in v for v in values)]
    cols = max(1, len(shown))
    fig = plt.figure(figsize=(max(8.0, 2.4 * cols), 7.0))
    grid = fig.add_gridspec(2, cols, height_ratios=[3, 2], hspace=0.45, wspace=0.5)
    curve = fig.add_subplot(grid[0, :])
    drawn = False
    for i, col in enumerate(columns):
        train = [(s.step, s.train_loss) for s in col.steps if s.train_loss is not None]
        if train:
            curve.plot(*zip(*train, strict=True), label=f"{i + 1}: train loss", linewidth=1)
            drawn = True
        valid = [(s.step, s.valid_loss) for s in col.steps if s.valid_loss is not None]
        if valid:
            curve.plot(*zip(*valid, strict=True), "o-", label=f"{i + 1}: valid loss")
    curve.set_xlabel("step")
    curve.set_ylabel("loss (answer tokens)")
    curve.set_title("promoted" if promoted else "rejected")
    if drawn:
        curve.legend(fontsize=8)
    labels = [reference] + [f"cand. {i + 1}" for i in range(len(columns))]
    for i, metric in enumerate(shown):
        ax = fig.add_subplot(grid[1, i])
        heights = [ref.get(metric) or 0.0] + [v.get(metric) or 0.0 for v in values]
        colors = ["#9e9e9e"] + ["#2e7d32" if c.decision.promote else "#1565c0" for c in columns]
        ax.bar(labels, heights, color=colors)
        ax.set_title(_LABELS[metric], fontsize=9)
        ax.tick_params(labelsize=7)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(
    out_dir: str | Path,
    columns: Sequence[Column],
    reference_metrics: Mapping[str, float | int | None] | None,
    *,
    best: int | None,
    promoted: bool,
    reference: str = "live",
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.png`` in ``out_dir``; returns both paths.

    ``reference`` names what the candidates were compared with: "live", or "base" when no
    model was live yet.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ref = metric_values(reference_metrics) if reference_metrics is not None else {}
    md_path, png_path = out / "report.md", out / "report.png"
    _plot(png_path, columns, promoted, reference, ref)
    md_path.write_text(_markdown(columns, best, promoted, reference, ref), encoding="utf-8")
    return md_path, png_path
