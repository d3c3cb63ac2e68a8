"""Batch pairing over the one engine: ``pair_all`` and the closing-pairs ``Pairer`` view."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from harvest.engine.core import HarvestEngine
from harvest.engine.decisions import DecisionKind
from harvest.engine.rules import (
    PairingConfig,
    is_harvestable,
    role_of,
    score_answer,
    strip_address,
)
from harvest.engine.scoring import Scorer, score_pair
from harvest.model import ChatMessage, PairedAnswer, Role

__all__ = [
    "Pairer",
    "PairingConfig",
    "is_harvestable",
    "pair_all",
    "role_of",
    "score_answer",
    "strip_address",
]

_NO_ROLES: Mapping[str, Role] = MappingProxyType({})


class Pairer:
    """``feed`` messages in order and get the pairs that can no longer grow; ``flush``.

    A view of :class:`harvest.engine.HarvestEngine` that keeps only its ``close``
    decisions (what a batch import stores); every rule lives in the engine.
    """

    def __init__(
        self,
        config: PairingConfig | None = None,
        roles: Mapping[str, Role] = _NO_ROLES,
        *,
        scorer: Scorer = score_pair,
    ) -> None:
        self.engine = HarvestEngine(config, roles, scorer=scorer, incremental=False)
        self.config = self.engine.config
        self.roles = roles

    def feed(self, msg: ChatMessage) -> list[PairedAnswer]:
        """Take the next message; return the answers that can no longer grow."""
        decisions = self.engine.feed(msg).decisions
        return [d.pair for d in decisions if d.kind is DecisionKind.CLOSE and d.pair is not None]

    def flush(self) -> list[PairedAnswer]:
        """Emit every answer still open (end of an import)."""
        return [d.pair for d in self.engine.flush() if d.pair is not None]


def pair_all(
    messages: Iterable[ChatMessage],
    config: PairingConfig | None = None,
    roles: Mapping[str, Role] = _NO_ROLES,
) -> list[PairedAnswer]:
    """Every pair in ``messages`` (chronological), in the order the answers close."""
    pairer = Pairer(config, roles)
    out: list[PairedAnswer] = []
    for msg in messages:
        out.extend(pairer.feed(msg))
    out.extend(pairer.flush())
    return out
