"""Retrieval (bm25s, Chinese and English tokens) and answering before any live model."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.answering import ABSTAIN_NOTICE, PairIndex, answer, tokenize
from bot.answering.tokens import content_tokens
from storage.db import session_scope
from storage.models import AnswerLog
from storage.repo import update_community
from tests.trainer.test_loop_builders import make_community


def test_tokenizer_handles_chinese_and_english() -> None:
    """CJK runs give unigrams and bigrams; English words are stemmed, stop words dropped."""
    assert tokenize("How do I 赎回基金?") == ["赎", "回", "基", "金", "赎回", "回基", "基金"]
    assert tokenize("Redeemed my redemptions, updating the NAV") == [
        "redeem",
        "redempt",
        "updat",
        "nav",
    ]
    assert tokenize("") == []


def test_content_tokens_leave_out_single_chinese_characters() -> None:
    """Coverage counts words and CJK bigrams; a lone character only when nothing else is left."""
    assert content_tokens(tokenize("赎回 fee")) == ["赎回", "fee"]
    assert content_tokens(tokenize("钱")) == ["钱"]


def test_bm25_finds_paraphrases_in_both_languages() -> None:
    """A paraphrase retrieves the pair of its own topic, in Chinese and in English."""
    index = PairIndex(
        [
            (1, "What is the management fee?", "1.5%"),
            (2, "How do I redeem my shares?", "Redeem in the app."),
            (3, "管理费是多少？", "百分之一点五"),
            (4, "怎么赎回基金？", "在应用里赎回"),
        ]
    )
    assert index.search("how high is the management fee", k=1)[0].pair_id == 1
    assert index.search("赎回要多久到账？", k=1)[0].pair_id == 4
    hit = index.search("What is the management fee?", k=1)[0]
    assert hit.similarity == pytest.approx(1.0)
    assert index.search("完全无关 xyz") == []


def test_retrieval_answers_before_any_model_and_abstains_per_mode(sqlite_engine: Engine) -> None:
    """No live model: the best pair's answer; below min_confidence a notice or silence; logged."""
    cid = make_community(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        got = answer(session, cid, "How much is the yearly management fee?")
    assert (got.mode, got.abstained, got.model_version_id) == ("retrieval", False, None)
    assert got.text.startswith("The management fee is 1.5%") and got.sources
    with session_scope(sqlite_engine) as session:
        update_community(session, cid, min_confidence=0.99)
        notice = answer(session, cid, "fee?")
        update_community(session, cid, abstain_mode="silent")
        silent = answer(session, cid, "fee?")
    assert (notice.abstained, notice.text) == (True, ABSTAIN_NOTICE.split(" / ")[0])
    assert (silent.abstained, silent.text) == (True, "")
    with session_scope(sqlite_engine) as session:
        logs = session.exec(select(AnswerLog).order_by(AnswerLog.id)).all()
        assert [log.abstained for log in logs] == [False, True, True]
        assert logs[0].source_pair_ids == got.sources
