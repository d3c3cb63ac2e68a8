"""Local and hosted rounds are one code path: a local round after a hosted model went live
finishes, gated by the same policy on the same metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import session_scope
from storage.models import ModelVersion, RunStatus
from tests.helpers.openai_emulator import OpenAIEmulator
from tests.hosted.conftest import Community, run_hosted
from tests.trainer.builders import all_texts
from trainer.backend import BackendOptions
from trainer.backend import make_backend as backend_named
from trainer.enqueue import TINY_MARKER, queue_round
from trainer.hosted import HostedBackend
from trainer.registry import live_model
from trainer.round import execute_run
from trainer.summary import load_summary

pytestmark = pytest.mark.slow

GENERATION_METRICS = {"chrf", "question_gain", "exact_match", "finished_rate", "mean_logprob", "n"}


def test_local_round_after_a_hosted_model_went_live(
    community: Community,
    api: OpenAIEmulator,
    make_backend: Callable[..., HostedBackend],
    tmp_path: Path,
) -> None:
    """The live ft: model is evaluated through the API (not loaded as a HF model); both rounds
    store the same metrics and gate rows."""
    from trainer.tiny import init_tiny_model

    hosted_client = make_backend(api)
    hosted = run_hosted(
        community.engine, community.queue(), hosted_client, runs_dir=community.runs_dir
    )
    assert hosted.status == RunStatus.SUCCEEDED, hosted.error
    base = init_tiny_model(tmp_path / "tiny", all_texts(), vocab_size=1000)
    (base / TINY_MARKER).write_text("{}", encoding="utf-8")
    options = BackendOptions(device="cpu", hosted=lambda: hosted_client)
    with session_scope(community.engine) as session:
        ft_id = live_model(session, community.cid).remote_model_id  # type: ignore[union-attr]
        run = queue_round(
            session, community.cid, backend_named("local", options), base_models=[str(base)]
        )
        run.hyperparameters = run.hyperparameters | {"epochs": 2.0}
        session.add(run)
        local_id = run.id or 0
    before = len(api.chat_requests)
    local = execute_run(community.engine, local_id, options, runs_dir=community.runs_dir)
    assert local.status == RunStatus.SUCCEEDED, local.error
    summary = load_summary(local)
    assert summary.reference_model == ft_id and ft_id.startswith("ft:")
    assert [r["model"] for r in api.chat_requests[before:]] == [ft_id] * summary.n_eval
    hosted_summary = load_summary(hosted)
    assert set(summary.reference or {}) == set(hosted_summary.reference or {}) == GENERATION_METRICS
    local_metrics = summary.candidates[0].metrics or {}
    hosted_metrics = hosted_summary.candidates[0].metrics or {}
    assert GENERATION_METRICS == set(hosted_metrics) < set(local_metrics)  # + teacher forcing
    with session_scope(community.engine) as session:
        models = {m.backend: m for m in session.exec(select(ModelVersion))}
    checked = {
        b: [(r["metric"], r["role"]) for r in m.gate["rows"] if r["passed"] is not None]
        for b, m in models.items()
    }
    assert (
        checked["local"] == checked["openai"] == [("chrf", "primary"), ("question_gain", "floor")]
    )
