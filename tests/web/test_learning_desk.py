"""On the desk: a moderator's decision there refits the classifier; its auto-approval shows
in the pair's audit log as "classifier v1 (…)" and "Back to pending" undoes it for good."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.learning import Learner
from storage.db import session_scope
from storage.models import QAPair, ReviewEvent
from storage.repo.classifiers import latest_classifier
from storage.repo.communities import update_community
from storage.repo.pairs import review_pair
from tests.web.builders import Seed
from tests.web.conftest import log_in


def _pending_pairs(engine: Engine, community_id: int, n: int) -> list[int]:
    """``n`` engine-scored pending pairs: every third one chit-chat, the others answers."""
    with session_scope(engine) as s:
        rows = []
        for i in range(n):
            answer = (
                f"I spent the weekend baking bread number {i}, lovely"
                if i % 3 == 0
                else f"Open Settings → Features → {i}, then run `setup {i}` (https://docs.x.com)"
            )
            rows.append(
                QAPair(
                    community_id=community_id,
                    source_key=f"learn:{i}",
                    question_text=f"How do I set up feature {i}?",
                    answer_text=answer,
                    content_hash=f"learn{i}",
                    score=2.0,
                    confidence=0.8,
                    confidence_reason={"rule": "reply", "signals": {"answer_parts": 1}},
                )
            )
        s.add_all(rows)
        s.flush()
        return [r.id or 0 for r in rows]


async def test_desk_decision_refits_and_back_to_pending_undoes_an_auto_approval(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    ids = _pending_pairs(desk_engine, seeded.fund, 36)
    with session_scope(desk_engine) as s:
        update_community(s, seeded.fund, classifier_refit_every=30, auto_approve_above=0.8)
        for i, pid in enumerate(ids[:29]):
            review_pair(s, pid, "reject" if i % 3 == 0 else "approve", community_id=seeded.fund)
    csrf = await log_in(client, desk_engine, seeded.moderator)
    reply = await client.post(
        f"/c/{seeded.fund}/queue/bulk",
        data={"csrf": csrf, "action": "reject", "ids": [str(ids[30])]},
    )
    assert reply.status_code == 303
    with session_scope(desk_engine) as s:
        latest = latest_classifier(s, seeded.fund)
        assert latest is not None and (latest.version, latest.decisions) == (1, 30)
        auto = s.exec(
            select(ReviewEvent)
            .where(col(ReviewEvent.actor_label).startswith("classifier v1 ("))
            .order_by(col(ReviewEvent.id))
        ).all()
        approved = [e.pair_id for e in auto]
        assert ids[31] in approved and ids[33] not in approved  # an answer; chit-chat stays
        label = next(e.actor_label for e in auto if e.pair_id == ids[31])

    page = (await client.get(f"/c/{seeded.fund}/pairs/{ids[31]}")).text
    assert label in page
    undo = await client.post(
        f"/c/{seeded.fund}/pairs/{ids[31]}/review", data={"csrf": csrf, "action": "reset"}
    )
    assert undo.status_code == 303
    Learner(desk_engine).fit(seeded.fund)  # a new version, another approval pass
    with session_scope(desk_engine) as s:
        assert s.get(QAPair, ids[31]).status == "pending"  # type: ignore[union-attr]
