"""The per-community index: rebuilt only when the version moves, persisted, dense + BM25 fused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot.answering import PairIndex, Retriever
from bot.answering.index import _fuse
from storage import bump_index_version, index_version
from storage.db import session_scope
from storage.models import PairStatus, QAPair, utcnow
from storage.repo import review_pair
from tests.trainer.test_loop_builders import add_pair, make_community


def _version(engine: Engine, cid: int) -> int:
    with session_scope(engine) as session:
        return index_version(session, cid)


def _ids(engine: Engine, retriever: Retriever, cid: int, question: str) -> list[int]:
    with session_scope(engine) as session:
        return [h.pair_id for h in retriever.index_for(session, cid).search(question, k=3)]


def test_approve_reject_edit_and_forget_bump_the_version(sqlite_engine: Engine) -> None:
    """Every change to what retrieval sees bumps the version; a pending pair's edit does not."""
    cid = make_community(sqlite_engine)
    start = _version(sqlite_engine, cid)
    pid = add_pair(sqlite_engine, cid, "Can I pay by card?", "Yes.", status=PairStatus.PENDING)
    with session_scope(sqlite_engine) as session:
        session.get(QAPair, pid).answer_text = "Yes, any card."  # type: ignore[union-attr]
    assert _version(sqlite_engine, cid) == start
    seen = [start]
    for action in ("approve", "edit", "reject", "approve"):
        with session_scope(sqlite_engine) as session:
            review_pair(session, pid, action, community_id=cid, answer_text="Yes, Visa only.")
        seen.append(_version(sqlite_engine, cid))
    with session_scope(sqlite_engine) as session:
        pair = session.get(QAPair, pid)
        assert pair is not None
        pair.deleted_at, pair.question_text, pair.answer_text = utcnow(), "", ""
    seen.append(_version(sqlite_engine, cid))
    assert seen == list(range(start, start + 6))


def test_the_index_is_reused_until_the_version_moves(sqlite_engine: Engine) -> None:
    """A bulk SQL change is invisible until bump_index_version; then the index is rebuilt."""
    cid = make_community(sqlite_engine)
    retriever = Retriever()
    question = "How much is the yearly management fee?"
    with session_scope(sqlite_engine) as session:
        first = retriever.index_for(session, cid)
        assert retriever.index_for(session, cid) is first
    top = _ids(sqlite_engine, retriever, cid, question)[0]
    with session_scope(sqlite_engine) as session:
        session.connection().execute(
            update(QAPair).where(QAPair.id == top).values(status=PairStatus.REJECTED)
        )
    assert _ids(sqlite_engine, retriever, cid, question)[0] == top
    with session_scope(sqlite_engine) as session:
        bump_index_version(session, cid)
    assert top not in _ids(sqlite_engine, retriever, cid, question)


def test_a_new_process_loads_the_persisted_index(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With index_dir a fresh retriever loads what another one wrote, until the version moves."""
    cid = make_community(sqlite_engine)
    question = "怎么赎回基金？"
    built = _ids(sqlite_engine, Retriever(index_dir=tmp_path), cid, question)

    def no_rebuild(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rebuilt instead of loaded")

    with monkeypatch.context() as patched:
        patched.setattr(PairIndex, "__init__", no_rebuild)
        assert _ids(sqlite_engine, Retriever(index_dir=tmp_path), cid, question) == built
    add_pair(sqlite_engine, cid, "赎回基金要手续费吗？", "持有满7天免赎回费。")
    with monkeypatch.context() as patched:
        patched.setattr(PairIndex, "__init__", no_rebuild)
        with pytest.raises(AssertionError, match="rebuilt instead of loaded"):
            _ids(sqlite_engine, Retriever(index_dir=tmp_path), cid, question)
    assert len(_ids(sqlite_engine, Retriever(index_dir=tmp_path), cid, question)) == 3


def test_coverage_separates_known_from_unknown_words() -> None:
    """A question whose words the pair holds covers it fully; unknown words lower coverage."""
    index = PairIndex(
        [(1, "How do I redeem my shares?", "In the app."), (2, "管理费是多少？", "1.5%")]
    )
    assert index.search("How do I redeem my shares?", k=1)[0].coverage == pytest.approx(1.0)
    partial = index.search("How do I redeem my crypto wallet?", k=1)[0]
    assert partial.pair_id == 1 and 0.0 < partial.coverage < 0.5
    assert index.search("管理费多少", k=1)[0].pair_id == 2


def test_reciprocal_rank_fusion_prefers_agreement() -> None:
    """A document ranked well by both lists beats one ranked first by only one of them."""
    assert _fuse([[1, 2, 3], [2, 3, 1]])[0] == 2
    assert _fuse([[5], []]) == [5]


def test_dense_retrieval_fuses_with_bm25(sqlite_engine: Engine, tiny_encoder: Path) -> None:
    """With a sentence-transformers model every hit carries a cosine; exact questions still win."""
    cid = make_community(sqlite_engine)
    retriever = Retriever(dense_model=str(tiny_encoder), device="cpu")
    with session_scope(sqlite_engine) as session:
        hits = retriever.index_for(session, cid).search("What is the management fee?", k=3)
    assert hits[0].question == "What is the management fee?"
    assert all(h.dense is not None and -1.0 <= h.dense <= 1.0001 for h in hits)
    assert hits[0].dense == pytest.approx(1.0, abs=1e-4)


def test_drop_removes_the_persisted_index(sqlite_engine: Engine, tmp_path: Path) -> None:
    """After /forget the index files (which hold the pairs' text) are gone until rebuilt."""
    cid = make_community(sqlite_engine)
    retriever = Retriever(index_dir=tmp_path)
    first = _ids(sqlite_engine, retriever, cid, "管理费是多少？")
    assert (tmp_path / f"community-{cid}" / "pairs.json").exists()
    retriever.drop(cid)
    assert not (tmp_path / f"community-{cid}").exists()
    assert _ids(sqlite_engine, retriever, cid, "管理费是多少？") == first
