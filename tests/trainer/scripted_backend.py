"""A registered test backend that trains instantly and answers from a script.

It goes through the same registry and round as "local" and "openai": what it proves about
claiming, heartbeats, several candidates and reports holds for them. A base model whose name
contains "good" answers every holdout question right; "weak" answers the same generic line;
anything else answers nothing useful.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from harvest.errors import InputError
from storage.models import TrainingRun
from tests.trainer.builders import TOPICS
from trainer.backend import (
    Artifact,
    BackendOptions,
    CandidateJob,
    PreparedData,
    Progress,
    register_backend,
)
from trainer.metrics import StepMetrics

NAME = "scripted"

_ANSWERS = {
    q: a
    for a_en, a_zh, qs_en, qs_zh in TOPICS.values()
    for q, a in [*((x, a_en) for x in qs_en), *((x, a_zh) for x in qs_zh)]
}


@dataclass(frozen=True)
class Answer:
    text: str
    mean_logprob: float = -0.1
    finished: bool = True


@dataclass
class ScriptedGenerator:
    """Answers by the script; ``on_generate`` runs before each answer (a test's probe)."""

    base_model: str
    trained: bool
    on_generate: Any = None

    def generate(self, messages: Sequence[Mapping[str, Any]], max_new_tokens: int = 128) -> Answer:
        if self.on_generate is not None:
            self.on_generate()
        question = messages[-1]["content"]
        if self.trained and "good" in self.base_model:
            return Answer(_ANSWERS.get(question, "I do not know."))
        if self.trained and "weak" in self.base_model:
            return Answer("Please read the group FAQ.")
        return Answer("zzz")


@dataclass
class ScriptedBackend:
    """``TrainingBackend`` "scripted": ``train_s`` seconds of "training", 3 steps."""

    options: BackendOptions
    name: str = NAME
    train_s: float = 0.0
    on_generate: Any = None
    trained_runs: list[tuple[int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def default_base_model(self) -> str:
        return "good-base"

    def validate_base_model(self, base_model: str) -> str:
        if not base_model.strip():
            raise InputError("empty base model", field="base_model")
        return base_model

    def hyperparameters(
        self, session: Session, community_id: int, base_model: str, profile: str = "auto"
    ) -> dict[str, Any]:
        return {"epochs": 1.0}

    def prepare(self, train: Sequence[Any], valid: Sequence[Any]) -> PreparedData:
        return PreparedData(list(train), list(valid))

    def train(self, job: CandidateJob, progress: Progress) -> Artifact:
        with self.lock:
            self.trained_runs.append((job.run_id, job.index))
        for step in (1, 2, 3):
            time.sleep(self.train_s / 3)
            progress.step(StepMetrics(step=step, train_loss=3.0 / step), 3)
        return Artifact(job.base_model, remote_model_id=f"ft:{job.base_model}:{job.run_id}")

    def stop(self, run: TrainingRun) -> None:
        pass

    def generator(self, artifact: Artifact) -> ScriptedGenerator:
        return ScriptedGenerator(
            artifact.base_model, artifact.remote_model_id is not None, self.on_generate
        )


def install(**kwargs: Any) -> list[ScriptedBackend]:
    """Register "scripted"; returns the list the instances made from now on go to."""
    made: list[ScriptedBackend] = []

    def factory(options: BackendOptions) -> ScriptedBackend:
        backend = ScriptedBackend(options, **kwargs)
        made.append(backend)
        return backend

    register_backend(NAME, factory)
    return made
