"""Hosted fine-tuning and answering through any OpenAI-compatible API (the ``openai`` SDK)."""

from __future__ import annotations

from trainer.hosted.backend import DEFAULT_HOSTED_MODEL, HostedBackend, HostedError
from trainer.hosted.generate import (
    NO_LOGPROBS_CERTAINTY,
    ChatGeneration,
    ChatGenerator,
    openai_generator_factory,
    routing_generator_factory,
)
from trainer.hosted.results import decode_result_file, event_metrics, parse_result_file
from trainer.hosted.scrubbing import scrub_examples
from trainer.hosted.training import BACKEND_NAME, HostedTraining, job_hyperparameters

__all__ = [
    "BACKEND_NAME",
    "DEFAULT_HOSTED_MODEL",
    "NO_LOGPROBS_CERTAINTY",
    "ChatGeneration",
    "ChatGenerator",
    "HostedBackend",
    "HostedError",
    "HostedTraining",
    "decode_result_file",
    "event_metrics",
    "job_hyperparameters",
    "openai_generator_factory",
    "parse_result_file",
    "routing_generator_factory",
    "scrub_examples",
]
