"""Answering: retrieval over a community's approved pairs, the live model, confidence."""

from bot.answering.answer import Answer, answer
from bot.answering.cache import Retriever, approved_triples, default_retriever
from bot.answering.confidence import agreement, confidence_of, support_of
from bot.answering.index import Hit, PairIndex
from bot.answering.notice import ABSTAIN_NOTICE, notice_for
from bot.answering.tokens import tokenize

__all__ = [
    "ABSTAIN_NOTICE",
    "Answer",
    "Hit",
    "PairIndex",
    "Retriever",
    "agreement",
    "answer",
    "approved_triples",
    "confidence_of",
    "default_retriever",
    "notice_for",
    "support_of",
    "tokenize",
]
