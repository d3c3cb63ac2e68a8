"""Reviewing on the desk: the same review_pair as chat and CLI, audited "via web"."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import QAPair
from storage.repo.pairs import list_review_events
from tests.web.builders import Seed
from tests.web.conftest import log_in


def _statuses(engine: Engine, ids: list[int]) -> list[str]:
    with session_scope(engine) as session:
        return [session.get(QAPair, pid).status for pid in ids]  # type: ignore[union-attr]


async def test_queue_lists_pending_most_confident_first_with_sources(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Pending pairs by the harvest engine's confidence, Chinese intact, sources shown."""
    await log_in(client, desk_engine, seeded.moderator)
    page = (await client.get(f"/c/{seeded.fund}/queue")).text
    order = [page.index(f'id="pair-{pid}"') for pid in seeded.queue_order]
    assert order == sorted(order)
    assert "首年免年费，之后每年 100 元。" in page and "Alice" in page
    assert "https://t.me/c/1234567890/" in page  # jump link to the chat
    assert f'id="pair-{seeded.games_pair}"' not in page


async def test_queue_filters_by_method(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """?method=thread shows only pairs harvested from threads; the confidence bounds narrow
    it too (checked: a minimum above the maximum is refused)."""
    await log_in(client, desk_engine, seeded.moderator)
    page = (await client.get(f"/c/{seeded.fund}/queue?method=thread")).text
    shown = [pid for pid in seeded.pairs if f'id="pair-{pid}"' in page]
    assert shown == seeded.pairs[0::2]
    confident = (await client.get(f"/c/{seeded.fund}/queue?min_confidence=0.7")).text
    shown = [pid for pid in seeded.queue_order if f'id="pair-{pid}"' in confident]
    assert shown == seeded.queue_order[:2]
    unsure = (await client.get(f"/c/{seeded.fund}/queue?max_confidence=0.7")).text
    shown = [pid for pid in seeded.queue_order if f'id="pair-{pid}"' in unsure]
    assert shown == seeded.queue_order[2:]
    # a browser sends every menu of the form, "any" as an empty value
    every = await client.get(f"/c/{seeded.fund}/queue?chat=&author=&method=&min_confidence=")
    assert every.status_code == 200 and all(f'id="pair-{p}"' in every.text for p in seeded.pairs)
    wrong = await client.get(f"/c/{seeded.fund}/queue?min_confidence=0.9&max_confidence=0.5")
    assert wrong.status_code == 422 and "min_confidence" in wrong.text
    word = await client.get(f"/c/{seeded.fund}/queue?max_confidence=high")
    assert word.status_code == 422 and "max_confidence" in word.text


async def test_approve_with_htmx_is_audited_via_web(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """An htmx approve swaps the row and writes review_events as "telegram:42 via web"."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    pid = seeded.pairs[0]
    reply = await client.post(
        f"/c/{seeded.fund}/pairs/{pid}/review",
        data={"csrf": csrf, "action": "approve"},
        headers={"HX-Request": "true"},
    )
    assert reply.status_code == 200 and f"#{pid} approved" in reply.text
    assert _statuses(desk_engine, [pid]) == ["approved"]
    with session_scope(desk_engine) as session:
        events = list_review_events(session, seeded.fund, pair_id=pid)
        assert [(e.action, e.actor_label, e.actor_id) for e in events] == [
            ("approve", "telegram:42 via web", seeded.moderator)
        ]


async def test_forged_or_foreign_actions_change_nothing(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Bad CSRF → 403; another community's pair or page → 404; unknown action → 422."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    pid = seeded.pairs[0]
    forged = await client.post(
        f"/c/{seeded.fund}/pairs/{pid}/review", data={"csrf": "nope", "action": "approve"}
    )
    assert forged.status_code == 403 and "Nothing was changed" in forged.text
    foreign = await client.post(
        f"/c/{seeded.games}/pairs/{seeded.games_pair}/review",
        data={"csrf": csrf, "action": "approve"},
    )
    assert foreign.status_code == 404
    sneaky = await client.post(
        f"/c/{seeded.fund}/pairs/{seeded.games_pair}/review",
        data={"csrf": csrf, "action": "approve"},
    )
    assert sneaky.status_code == 404
    assert (await client.get(f"/c/{seeded.games}/queue")).status_code == 404
    odd = await client.post(
        f"/c/{seeded.fund}/pairs/{pid}/review", data={"csrf": csrf, "action": "delete"}
    )
    assert odd.status_code == 422
    assert _statuses(desk_engine, [pid, seeded.games_pair]) == ["pending", "pending"]


async def test_bulk_reject_is_all_or_nothing(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Bulk reject of own pairs works; a selection with a foreign pair changes nothing."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    mixed = await client.post(
        f"/c/{seeded.fund}/queue/bulk",
        data={"csrf": csrf, "action": "reject", "ids": [seeded.pairs[0], seeded.games_pair]},
    )
    assert mixed.status_code == 404
    assert _statuses(desk_engine, seeded.pairs[:1]) == ["pending"]
    done = await client.post(
        f"/c/{seeded.fund}/queue/bulk",
        data={"csrf": csrf, "action": "reject", "ids": seeded.pairs[:2]},
    )
    assert done.status_code == 303 and "2+pair" in done.headers["location"]
    assert _statuses(desk_engine, seeded.pairs) == ["rejected", "rejected", "pending", "pending"]
    empty = await client.post(f"/c/{seeded.fund}/queue/bulk", data={"csrf": csrf, "action": "x"})
    assert empty.status_code == 422


async def test_reject_all_matching_the_filters(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """With a filter the queue offers "all N matching"; it rejects every pending pair the
    filter matches (not only those shown), audited as the filter's decision; no filter,
    a forged token or a reset by filter change nothing."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    page = (await client.get(f"/c/{seeded.fund}/queue?max_confidence=0.7")).text
    assert "All 2 matching" in page and 'name="max_confidence" value="0.7"' in page
    assert "All 4 matching" not in (await client.get(f"/c/{seeded.fund}/queue")).text
    url = f"/c/{seeded.fund}/queue/matching"
    for data, status in (
        ({"csrf": "nope", "action": "reject", "max_confidence": "0.7"}, 403),
        ({"csrf": csrf, "action": "reject"}, 422),  # no filter: not "everything"
        ({"csrf": csrf, "action": "reset", "max_confidence": "0.7"}, 422),
    ):
        assert (await client.post(url, data=data)).status_code == status
    assert _statuses(desk_engine, seeded.pairs) == ["pending"] * 4
    done = await client.post(url, data={"csrf": csrf, "action": "reject", "max_confidence": "0.7"})
    assert done.status_code == 303 and "2+pair" in done.headers["location"]
    low = seeded.queue_order[2:]
    assert _statuses(desk_engine, low) == ["rejected", "rejected"]
    assert _statuses(desk_engine, seeded.queue_order[:2]) == ["pending", "pending"]
    with session_scope(desk_engine) as session:
        events = list_review_events(session, seeded.fund, pair_id=low[0])
        assert [(e.action, e.actor_label, e.actor_id) for e in events] == [
            ("reject", "filter confidence ≤ 0.70 (telegram:42 via web)", seeded.moderator)
        ]


async def test_edit_validates_and_keeps_the_answer_on_error(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """A blank answer → 422 with the form kept; a real one is saved and in the history."""
    csrf = await log_in(client, desk_engine, seeded.moderator)
    pid = seeded.pairs[0]
    blank = await client.post(
        f"/c/{seeded.fund}/pairs/{pid}/edit", data={"csrf": csrf, "answer": "   "}
    )
    assert blank.status_code == 422 and "the new answer is empty" in blank.text
    saved = await client.post(
        f"/c/{seeded.fund}/pairs/{pid}/edit", data={"csrf": csrf, "answer": "T+1 到账。"}
    )
    assert saved.status_code == 303
    page = (await client.get(f"/c/{seeded.fund}/pairs/{pid}")).text
    assert "T+1 到账。" in page and "telegram:42 via web" in page and "edit" in page
    with session_scope(desk_engine) as session:
        events = list_review_events(session, seeded.fund, pair_id=pid)
        assert [e.action for e in events] == ["edit"]


async def test_approving_on_the_desk_changes_what_the_bot_answers(
    client: httpx.AsyncClient, desk_engine: Engine, seeded: Seed
) -> None:
    """Before approval the bot abstains on the question; after, it answers with the pair."""
    from sqlmodel import select

    from bot.answering import answer
    from storage.models import ModelVersion

    with session_scope(desk_engine) as session:
        for model in session.exec(select(ModelVersion)).all():
            model.status = "retired"  # answer by retrieval: no hosted model here
    with session_scope(desk_engine) as session:
        before = answer(session, seeded.fund, "年费怎么收？")
    csrf = await log_in(client, desk_engine, seeded.moderator)
    await client.post(
        f"/c/{seeded.fund}/pairs/{seeded.pairs[2]}/review",
        data={"csrf": csrf, "action": "approve"},
    )
    with session_scope(desk_engine) as session:
        after = answer(session, seeded.fund, "年费怎么收？")
    assert (before.abstained, after.abstained, after.text) == (
        True,
        False,
        "首年免年费，之后每年 100 元。",
    )
