"""A run's typed summary: what each candidate produced and how the gate judged it.

``TrainingRun.summary`` is stored as JSON; every module reads and writes it through
``load_summary`` / ``save_summary`` and the models here, never as a bare dict.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harvest.errors import GateRejected
from storage.models import TrainingRun

__all__ = ["CandidateSummary", "RunSummary", "load_summary", "save_summary"]

Metrics = dict[str, float | int | None]


class CandidateSummary(BaseModel):
    """One candidate base model of a round: its training artifact, progress and verdict.

    Local candidates fill ``adapter_dir``; hosted ones ``job_id`` / ``fine_tuned_model``.
    ``details`` keeps what a backend reports about training (steps, tokens/s, trained tokens).
    """

    model_config = ConfigDict(extra="ignore")

    index: int
    base_model: str
    adapter_dir: str | None = None
    job_id: str | None = None
    last_event_id: str | None = None
    fine_tuned_model: str | None = None
    trained: bool = False
    details: dict[str, Any] = Field(default_factory=dict)
    metrics: Metrics | None = None
    samples: list[str] = Field(default_factory=list)
    gate: dict[str, Any] | None = None
    model_version_id: int | None = None

    @property
    def passed(self) -> bool:
        """Whether the gate let this candidate through (before the best one is picked)."""
        return bool(self.gate and self.gate.get("promote"))


class RunSummary(BaseModel):
    """What a run reports back: data, candidates, reference, the chosen model."""

    model_config = ConfigDict(extra="ignore")

    dataset_hash: str = ""
    n_train: int = 0
    n_eval: int = 0
    scrubbed: dict[str, int] | None = None
    scrubbed_examples: int = 0
    candidates: list[CandidateSummary] = Field(default_factory=list)
    reference: Metrics | None = None
    reference_model: str | None = None
    reference_model_id: int | None = None
    best: int | None = None  # index of the candidate the gate kept
    model_version_id: int | None = None
    promoted: bool | None = None

    def candidate(self, index: int, base_model: str) -> CandidateSummary:
        """The candidate ``index``, created for ``base_model`` when new."""
        for cand in self.candidates:
            if cand.index == index:
                return cand
        cand = CandidateSummary(index=index, base_model=base_model)
        self.candidates.append(cand)
        self.candidates.sort(key=lambda c: c.index)
        return cand

    @property
    def chosen(self) -> CandidateSummary | None:
        """The candidate the gate kept (promoted or the best rejected), if any."""
        return next((c for c in self.candidates if c.index == self.best), None)

    def raise_if_rejected(self, run_id: int | None = None) -> None:
        """GateRejected naming the failed checks when the round was gated and promoted nothing."""
        chosen = self.chosen
        if self.promoted is not False or chosen is None:
            return
        reasons = (chosen.gate or {}).get("reasons", [])
        failed = [r for r in reasons if r.endswith("rejected")] or reasons
        raise GateRejected(
            f"run {run_id}: the gate promoted no candidate; best {chosen.base_model}: "
            + "; ".join(failed),
            model_id=chosen.model_version_id,
        )


def load_summary(run: TrainingRun) -> RunSummary:
    """The run's summary (empty for a run that has not started)."""
    return RunSummary.model_validate(run.summary or {})


def save_summary(run: TrainingRun, summary: RunSummary) -> None:
    """Store ``summary`` on ``run`` (the caller adds the run to its session)."""
    run.summary = summary.model_dump(mode="json")
