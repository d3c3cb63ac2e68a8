"""The one harvest engine: detection, pairing, linking and scoring, fed message by message."""

from harvest.engine.core import HarvestEngine
from harvest.engine.decisions import (
    Decision,
    DecisionKind,
    Fed,
    PairKey,
    final_pairs,
    pair_key,
)
from harvest.engine.edits import StoredPair, decide_delete, decide_edit
from harvest.engine.rules import PairingConfig, is_harvestable, role_of, strip_address
from harvest.engine.scoring import PairFeatures, Scorer, answer_kind, score_pair

__all__ = [
    "Decision",
    "DecisionKind",
    "Fed",
    "HarvestEngine",
    "PairFeatures",
    "PairKey",
    "PairingConfig",
    "Scorer",
    "StoredPair",
    "answer_kind",
    "decide_delete",
    "decide_edit",
    "final_pairs",
    "is_harvestable",
    "pair_key",
    "role_of",
    "score_pair",
    "strip_address",
]
