"""Settings on the desk: the same parsing and validation as `fanqa community set`."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import Community, ReviewEvent
from tests.web.builders import Seed
from tests.web.conftest import log_in


def _fund(engine: Engine, cid: int) -> Community:
    with session_scope(engine) as session:
        row = session.get(Community, cid)
        assert row is not None
        return row


async def test_settings_save_changed_fields_audited(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Changed fields are parsed (numbers, | lists) and saved; the audit says via web."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    page = await client.get(f"/c/{seeded.fund}/settings")
    assert page.status_code == 200 and 'value="mention"' in page.text
    saved = await client.post(
        f"/c/{seeded.fund}/settings",
        data={
            "csrf": csrf,
            "answer_policy": "auto",
            "min_confidence": "0.5",
            "question_patterns": "请问|怎么办",
            "system_prompt": "你是基金客服。",
        },
    )
    assert saved.status_code == 303
    row = _fund(desk_engine, seeded.fund)
    actual = (row.answer_policy, row.min_confidence, row.question_patterns, row.system_prompt)
    assert actual == ("auto", 0.5, ["请问", "怎么办"], "你是基金客服。")
    with session_scope(desk_engine) as session:
        event = session.exec(select(ReviewEvent).where(ReviewEvent.action == "settings")).one()
        assert event.actor_label == "telegram:42 via web"
        assert event.after == {
            "answer_policy": "auto",
            "min_confidence": "0.5",
            "question_patterns": "请问|怎么办",
            "system_prompt": "你是基金客服。",
        }


async def test_bad_settings_are_422_and_change_nothing(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Not a number, out of range, unknown policy, bad cron: 422 with the reason; nothing
    saved (the same check as `fanqa community set`)."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    for field, value, reason in [
        ("min_confidence", "abc", "between 0 and 1, got &#39;abc&#39;"),
        ("min_confidence", "2", "between 0 and 1, got &#39;2&#39;"),
        ("answer_policy", "always", "one of mention, auto, off"),
        ("train_cron", "every night", "train_cron"),
    ]:
        reply = await client.post(
            f"/c/{seeded.fund}/settings",
            data={"csrf": csrf, "answer_policy": "off", field: value},
        )
        assert reply.status_code == 422 and reason in reply.text, (field, value)
        assert "Nothing was changed" in reply.text
    assert _fund(desk_engine, seeded.fund).answer_policy == "mention"
    forged = await client.post(
        f"/c/{seeded.fund}/settings", data={"csrf": "x", "answer_policy": "off"}
    )
    assert forged.status_code == 403
    assert _fund(desk_engine, seeded.fund).answer_policy == "mention"
