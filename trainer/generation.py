"""What generates an answer: the protocol every model backend serves, and the local factory."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

__all__ = ["Generation", "Generator", "GeneratorFactory", "local_generator_factory"]


class Generation(Protocol):
    """What a generator returns: the text, its mean token logprob, whether it ended."""

    @property
    def text(self) -> str: ...
    @property
    def mean_logprob(self) -> float: ...
    @property
    def finished(self) -> bool: ...


class Generator(Protocol):
    """Anything that answers chat messages: a local model, a chat-completions API."""

    def generate(
        self, messages: Sequence[Mapping[str, Any]], max_new_tokens: int = ...
    ) -> Generation: ...


GeneratorFactory = Callable[[str, str | None], Generator]


def local_generator_factory(device: str | None = None) -> GeneratorFactory:
    """A factory of LocalGenerator (models are cached by ``trainer.inference``)."""

    def make(base_model: str, adapter_dir: str | None) -> Generator:
        from trainer.inference import LocalGenerator

        return LocalGenerator(base_model, adapter_dir, device=device)

    return make
