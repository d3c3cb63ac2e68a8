"""Desk fixtures: a seeded database, the app, an httpx client over ASGI, logging in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.web import create_app
from storage import make_engine, upgrade
from tests.web.builders import Seed, login_token, seed

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def desk_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def seeded(desk_engine: Engine, tmp_path: Path) -> Seed:
    return seed(desk_engine, tmp_path / "reports")


@pytest.fixture
def desk_settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]


@pytest.fixture
def app(desk_engine: Engine, desk_settings: Settings, seeded: Seed) -> FastAPI:
    return create_app(desk_engine, desk_settings, secret="test-secret-not-for-production")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as c:
        yield c


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def log_in(client: httpx.AsyncClient, engine: Engine, member_id: int) -> str:
    """Log ``member_id`` in through a fresh link; the session's CSRF token."""
    token = login_token(engine, member_id)
    page = await client.get(f"/login/{token}")
    assert page.status_code == 200, page.text
    done = await client.post(f"/login/{token}", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303, done.text
    queue = await client.get(done.headers["location"])
    assert queue.status_code == 200
    return csrf_of(queue.text)
