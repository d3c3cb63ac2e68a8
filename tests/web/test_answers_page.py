"""Answers and gaps: the answer log, abstained questions grouped, "write the answer"."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.answering import answer
from bot.web.answers import group_gaps
from storage.db import session_scope
from storage.models import AnswerLog, ModelVersion, QAPair
from storage.repo.pairs import list_review_events
from tests.web.builders import Seed
from tests.web.conftest import log_in

ABSTAINED = ["基金怎么定投？", "Can I pay by credit card?", "基金如何定投？"]


def _logs(engine: Engine, cid: int) -> list[int]:
    with session_scope(engine) as session:
        session.add(
            AnswerLog(
                community_id=cid,
                question_text="年费多少？",
                answer_text="首年免年费。",
                confidence=0.82,
                source_pair_ids=[3],
                feedback_up=2,
                feedback_down=1,
            )
        )
        rows = [AnswerLog(community_id=cid, question_text=q, abstained=True) for q in ABSTAINED]
        for row in rows:
            session.add(row)
        session.flush()
        return [row.id or 0 for row in rows]


def test_gaps_group_alike_questions() -> None:
    """The two wordings of the fund question are one gap; the card question another."""
    logs = [
        AnswerLog(id=i + 1, community_id=1, question_text=q, abstained=True)
        for i, q in enumerate(reversed(ABSTAINED))
    ]
    gaps = group_gaps(logs)
    grouped = sorted(
        sorted([g.first.question_text, *(o.question_text for o in g.others)]) for g in gaps
    )
    assert grouped == [["Can I pay by credit card?"], ["基金如何定投？", "基金怎么定投？"]]


async def test_write_the_answer_makes_the_bot_answer(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """A written answer is an approved pair credited to the moderator, and the bot uses it."""
    ids = _logs(desk_engine, seeded.fund)
    csrf = await log_in(client, desk_engine, seeded.moderator)
    page = (await client.get(f"/c/{seeded.fund}/answers")).text
    assert "首年免年费。" in page and "0.82" in page and "asked 2×" in page
    blank = await client.post(
        f"/c/{seeded.fund}/gaps/{ids[0]}/write", data={"csrf": csrf, "answer": " "}
    )
    assert blank.status_code == 422
    done = await client.post(
        f"/c/{seeded.fund}/gaps/{ids[0]}/write",
        data={
            "csrf": csrf,
            "question": "基金怎么定投？",
            "answer": "在应用里选择“定投”，设置金额和周期。",
        },
    )
    assert done.status_code == 303
    twice = await client.post(
        f"/c/{seeded.fund}/gaps/{ids[0]}/write", data={"csrf": csrf, "answer": "again"}
    )
    assert twice.status_code == 409
    with session_scope(desk_engine) as session:
        pair = session.exec(select(QAPair).where(QAPair.method == "written")).one()
        assert (pair.status, pair.answerer_id, pair.reviewed_by) == (
            "approved",
            seeded.moderator,
            seeded.moderator,
        )
        events = list_review_events(session, seeded.fund, pair_id=pair.id)
        assert [(e.action, e.actor_label) for e in events] == [("write", "telegram:42 via web")]
        for model in session.exec(select(ModelVersion)).all():
            model.status = "retired"  # answer by retrieval: no hosted model in this test
    with session_scope(desk_engine) as session:
        result = answer(session, seeded.fund, "基金如何定投？")
    assert (result.abstained, result.text) == (False, "在应用里选择“定投”，设置金额和周期。")
