"""Answering: retrieval over a community's approved pairs, the live model, confidence."""

from bot.answering.answer import Answer, Prepared, answer, decide, generate, prepare, record
from bot.answering.cache import Retriever, approved_triples, default_retriever
from bot.answering.calibrate import calibrate
from bot.answering.confidence import (
    DEFAULT_CALIBRATION,
    Calibration,
    Evidence,
    agreement,
    evidence_of,
)
from bot.answering.hits import Hit
from bot.answering.index import PairIndex
from bot.answering.notice import ABSTAIN_NOTICE, notice_for
from bot.answering.tokens import tokenize

__all__ = [
    "ABSTAIN_NOTICE",
    "DEFAULT_CALIBRATION",
    "Answer",
    "Calibration",
    "Evidence",
    "Hit",
    "PairIndex",
    "Prepared",
    "Retriever",
    "agreement",
    "answer",
    "approved_triples",
    "calibrate",
    "decide",
    "default_retriever",
    "evidence_of",
    "generate",
    "notice_for",
    "prepare",
    "record",
    "tokenize",
]
