"""Runs on the desk: progress polled by htmx, loss values, the gate report, cancel."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import ReviewEvent, TrainingRun
from tests.web.builders import PNG, Seed
from tests.web.conftest import log_in


async def test_run_page_shows_losses_gate_and_png(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """A finished run: loss table and curve, the gate's table and chart; no polling."""
    await log_in(client, desk_engine, seeded.moderator)
    done, running = seeded.runs
    page = (await client.get(f"/c/{seeded.fund}/runs/{done}")).text
    assert "1.8500" in page and "<polyline" in page  # step 1 train loss
    assert "beats live 1.350" in page and "question_gain" in page
    assert "hx-trigger" not in page
    png = await client.get(f"/c/{seeded.fund}/runs/{done}/report.png")
    assert (png.status_code, png.content) == (200, PNG)
    listing = (await client.get(f"/c/{seeded.fund}/runs")).text
    assert f"/runs/{running}" in listing and "3/10" in listing


async def test_running_run_polls_and_cancels(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """A running run's status polls /progress; cancel asks it to stop, audited via web."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    running = seeded.runs[1]
    page = (await client.get(f"/c/{seeded.fund}/runs/{running}")).text
    assert f'hx-get="/c/{seeded.fund}/runs/{running}/progress"' in page
    with session_scope(desk_engine) as session:
        row = session.get(TrainingRun, running)
        assert row is not None
        row.step = 7
    fragment = (await client.get(f"/c/{seeded.fund}/runs/{running}/progress")).text
    assert "step 7/10" in fragment and "<html" not in fragment
    cancelled = await client.post(f"/c/{seeded.fund}/runs/{running}/cancel", data={"csrf": csrf})
    assert cancelled.status_code == 303
    with session_scope(desk_engine) as session:
        assert session.get(TrainingRun, running).cancel_requested  # type: ignore[union-attr]
        events = session.exec(select(ReviewEvent).where(ReviewEvent.action == "cancel_run")).all()
        assert [e.actor_label for e in events] == ["telegram:42 via web"]
    again = await client.post(f"/c/{seeded.fund}/runs/{seeded.runs[0]}/cancel", data={"csrf": csrf})
    assert again.status_code == 409 and "already succeeded" in again.text


async def test_other_community_run_is_404(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Runs are checked against the URL's community."""
    await log_in(client, desk_engine, seeded.games_moderator)
    assert (await client.get(f"/c/{seeded.games}/runs/{seeded.runs[0]}")).status_code == 404
    assert (await client.get(f"/c/{seeded.fund}/runs/{seeded.runs[0]}")).status_code == 404
