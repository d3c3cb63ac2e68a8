"""The desk in a real browser: Playwright driving Debian's Chromium against a live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.web import create_app
from bot.web.server import ThreadedDesk
from storage import make_engine, upgrade
from storage.db import session_scope
from storage.models import ModelVersion, QAPair
from storage.repo.communities import set_role
from tests.web.builders import Seed, login_token, seed

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (`apt-get install -y chromium`; make test does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Engine, Seed]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    ids = seed(engine)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    app = create_app(engine, settings, secret="browser-test-secret-" + "x" * 20)
    with ThreadedDesk(app) as desk:
        yield desk.url, engine, ids
    engine.dispose()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


def _status(engine: Engine, pid: int) -> str:
    with session_scope(engine) as session:
        pair = session.get(QAPair, pid)
        assert pair is not None
        return pair.status


def _log_in(page: Any, url: str, engine: Engine, member_id: int) -> None:
    page.goto(f"{url}/login/{login_token(engine, member_id)}")
    page.click("#login")
    page.wait_for_selector("ol.queue")


def test_login_by_link_and_a_reused_link_is_refused(
    live: tuple[str, Engine, Seed], browser: Any, page: Any
) -> None:
    """The link opens the queue once; the same link in another browser gets 410."""
    url, engine, ids = live
    token = login_token(engine, ids.moderator)
    page.goto(f"{url}/login/{token}")
    assert "王小明" in page.text_content("section.login")
    page.click("#login")
    page.wait_for_selector("ol.queue")
    assert "基金赎回要几天到账？" in page.text_content("ol.queue")
    other = browser.new_context().new_page()
    reply = other.goto(f"{url}/login/{token}")
    assert reply.status == 410
    assert "already used" in other.text_content("section.error")
    other.context.close()


def test_approve_by_keyboard(live: tuple[str, Engine, Seed], page: Any) -> None:
    """j moves to the second pair, a approves it (htmx), and the row says so."""
    url, engine, ids = live
    _log_in(page, url, engine, ids.moderator)
    in_queue = ids.queue_order
    page.keyboard.press("j")
    assert page.get_attribute("li.pair.current", "data-id") == str(in_queue[1])
    page.keyboard.press("a")
    page.wait_for_selector(f"#pair-{in_queue[1]}.reviewed")
    assert f"#{in_queue[1]} approved" in page.text_content(f"#pair-{in_queue[1]}")
    assert _status(engine, in_queue[1]) == "approved"
    assert _status(engine, in_queue[0]) == "pending"


def test_bulk_reject(live: tuple[str, Engine, Seed], page: Any) -> None:
    """x selects the current pair, j x the next; Reject selected rejects exactly those."""
    url, engine, ids = live
    _log_in(page, url, engine, ids.moderator)
    in_queue = ids.queue_order
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.text_content("#selected-count") == "2"
    page.click("#bulk-reject")
    page.wait_for_selector(".flash")
    assert "2 pair(s) rejected" in page.text_content(".flash")
    actual = [_status(engine, pid) for pid in in_queue]
    assert actual == ["rejected", "rejected", "pending", "pending"]


def test_reject_all_matching_a_filter_after_a_confirm(
    live: tuple[str, Engine, Seed], page: Any
) -> None:
    """Choosing "at most 0.7" narrows the queue; "Reject all" asks first (dismissed:
    nothing happens), then rejects the two pairs the filter matches."""
    url, engine, ids = live
    _log_in(page, url, engine, ids.moderator)
    page.select_option('select[name="max_confidence"]', "0.7")
    page.wait_for_selector("#matching-reject")
    asked: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.click("#matching-reject")
    assert asked and "2" in asked[0] and "0.70" in asked[0]
    assert [_status(engine, pid) for pid in ids.queue_order] == ["pending"] * 4
    page.once("dialog", lambda d: answer(d, True))
    page.click("#matching-reject")
    page.wait_for_selector(".flash")
    assert "2 pair(s) with confidence ≤ 0.70 rejected" in page.text_content(".flash")
    actual = [_status(engine, pid) for pid in ids.queue_order]
    assert actual == ["pending", "pending", "rejected", "rejected"]


def test_edit_with_validation(live: tuple[str, Engine, Seed], page: Any) -> None:
    """e opens the editor; a blank answer is refused (nothing changed), a Chinese one saved."""
    url, engine, ids = live
    _log_in(page, url, engine, ids.moderator)
    pid = ids.queue_order[0]
    page.keyboard.press("e")
    page.wait_for_selector("#answer")
    page.fill("#answer", "   ")
    page.click("#save")
    page.wait_for_selector(".error-line")
    assert "the new answer is empty" in page.text_content(".error-line")
    page.fill("#answer", "可以，在应用商店搜索 FundApp。")
    page.click("#save")
    page.wait_for_selector("#answer-text")
    assert page.text_content("#answer-text") == "可以，在应用商店搜索 FundApp。"
    assert "telegram:42 via web" in page.text_content("table.history")
    with session_scope(engine) as session:
        pair = session.get(QAPair, pid)
        assert pair is not None and pair.answer_text == "可以，在应用商店搜索 FundApp。"


def test_promote_with_confirmation(live: tuple[str, Engine, Seed], page: Any) -> None:
    """Promote… shows what it replaces; only the confirm button makes the candidate live."""
    url, engine, ids = live
    _log_in(page, url, engine, ids.moderator)
    live_id, candidate = ids.models
    page.goto(f"{url}/c/{ids.fund}/models")
    page.click(f"#promote-{candidate}")
    page.wait_for_selector("#confirm")
    assert f"#{live_id}" in page.text_content("section.confirm")
    with session_scope(engine) as session:
        assert session.get(ModelVersion, candidate).status == "candidate"  # type: ignore[union-attr]
    page.click("#confirm")
    page.wait_for_selector(".flash")
    assert f"Model #{candidate} is now live." in page.text_content(".flash")
    with session_scope(engine) as session:
        assert session.get(ModelVersion, candidate).status == "live"  # type: ignore[union-attr]
        assert session.get(ModelVersion, live_id).status == "retired"  # type: ignore[union-attr]


def test_a_member_who_is_not_a_moderator_is_refused(
    live: tuple[str, Engine, Seed], page: Any
) -> None:
    """Demoted to member, the next page is refused and the queue's pairs stay untouched;
    another community's queue is not found."""
    url, engine, ids = live
    _log_in(page, url, engine, ids.moderator)
    assert page.goto(f"{url}/c/{ids.games}/queue").status == 404
    page.goto(f"{url}/c/{ids.fund}/queue")
    with session_scope(engine) as session:
        set_role(session, ids.moderator, "member")
    with page.expect_response(lambda r: r.url.endswith("/review")) as posted:
        page.keyboard.press("a")  # the row's form posts; the session no longer grants anything
    assert posted.value.status == 401
    reply = page.goto(f"{url}/c/{ids.fund}/queue")
    assert reply.status == 401
    assert "Please log in" in page.text_content("h1")
    assert [_status(engine, pid) for pid in ids.pairs] == ["pending"] * len(ids.pairs)
