"""Session fixtures: one tiny model, and the LoRA runs and evaluations the trainer tests share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.trainer.builders import all_texts, qa_split, shuffled_answers
from trainer.defaults import suggest_hyperparameters
from trainer.local.sft import LocalTrainConfig, TrainResult, train_lora
from trainer.metrics import StepMetrics


@dataclass
class Run:
    """A finished LoRA run and the rows its ``on_step`` callback received."""

    result: TrainResult
    seen: list[StepMetrics]


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Any:
    """Tiny models run fastest on one thread; two OpenMP threads on a busy 2-core box crawl."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init tiny Llama with a tokenizer trained on the synthetic Q&A."""
    from trainer.tiny import init_tiny_model

    return init_tiny_model(tmp_path_factory.mktemp("tiny"), all_texts(), vocab_size=1000)


@pytest.fixture(scope="session")
def qa() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, holdout) of the synthetic bilingual Q&A."""
    return qa_split()


@pytest.fixture(scope="session")
def scratch_config(tiny_base: Path, qa: tuple[list[Any], list[Any]]) -> LocalTrainConfig:
    """The dataset-scaled 'scratch' profile for the tiny model."""
    train, _ = qa
    hp = suggest_hyperparameters(len(train), 40 * len(train), profile="scratch")
    return LocalTrainConfig.from_dict({"base_model": str(tiny_base), **hp, "device": "cpu"})


def _run(cfg: LocalTrainConfig, train: list[Any], valid: list[Any], out: Path) -> Run:
    seen: list[StepMetrics] = []
    return Run(train_lora(cfg, train, valid, out, on_step=seen.append), seen)


@pytest.fixture(scope="session")
def real_run(
    tmp_path_factory: pytest.TempPathFactory,
    scratch_config: LocalTrainConfig,
    qa: tuple[list[Any], list[Any]],
) -> Run:
    """LoRA trained on the real pairs."""
    train, holdout = qa
    return _run(scratch_config, train, holdout, tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="session")
def shuffled_run(
    tmp_path_factory: pytest.TempPathFactory,
    scratch_config: LocalTrainConfig,
    qa: tuple[list[Any], list[Any]],
) -> Run:
    """LoRA trained on the same questions with answers shuffled across them."""
    train, holdout = qa
    return _run(scratch_config, shuffled_answers(train), holdout, tmp_path_factory.mktemp("shuf"))
