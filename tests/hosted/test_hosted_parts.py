"""The pieces: result files old and new, metric events, suffixes, generation, settings."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from bot.settings import Settings
from harvest.errors import InputError, PlatformError
from tests.helpers.openai_emulator import GENERIC_ANSWER, OpenAIEmulator
from trainer.evaluate import evaluate
from trainer.hosted import (
    NO_LOGPROBS_CERTAINTY,
    ChatGeneration,
    HostedBackend,
    event_metrics,
    job_hyperparameters,
    openai_generator_factory,
    parse_result_file,
    routing_generator_factory,
)
from trainer.hosted.results import model_suffix
from trainer.metrics import StepMetrics

CURRENT = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,"
    "train_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy\n"
    "1,2.5,0.4,2.6,0.38,0.41,,\n"
    "2,1.5,0.6,,,0.61,1.7,0.55\n"
)
LEGACY = (
    "step,elapsed_tokens,elapsed_examples,training_loss,training_sequence_accuracy,"
    "training_token_accuracy,validation_loss,validation_sequence_accuracy,"
    "validation_token_accuracy\n"
    "1,512,4,2.5,0.0,0.4,2.6,0.25,0.38\n"
)


def test_result_file_base64_or_plain_new_or_old_columns() -> None:
    """OpenAI's base64 CSV and a plain one parse alike; old column names map to ours."""
    plain = parse_result_file(CURRENT)
    assert parse_result_file(base64.b64encode(CURRENT.encode())) == plain
    assert plain == [
        StepMetrics(step=1, train_loss=2.5, train_mean_token_accuracy=0.41, valid_loss=2.6,
                    valid_mean_token_accuracy=0.38),
        StepMetrics(step=2, train_loss=1.5, train_mean_token_accuracy=0.61, valid_loss=1.7,
                    valid_mean_token_accuracy=0.55),
    ]  # fmt: skip
    (legacy,) = parse_result_file(base64.b64encode(LEGACY.encode()).decode())
    assert legacy == StepMetrics(
        step=1,
        train_loss=2.5,
        train_mean_token_accuracy=0.4,
        valid_loss=2.6,
        valid_mean_token_accuracy=0.38,
        valid_sequence_accuracy=0.25,
        tokens_seen=512,
    )


def test_metric_events_from_data_or_message() -> None:
    """Step, total and losses come from the event's data, or failing that its message."""
    row, total = event_metrics(
        "Step 7/30: training loss=0.41",
        {"step": 7, "total_steps": 30, "train_loss": 0.4, "full_valid_loss": 0.5},
    ) or (None, None)
    assert (row, total) == (StepMetrics(step=7, train_loss=0.4, valid_loss=0.5), 30)
    assert event_metrics("Step 3/10: training loss=1.25", None) == (
        StepMetrics(step=3, train_loss=1.25),
        10,
    )
    assert event_metrics("Fine-tuning job started", {}) is None


def test_model_suffix_and_hyperparameters() -> None:
    """Suffixes are ASCII slugs (a Chinese-only name falls back); epochs become n_epochs."""
    assert model_suffix("FanFund 基金 Community!", "c-1") == "fanfund-community"
    assert model_suffix("粉丝基金", "community-3") == "community-3"
    assert job_hyperparameters({"epochs": 2.6, "batch_size": 8, "lora_r": 16}) == {
        "n_epochs": 3,
        "batch_size": 8,
    }
    assert job_hyperparameters({"n_epochs": "auto", "learning_rate_multiplier": "0.5"}) == {
        "n_epochs": "auto",
        "learning_rate_multiplier": 0.5,
    }


def test_generation_without_logprobs_uses_the_fixed_certainty() -> None:
    """A server that returns no logprobs gets log(0.6); a cut-off answer is not finished."""
    with OpenAIEmulator(logprobs_supported=False) as api:
        generator = openai_generator_factory(api.client())("some-base-model", None)
        full = generator.generate([{"role": "user", "content": "hi?"}])
        cut = generator.generate([{"role": "user", "content": "hi?"}], max_new_tokens=3)
        assert api.chat_requests[0]["max_completion_tokens"] == 128
        assert api.chat_requests[0]["logprobs"] is True
        assert api.chat_requests[0]["temperature"] == 0.0
    assert full.text == GENERIC_ANSWER and full.finished
    assert full.mean_logprob == pytest.approx(math.log(NO_LOGPROBS_CERTAINTY))
    assert not full.has_logprobs
    assert not cut.finished and len(cut.text) < len(GENERIC_ANSWER)


def test_lora_served_by_vllm_is_asked_for_by_its_served_name() -> None:
    """(base, adapter) → the LoRA's served name; unknown fine-tuned ids are a PlatformError."""
    with OpenAIEmulator() as api:
        factory = openai_generator_factory(api.client(), lora_name=lambda base, path: "fanfund-7")
        factory("Qwen/Qwen2.5-7B-Instruct", "/data/runs/7/adapter").generate(
            [{"role": "user", "content": "hi?"}]
        )
        assert api.chat_requests[-1]["model"] == "fanfund-7"
        routed = routing_generator_factory(
            hosted=openai_generator_factory(api.client()), local=None
        )
        with pytest.raises(
            PlatformError,
            match=r"ft:nope:x:y failed \(HTTP 404\): The model `ft:nope:x:y` does not exist$",
        ):
            routed("ft:nope:x:y", None).generate([{"role": "user", "content": "hi?"}])
        with pytest.raises(PlatformError, match="local LoRA"):
            routed("base", "/data/runs/7/adapter")


def test_question_gain_is_zero_for_an_answer_that_ignores_the_question() -> None:
    """The same answer for every question: chrF vs own and vs other answers alike → gain ≈ 0."""

    class Same:
        def generate(
            self, messages: Sequence[Mapping[str, Any]], max_new_tokens: int = 128
        ) -> ChatGeneration:
            return ChatGeneration("The fee is 1.5% per year.", -0.1, True)

    examples = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in [("Fee?", "The fee is 1.5% per year."), ("Redeem?", "Open the app.")]
    ]
    result = evaluate(Same(), examples)
    assert result.exact_match == 0.5 and result.n == 2
    assert result.question_gain == 0.0


def test_from_settings_reads_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_API_KEY / OPENAI_BASE_URL reach the client; no key is a clear InputError."""
    for name in ("FANQA_OPENAI_API_KEY", "OPENAI_API_KEY", "FANQA_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("FANQA_HOSTED_BASE_MODEL", "my-base")
    with pytest.raises(InputError, match="FANQA_OPENAI_API_KEY or OPENAI_API_KEY"):
        HostedBackend.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    backend = HostedBackend.from_settings(Settings(_env_file=None), poll_interval=0.5)  # type: ignore[call-arg]
    assert str(backend.client.base_url).rstrip("/") == "http://127.0.0.1:9/v1"
    assert backend.client.api_key == "sk-from-env" and backend.client.max_retries == 5
    assert (backend.base_model, backend.poll_interval) == ("my-base", 0.5)
