"""A provider whose 401 echoes the Authorization header never gets the key printed or stored."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from harvest.sanitize import MASK, install_log_sanitizer, register_secrets, sanitize
from storage import make_engine, upgrade
from tests.helpers.fanqa_cli import fanqa, fanqa_env
from tests.helpers.openai_emulator import OpenAIEmulator
from tests.trainer.test_loop_builders import make_community

# Not key-shaped on purpose: only the configured-secret registry can catch it.
KEY = "prov9f8e7d6c5b4a39281706f5e4d3c2b1a0zz"


def _dump(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


@pytest.fixture
def echoing(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment of a user whose provider echoes the key, with one trainable community."""
    api = OpenAIEmulator(echo_auth=True).start()
    env = fanqa_env(
        tmp_path,
        FANQA_OPENAI_API_KEY=KEY,
        FANQA_OPENAI_BASE_URL=api.base_url,
        FANQA_HOSTED_POLL_S="0.01",
    )
    db = tmp_path / "fanqa.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    make_community(engine, "leaky")
    engine.dispose()
    yield env, db
    api.stop()


def test_train_output_log_runs_and_database_hold_no_key(
    echoing: tuple[dict[str, str], Path],
) -> None:
    """`fanqa -v train --backend openai` fails on the 401: the key is in no output nor row."""
    env, db = echoing
    trained = fanqa("-v", "train", "-c", "leaky", "--backend", "openai", env=env)
    assert trained.code == 1, trained.output
    assert "401" in trained.output  # the provider's reason is still shown
    assert MASK in trained.output
    listed = fanqa("runs", "list", "--json", env=env)
    shown = fanqa("runs", "show", "1", env=env)
    [run] = json.loads(listed.stdout)
    assert run["status"] == "failed" and MASK in run["error"]
    everything = trained.output + listed.output + shown.output + _dump(db)
    assert KEY not in everything
    assert KEY[:20] not in everything


def test_the_worker_queues_no_key_for_the_moderators(
    echoing: tuple[dict[str, str], Path],
) -> None:
    """Through `fanqa worker`, the failure notice queued for the moderators' chat is masked."""
    env, db = echoing
    queued = fanqa("train", "-c", "leaky", "--backend", "openai", "--no-wait", env=env)
    assert queued.code == 0, queued.output
    worked = fanqa("-v", "worker", "--once", env=env)
    assert "failed" in worked.stdout, worked.output
    with sqlite3.connect(db) as conn:
        texts = [t for (t,) in conn.execute("SELECT text FROM notifications")]
    assert any("401" in t for t in texts), texts
    assert KEY not in worked.output + _dump(db)


def test_sanitizer_masks_headers_bearer_and_key_shapes() -> None:
    """Configured secrets, Authorization and Bearer values and vendor key shapes are masked."""
    register_secrets(["s3cr3t-webhook-value"])
    text = (
        "s3cr3t-webhook-value | Authorization: Basic dXNlcjpwYXNz | 'authorization': 'Bearer x1'"
        " | bearer abc.def | sk-proj-ABCDEFGHIJ12345"
        " | /bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe | api_key=abcd1234efgh"
    )
    got = sanitize(text)
    for secret in (
        "s3cr3t-webhook-value",
        "dXNlcjpwYXNz",
        "x1'",
        "abc.def",
        "ABCDEFGHIJ12345",
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "abcd1234efgh",
    ):
        assert secret not in got
    assert sanitize("How do I reset my password? It costs 12.50") == (
        "How do I reset my password? It costs 12.50"
    )


def test_log_records_are_masked_whatever_the_handler(caplog: pytest.LogCaptureFixture) -> None:
    """A record's message, arguments and traceback are masked once the sanitizer is installed."""
    install_log_sanitizer()
    log = logging.getLogger("tests.secrets")
    try:
        raise RuntimeError("provider said: Bearer sk-live-0123456789abcdef")
    except RuntimeError:
        log.exception("call failed with %s", "Authorization: Bearer zzz-top-secret")
    [record] = caplog.records
    rendered = caplog.text
    assert "sk-live-0123456789abcdef" not in rendered and "zzz-top-secret" not in rendered
    assert record.getMessage() == f"call failed with Authorization: {MASK}"
