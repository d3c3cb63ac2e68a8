"""Tests of dataset-scaled hyperparameter suggestions."""

from __future__ import annotations

import pytest

from trainer.defaults import suggest_epochs, suggest_hyperparameters
from trainer.local.sft import LocalTrainConfig


@pytest.mark.parametrize(("n", "expected"), [(10, 10), (30, 4), (300, 3), (20_000, 1), (1, 25)])
def test_epochs_follow_openai_auto_rule(n: int, expected: int) -> None:
    """Tiny sets get more epochs (~100 examples seen), huge sets fewer (~25k), else 3."""
    assert suggest_epochs(n) == expected


def test_profiles_differ_and_feed_the_config() -> None:
    """The scratch profile trains harder than the pretrained one; both build a LocalTrainConfig."""
    pre = suggest_hyperparameters(300, 30_000)
    scratch = suggest_hyperparameters(300, 30_000, profile="scratch")
    cfg = LocalTrainConfig.from_dict({"base_model": "m", **scratch, "learning_rate": 0.5})
    assert (pre["learning_rate"] < scratch["learning_rate"], pre["lora_r"] < scratch["lora_r"]) == (
        True,
        True,
    )
    assert (cfg.learning_rate, cfg.modules_to_save) == (0.5, ["embed_tokens", "lm_head"])


def test_batch_shrinks_for_long_examples() -> None:
    """Batches stay under the token budget when examples are long."""
    actual = suggest_hyperparameters(3_000, 3_000 * 4_000)["batch_size"]
    assert actual == 4


def test_unknown_profile_is_refused() -> None:
    """An unknown profile name raises ValueError."""
    with pytest.raises(ValueError, match="unknown training profile"):
        suggest_hyperparameters(10, 100, profile="huge")
