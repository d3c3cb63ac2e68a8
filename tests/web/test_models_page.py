"""Models on the desk: promote and roll back only after a confirmation, as /promote does."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import ModelVersion, Notification, ReviewEvent
from tests.web.builders import Seed
from tests.web.conftest import csrf_of, log_in


def _status(engine: Engine) -> dict[int, str]:
    with session_scope(engine) as session:
        return {m.id or 0: m.status for m in session.exec(select(ModelVersion)).all()}


async def test_models_page_shows_hosted_ids(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Live and candidate versions with their ft: ids; another community's are not listed."""
    await log_in(client, desk_engine, seeded.moderator)
    page = (await client.get(f"/c/{seeded.fund}/models")).text
    assert "ft:gpt-4o-mini:org:fund:v1" in page and "ft:gpt-4o-mini:org:fund:v2" in page
    assert "ft:x:games" not in page


async def test_promote_needs_the_confirmation_step(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """GET shows what changes (nothing changes); POST promotes, announces, audits via web."""
    await log_in(client, desk_engine, seeded.moderator)
    live, candidate = seeded.models
    confirm = await client.get(f"/c/{seeded.fund}/models/{candidate}/promote")
    assert confirm.status_code == 200 and f"replaces the live model <strong>#{live}" in confirm.text
    assert _status(desk_engine)[candidate] == "candidate"
    done = await client.post(
        f"/c/{seeded.fund}/models/{candidate}/promote", data={"csrf": csrf_of(confirm.text)}
    )
    assert done.status_code == 303
    assert (_status(desk_engine)[live], _status(desk_engine)[candidate]) == ("retired", "live")
    with session_scope(desk_engine) as session:
        events = session.exec(select(ReviewEvent).where(ReviewEvent.action == "promote")).all()
        assert [e.actor_label for e in events] == ["telegram:42 via web"]
        notices = session.exec(select(Notification)).all()
        assert any("telegram:42 via web" in n.text for n in notices)
    page = (await client.get(done.headers["location"])).text
    assert f"Model #{candidate} is now live." in page


async def test_rollback_and_foreign_model(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Rollback after confirming; another community's model is 404 and stays as it was."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    live, candidate = seeded.models
    await client.post(f"/c/{seeded.fund}/models/{candidate}/promote", data={"csrf": csrf})
    assert (await client.get(f"/c/{seeded.fund}/models/rollback")).status_code == 200
    back = await client.post(f"/c/{seeded.fund}/models/rollback", data={"csrf": csrf})
    assert back.status_code == 303 and _status(desk_engine)[live] == "live"
    foreign = await client.post(
        f"/c/{seeded.fund}/models/{seeded.games_model}/promote", data={"csrf": csrf}
    )
    assert foreign.status_code == 404
    assert (
        await client.get(f"/c/{seeded.fund}/models/{seeded.games_model}/promote")
    ).status_code == 404
    assert _status(desk_engine)[seeded.games_model] == "candidate"
