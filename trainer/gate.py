"""The evaluation gate: promote a candidate only if it beats the live model (pure, no torch).

One policy for every backend (``DEFAULT_POLICY``), on metrics every backend measures the same
way (``trainer.evaluate``); ``choose`` picks the best of a round's candidates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_POLICY",
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "GateDecision",
    "GatePolicy",
    "GateRow",
    "choose",
    "decide",
    "metric_values",
]

LOWER_IS_BETTER = frozenset({"loss", "perplexity"})
HIGHER_IS_BETTER = frozenset(
    {
        "mean_token_accuracy",
        "sequence_accuracy",
        "chrf",
        "question_gain",
        "exact_match",
        "finished_rate",
    }
)
_REPORTED = (
    "chrf",
    "question_gain",
    "exact_match",
    "loss",
    "perplexity",
    "mean_token_accuracy",
    "sequence_accuracy",
)


@dataclass(frozen=True)
class GatePolicy:
    """What a candidate must do to replace the live model.

    ``primary_metric`` must improve on the live model by ``margin``, relative to the live
    value (0.02: 2 % lower loss, or 2 % higher chrF). ``floors`` are absolute bounds the
    candidate must meet whatever the live model scores: a minimum for higher-is-better metrics,
    a maximum for loss/perplexity, e.g. ``{"chrf": 30, "loss": 3.0}``. A floor on
    ``question_gain`` (e.g. 0.1) rejects a model whose answers do not depend on the question,
    the failure mode of mis-paired training data, which loss and chrF alone do not catch
    against a live model that never saw the community's answers. ``guards`` are metrics that
    may not get worse than live by more than ``guard_tolerance`` (relative).
    """

    primary_metric: str = "loss"
    margin: float = 0.02
    floors: Mapping[str, float] = field(default_factory=dict)
    guards: tuple[str, ...] = ()
    guard_tolerance: float = 0.05

    def __post_init__(self) -> None:
        known = LOWER_IS_BETTER | HIGHER_IS_BETTER
        for name in (self.primary_metric, *self.floors, *self.guards):
            if name not in known:
                raise ValueError(f"unknown gate metric {name!r}; one of {', '.join(sorted(known))}")
        if self.margin < 0 or self.guard_tolerance < 0:
            raise ValueError("margin and guard_tolerance must be >= 0")


# chrF (0–100, generation against the reference answers) must improve on the live model by
# 2 %; answers that ignore the question never pass (question_gain floor). Both are measured the
# same way for a local LoRA and a hosted model, so one policy judges either against either.
# Calibration of the floor: a model trained on shuffled answers scores ≈ 0 on the synthetic
# test set and the real one > 0.5; on the demo data (tiny model, 14 holdout pairs) the real
# one stays well above 0.15.
DEFAULT_POLICY_FLOORS = {"question_gain": 0.15}


@dataclass(frozen=True, slots=True)
class GateRow:
    """One metric in the comparison table; ``passed`` is None for metrics that were only shown."""

    metric: str
    candidate: float | None
    live: float | None
    improvement: float | None  # relative, positive = candidate better
    role: str  # "primary" | "floor" | "guard" | "info"
    passed: bool | None


@dataclass(frozen=True)
class GateDecision:
    """The verdict, the reasons (one line per check) and the table behind it."""

    promote: bool
    reasons: list[str]
    rows: list[GateRow]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "promote": self.promote,
            "reasons": list(self.reasons),
            "rows": [asdict(r) for r in self.rows],
        }


def metric_values(source: Any) -> dict[str, float | None]:
    """The numeric metrics of a mapping or an object with ``as_dict`` (NaN becomes None)."""
    data = source.as_dict() if hasattr(source, "as_dict") else dict(source)
    out: dict[str, float | None] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        out[key] = None if math.isnan(value) else float(value)
    return out


def _improvement(metric: str, candidate: float, live: float) -> float:
    """Relative improvement of candidate over live (positive = better); ±inf when live is 0."""
    gain = (live - candidate) if metric in LOWER_IS_BETTER else (candidate - live)
    if live == 0:
        return 0.0 if gain == 0 else math.copysign(math.inf, gain)
    return gain / abs(live)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def decide(candidate: Any, live: Any | None, policy: GatePolicy | None = None) -> GateDecision:
    """Compare candidate and live metrics (mappings or objects with ``as_dict``) under ``policy``.

    ``live`` None (nothing deployed yet) skips the comparisons; floors still apply.
    """
    policy = policy or GatePolicy()
    cand = metric_values(candidate)
    base = metric_values(live) if live is not None else {}
    reasons: list[str] = []
    rows: dict[str, GateRow] = {}
    ok = True

    def compare(metric: str, role: str, needed: float) -> None:
        nonlocal ok
        c, v = cand.get(metric), base.get(metric)
        if live is None:
            rows.setdefault(metric, GateRow(metric, c, None, None, "info", None))
            return
        if c is None or v is None:
            ok = False
            reasons.append(
                f"{metric}: not measured for the {'candidate' if c is None else 'live model'}"
            )
            rows[metric] = GateRow(metric, c, v, None, role, False)
            return
        imp = _improvement(metric, c, v)
        passed = imp >= needed
        ok = ok and passed
        verb = "better" if imp >= 0 else "worse"
        need = f"needs ≥ {needed:+.1%}" if role == "primary" else f"may lose ≤ {-needed:.1%}"
        reasons.append(
            f"{metric} {_fmt(c)} vs live {_fmt(v)}: {abs(imp):.1%} {verb} ({need})"
            + ("" if passed else " — rejected")
        )
        rows[metric] = GateRow(metric, c, v, imp, role, passed)

    compare(policy.primary_metric, "primary", policy.margin)
    for metric in policy.guards:
        if metric != policy.primary_metric:
            compare(metric, "guard", -policy.guard_tolerance)
    for metric, bound in policy.floors.items():
        c = cand.get(metric)
        lower = metric in LOWER_IS_BETTER
        passed = c is not None and (c <= bound if lower else c >= bound)
        ok = ok and passed
        sign = "≤" if lower else "≥"
        reasons.append(
            f"{metric} {_fmt(c)} (floor {sign} {bound:g})" + ("" if passed else " — rejected")
        )
        if metric not in rows:
            v = base.get(metric)
            imp = None if c is None or v is None else _improvement(metric, c, v)
            rows[metric] = GateRow(metric, c, v, imp, "floor", passed)
    for metric in _REPORTED:
        if metric not in rows and (metric in cand or metric in base):
            c, v = cand.get(metric), base.get(metric)
            imp = None if c is None or v is None else _improvement(metric, c, v)
            rows[metric] = GateRow(metric, c, v, imp, "info", None)
    if live is None:
        reasons.insert(0, "no live model: only the floors apply")
    return GateDecision(promote=ok, reasons=reasons, rows=list(rows.values()))


DEFAULT_POLICY = GatePolicy(primary_metric="chrf", margin=0.02, floors=DEFAULT_POLICY_FLOORS)


def choose(
    candidates: Sequence[Any], decisions: Sequence[GateDecision], policy: GatePolicy
) -> tuple[int | None, bool]:
    """The candidate to keep and whether it is promoted: the best primary metric among those
    that passed; when none passed, the best overall (reported, not promoted); (None, False)
    for no candidates. Ties go to the earlier candidate.
    """
    if not candidates:
        return None, False
    lower = policy.primary_metric in LOWER_IS_BETTER

    def key(i: int) -> float:
        value = metric_values(candidates[i]).get(policy.primary_metric)
        if value is None:
            return math.inf
        return value if lower else -value

    passed = [i for i, d in enumerate(decisions) if d.promote]
    pool = passed or list(range(len(candidates)))
    return min(pool, key=lambda i: (key(i), i)), bool(passed)
