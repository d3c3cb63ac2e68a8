"""A training report: a markdown table of the gate decision and a PNG of curves and metrics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer.gate import GateDecision, GateRow, metric_values
from trainer.metrics import StepMetrics

__all__ = ["write_report"]

_LABELS = {
    "loss": "answer loss ↓",
    "perplexity": "perplexity ↓",
    "mean_token_accuracy": "token accuracy ↑",
    "sequence_accuracy": "sequence accuracy ↑",
    "chrf": "chrF ↑",
    "question_gain": "question gain ↑",
}


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _markdown(
    decision: GateDecision, steps: Sequence[StepMetrics], png_name: str, reference: str
) -> str:
    verdict = "**promoted**" if decision.promote else "**rejected**"
    lines = [f"# Evaluation gate: {verdict}", ""]
    lines += [f"- {reason}" for reason in decision.reasons]
    lines += [
        "",
        f"| metric | {reference} | candidate | change | role | check |",
        "|---|---|---|---|---|---|",
    ]
    for row in decision.rows:
        change = "—" if row.improvement is None else f"{row.improvement:+.1%}"
        check = {True: "pass", False: "FAIL", None: ""}[row.passed]
        name = _LABELS.get(row.metric, row.metric)
        values = f"{_cell(row.live)} | {_cell(row.candidate)} | {change}"
        lines.append(f"| {name} | {values} | {row.role} | {check} |")
    if steps:
        last = steps[-1]
        valid = [s for s in steps if s.valid_loss is not None]
        lines += ["", f"Training: {last.step} steps"]
        if last.train_loss is not None:
            lines[-1] += f", final train loss {last.train_loss:.4g}"
        if valid:
            lines[-1] += f", final valid loss {valid[-1].valid_loss:.4g}"
        lines[-1] += "."
    lines += ["", f"![curves and metrics]({png_name})", ""]
    return "\n".join(lines)


def _plot(path: Path, decision: GateDecision, steps: Sequence[StepMetrics], reference: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    bars = [r for r in decision.rows if r.candidate is not None or r.live is not None]
    cols = max(1, len(bars))
    fig = plt.figure(figsize=(max(8.0, 2.2 * cols), 7.0))
    grid = fig.add_gridspec(2, cols, height_ratios=[3, 2], hspace=0.45, wspace=0.5)
    curve = fig.add_subplot(grid[0, :])
    train = [(s.step, s.train_loss) for s in steps if s.train_loss is not None]
    valid = [(s.step, s.valid_loss) for s in steps if s.valid_loss is not None]
    if train:
        curve.plot(*zip(*train, strict=True), label="train loss", linewidth=1)
    if valid:
        curve.plot(*zip(*valid, strict=True), "o-", label="valid loss", linewidth=1.5)
    curve.set_xlabel("step")
    curve.set_ylabel("loss (answer tokens)")
    curve.set_title("promoted" if decision.promote else "rejected")
    if train or valid:
        curve.legend()
    for i, row in enumerate(bars):
        ax = fig.add_subplot(grid[1, i])
        values = [row.live or 0.0, row.candidate or 0.0]
        ax.bar(
            [reference, "cand."], values, color=["#9e9e9e", "#2e7d32" if row.passed else "#1565c0"]
        )
        ax.set_title(_LABELS.get(row.metric, row.metric), fontsize=9)
        ax.tick_params(labelsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(
    out_dir: str | Path,
    decision: GateDecision,
    candidate: Any,
    live: Any | None,
    steps: Sequence[StepMetrics],
    *,
    reference: str = "live",
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.png`` in ``out_dir``; returns both paths.

    ``reference`` names what the candidate was compared with: "live", or "base" when no
    model was live yet.

    ``candidate`` / ``live`` are metric mappings (or EvalMetrics); metrics missing from the
    decision's table are appended so the report shows everything measured.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shown = {r.metric for r in decision.rows}
    cand, base = metric_values(candidate), metric_values(live) if live is not None else {}
    extra = [m for m in _LABELS if m not in shown and (m in cand or m in base)]
    if extra:
        rows = decision.rows + [
            GateRow(m, cand.get(m), base.get(m), None, "info", None) for m in extra
        ]
        decision = GateDecision(decision.promote, decision.reasons, rows)
    md_path, png_path = out / "report.md", out / "report.png"
    _plot(png_path, decision, steps, reference)
    md_path.write_text(_markdown(decision, steps, png_path.name, reference), encoding="utf-8")
    return md_path, png_path
