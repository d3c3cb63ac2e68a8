"""Answers through ``chat.completions``: hosted fine-tuned models, or LoRAs served by vLLM.

``openai_generator_factory(client)`` is a ``trainer.generation.GeneratorFactory``: called with
``(model, None)`` it generates with that model id (a hosted fine-tuned model such as
``ft:gpt-4.1-mini:org:fanfund:abc123``, or any model the server knows); called with
``(base_model, adapter_dir)`` it asks for the LoRA served under ``lora_name(base_model,
adapter_dir)``, by default the adapter's path, so a vLLM server started with
``--enable-lora --lora-modules /data/runs/7/adapter=/data/runs/7/adapter`` serves the local
run's adapter without code changes.

Certainty: ``mean_logprob`` is the mean of the token logprobs the server returns
(``logprobs=True``). A server that returns none (or rejects the parameter) gets
``log(NO_LOGPROBS_CERTAINTY)``, a neutral 0.6 certainty, so the confidence then rests on
the retrieval evidence.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from harvest.errors import PlatformError

__all__ = [
    "NO_LOGPROBS_CERTAINTY",
    "ChatGeneration",
    "ChatGenerator",
    "openai_generator_factory",
    "routing_generator_factory",
    "wrap_api_error",
]

log = logging.getLogger(__name__)

NO_LOGPROBS_CERTAINTY = 0.6


def wrap_api_error(what: str, exc: openai.OpenAIError) -> PlatformError:
    """A PlatformError naming what failed, with the HTTP status when there is one."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)  # the reply's "error" object, when there is one
    detail = body.get("message") if isinstance(body, dict) else None
    detail = detail or getattr(exc, "message", None) or str(exc) or type(exc).__name__
    prefix = f"{what} failed" + (f" (HTTP {status})" if status else "")
    return PlatformError(f"{prefix}: {detail}", platform="openai")


@dataclass(frozen=True, slots=True)
class ChatGeneration:
    """One generated answer, shaped like ``trainer.inference``'s generations."""

    text: str
    mean_logprob: float
    finished: bool
    has_logprobs: bool = True


class ChatGenerator:
    """Greedy (temperature 0) generation with one model through ``chat.completions``."""

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        *,
        seed: int | None = 0,
        max_tokens_param: str = "max_completion_tokens",
    ) -> None:
        self.client, self.model, self.seed = client, model, seed
        self.max_tokens_param = max_tokens_param
        self._logprobs = True

    def _create(self, messages: Sequence[Mapping[str, Any]], max_new_tokens: int) -> Any:
        extra: dict[str, Any] = {self.max_tokens_param: max_new_tokens}
        if self._logprobs:
            extra["logprobs"] = True
        if self.seed is not None:
            extra["seed"] = self.seed
        return self.client.chat.completions.create(
            model=self.model,
            messages=[{"role": m["role"], "content": m["content"]} for m in messages],
            temperature=0.0,
            **extra,
        )

    def generate(
        self, messages: Sequence[Mapping[str, Any]], max_new_tokens: int = 128
    ) -> ChatGeneration:
        """The model's answer to ``messages``; PlatformError when the API fails."""
        try:
            try:
                response = self._create(messages, max_new_tokens)
            except openai.BadRequestError:
                if not self._logprobs:
                    raise
                # Some OpenAI-compatible servers reject logprobs: ask once more without.
                self._logprobs = False
                response = self._create(messages, max_new_tokens)
                log.info(
                    "model %s: the server rejects logprobs; using a fixed certainty", self.model
                )
        except openai.OpenAIError as exc:
            raise wrap_api_error(f"chat completion with {self.model}", exc) from exc
        if not response.choices:
            raise PlatformError(f"chat completion with {self.model} returned no choice")
        choice = response.choices[0]
        text = choice.message.content or ""
        tokens = choice.logprobs.content if choice.logprobs is not None else None
        if tokens:
            mean = sum(t.logprob for t in tokens) / len(tokens)
            has = True
        else:
            mean, has = math.log(NO_LOGPROBS_CERTAINTY), False
        return ChatGeneration(
            text=text,
            mean_logprob=mean,
            finished=choice.finish_reason != "length",
            has_logprobs=has,
        )


def _adapter_name(base_model: str, adapter_dir: str) -> str:
    return adapter_dir


def openai_generator_factory(
    client: openai.OpenAI,
    *,
    lora_name: Callable[[str, str], str] | None = None,
    seed: int | None = 0,
    max_tokens_param: str = "max_completion_tokens",
) -> Callable[[str, str | None], ChatGenerator]:
    """A ``GeneratorFactory`` that answers through ``client.chat.completions``.

    ``(model, None)`` → that model id; ``(base, adapter_dir)`` → the served LoRA named
    ``lora_name(base, adapter_dir)`` (default: the adapter path). Generators are cached.
    """
    name_of = lora_name or _adapter_name
    cache: dict[str, ChatGenerator] = {}

    def make(base_model: str, adapter_dir: str | None) -> ChatGenerator:
        model = base_model if adapter_dir is None else name_of(base_model, str(adapter_dir))
        if model not in cache:
            cache[model] = ChatGenerator(
                client, model, seed=seed, max_tokens_param=max_tokens_param
            )
        return cache[model]

    return make


def routing_generator_factory(
    *,
    hosted: Callable[[str, str | None], Any] | None,
    local: Callable[[str, str | None], Any] | None,
) -> Callable[[str, str | None], Any]:
    """Route ``(model, None)`` to ``hosted`` (a remote model id) and LoRAs to ``local``.

    What a bot needs when its communities mix backends: ``answer`` calls the factory with
    ``(remote_model_id, None)`` for a hosted model and ``(base_model, adapter_path)`` for a
    local one. To serve local LoRAs from vLLM, pass the vLLM ``openai_generator_factory``
    as ``local``.
    """

    def make(model: str, adapter_dir: str | None) -> Any:
        chosen = hosted if adapter_dir is None else local
        if chosen is None:
            kind = "hosted model" if adapter_dir is None else "local LoRA"
            raise PlatformError(f"a {kind} ({model}) is live but no generator is configured")
        return chosen(model, adapter_dir)

    return make
