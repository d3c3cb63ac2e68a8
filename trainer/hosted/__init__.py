"""Hosted fine-tuning and answering through any OpenAI-compatible API (the ``openai`` SDK)."""

from __future__ import annotations

from trainer.hosted.backend import DEFAULT_HOSTED_MODEL, HostedBackend, HostedError
from trainer.hosted.evaluate import HOSTED_POLICY, ChatEval, evaluate_chat
from trainer.hosted.generate import (
    NO_LOGPROBS_CERTAINTY,
    ChatGeneration,
    ChatGenerator,
    openai_generator_factory,
    routing_generator_factory,
)
from trainer.hosted.results import decode_result_file, event_metrics, parse_result_file
from trainer.hosted.run import BACKEND_NAME, execute_hosted_run, job_hyperparameters
from trainer.hosted.scrubbing import scrub_examples

__all__ = [
    "BACKEND_NAME",
    "DEFAULT_HOSTED_MODEL",
    "HOSTED_POLICY",
    "NO_LOGPROBS_CERTAINTY",
    "ChatEval",
    "ChatGeneration",
    "ChatGenerator",
    "HostedBackend",
    "HostedError",
    "decode_result_file",
    "evaluate_chat",
    "event_metrics",
    "execute_hosted_run",
    "job_hyperparameters",
    "openai_generator_factory",
    "parse_result_file",
    "routing_generator_factory",
    "scrub_examples",
]
