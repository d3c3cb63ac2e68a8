"""A flaky or odd API: 429/500 replies, an unknown status, a job that never ends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models import RunStatus
from storage.repo import get_or_create_community
from tests.helpers.openai_emulator import OpenAIEmulator
from tests.hosted.conftest import Community, run_hosted
from tests.trainer.test_loop_builders import add_pair
from trainer.hosted import HostedBackend
from trainer.summary import load_summary

Backend = Callable[..., HostedBackend]


def test_rate_limits_and_server_errors_are_survived(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """429 on both uploads and 500 on retrieve and events: the SDK's retries carry the run."""
    api.fail_next(2, status=429, path="/files", method="POST")
    api.fail_next(3, status=500, path="/fine_tuning/jobs/", method="GET")
    api.fail_next(1, status=429, path="/chat/completions")
    run = run_hosted(
        community.engine, community.queue(), make_backend(api), runs_dir=community.runs_dir
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert [status for status, _, _ in api.faulted] == [429, 429, 500, 500, 500, 429]
    assert api.count("POST", "/v1/files") == 4  # two rejected, two stored
    assert api.job_creates == 1 and load_summary(run).promoted is True


def test_errors_beyond_the_sdk_retries_are_retried_at_the_next_poll(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """With no SDK retries, two failed polls in a row are waited out, not fatal."""
    run_id = community.queue()
    api.fail_next(2, status=500, path="/fine_tuning/jobs/", method="GET")
    backend = make_backend(api, max_retries=0)
    run = run_hosted(community.engine, run_id, backend, runs_dir=community.runs_dir)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert len(api.faulted) == 2


def test_an_api_that_keeps_failing_fails_the_run(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """``max_poll_errors`` failed polls in a row end the run failed, naming the job."""
    api.fail_next(100, status=503, path="/fine_tuning/jobs/", method="GET")
    backend = make_backend(api, max_retries=0, max_poll_errors=3)
    run = run_hosted(community.engine, community.queue(), backend, runs_dir=community.runs_dir)
    assert run.status == RunStatus.FAILED
    assert (
        run.error
        == f"reading fine-tuning job {run.external_job_id} failed (HTTP 503): injected 503"
    )
    assert len(api.faulted) == 3


def test_unknown_status_is_waited_on_and_logged(
    community: Community, make_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """A status the SDK does not list ("paused") is logged once and followed to the end."""
    with OpenAIEmulator(extra_status="paused") as api, caplog.at_level(logging.WARNING):
        run = run_hosted(
            community.engine, community.queue(), make_backend(api), runs_dir=community.runs_dir
        )
    assert run.status == RunStatus.SUCCEEDED, run.error
    warnings = [r.getMessage() for r in caplog.records if "unknown status" in r.getMessage()]
    assert len(warnings) == 1 and "'paused'" in warnings[0]


def test_a_job_that_never_ends_is_given_up_and_cancelled(
    community: Community, make_backend: Backend
) -> None:
    """Past ``max_wait_s`` the run fails and the job is cancelled so it bills no more."""
    with OpenAIEmulator(steps=1000) as api:
        backend = make_backend(api, poll_interval=60.0, max_wait_s=600.0)
        run = run_hosted(community.engine, community.queue(), backend, runs_dir=community.runs_dir)
        assert api.count("POST", r"/v1/fine_tuning/jobs/[^/]+/cancel") == 1
    assert run.status == RunStatus.FAILED
    assert "still running after 660 s (limit 600 s): gave up" in (run.error or "")
    assert 0 < run.step < 1000


def test_nothing_to_gate_on_fails_before_anything_is_sent(
    sqlite_engine: Engine, api: OpenAIEmulator, make_backend: Backend, tmp_path: Path
) -> None:
    """Four pairs have no holdout: the run fails with the reason and no file leaves."""
    with session_scope(sqlite_engine) as session:
        cid = get_or_create_community(session, "tiny").id or 0
    for i in range(4):
        add_pair(sqlite_engine, cid, f"Question {i}?", f"Answer {i}.")
    small = Community(sqlite_engine, cid, tmp_path / "runs")
    run = run_hosted(sqlite_engine, small.queue(), make_backend(api), runs_dir=small.runs_dir)
    assert run.status == RunStatus.FAILED
    assert (run.error or "").startswith("the snapshot has no eval examples")
    assert api.requests == []
