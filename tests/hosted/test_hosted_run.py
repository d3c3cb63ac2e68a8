"""Hosted runs end to end: the real openai client against the emulator, a real database."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.answering import answer
from storage.db import session_scope
from storage.models import DatasetSnapshot, ModelStatus, ModelVersion, RunStatus, utcnow
from tests.helpers.openai_emulator import GENERIC_ANSWER, OpenAIEmulator
from tests.hosted.conftest import BASE_MODEL, Community, run_hosted
from tests.trainer.builders import SYSTEM, TOPICS
from tests.trainer.test_loop_builders import add_pair
from trainer.hosted import HostedBackend, openai_generator_factory
from trainer.metrics import read_results_csv
from trainer.registry import list_models, live_model, promote
from trainer.runs import cancel_run, fail_stale_runs, get_run, run_metrics
from trainer.summary import load_summary

FEE_EN, FEE_ZH = TOPICS["fee"][0], TOPICS["fee"][1]
Backend = Callable[..., HostedBackend]


class WorkerKilled(BaseException):
    """Stands for the worker process dying (a BaseException, like SystemExit)."""


def _live(community: Community) -> ModelVersion | None:
    with session_scope(community.engine) as session:
        return live_model(session, community.cid)


def test_queued_run_trains_evaluates_promotes_and_answers(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """Queued → succeeded: metrics stored, candidate beats the base on chrF, goes live."""
    run_id = community.queue()
    events: list[str] = []
    run = run_hosted(
        community.engine,
        run_id,
        make_backend(api),
        runs_dir=community.runs_dir,
        on_event=events.append,
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.backend == "openai"
    assert api.job_creates == 1
    job = next(iter(api.jobs.values())).body
    assert job["model"] == BASE_MODEL
    assert job["suffix"] == "fanfund"  # "FanFund 基金", sanitised
    assert job["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 2}},
    }
    assert job["validation_file"] is not None and job["seed"] == 42
    assert run.external_job_id == job["id"]
    assert (
        "Step 1/3: training loss=2.0" in events
        and events[-1] == "The job has successfully completed"
    )
    with session_scope(community.engine) as session:
        rows = run_metrics(session, run_id)
    assert [r.step for r in rows] == [1, 2, 3]
    assert rows[0].train_loss == 2.0 and rows[-1].valid_loss == pytest.approx(0.7)  # full_valid
    assert (run.step, run.total_steps) == (3, 3)
    assert [s.step for s in read_results_csv(Path(run.out_dir) / "results.csv")] == [1, 2, 3]
    summary = load_summary(run)
    [cand] = summary.candidates
    assert cand.metrics is not None and summary.reference is not None
    assert cand.metrics["chrf"] > summary.reference["chrf"] + 30  # type: ignore[operator]
    assert cand.metrics["question_gain"] > 0.5 > summary.reference["question_gain"]  # type: ignore[operator]
    assert summary.reference_model == BASE_MODEL and summary.promoted is True
    live = _live(community)
    assert live is not None and live.id == summary.model_version_id
    assert (live.backend, live.remote_model_id) == ("openai", job["fine_tuned_model"])
    assert live.adapter_path is None and live.base_model == BASE_MODEL
    assert live.gate["promote"] is True and Path(live.report_path or "").exists()
    assert Path(run.out_dir, "report.png").exists()
    generation = openai_generator_factory(api.client())(live.remote_model_id or "", None).generate(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "管理费是多少？"}]
    )
    assert generation.text == FEE_ZH and generation.finished
    assert generation.mean_logprob == pytest.approx(-0.02)


def test_bot_answers_through_the_fine_tuned_model(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """Once live, a member's question is answered by the fine-tuned model via chat.completions."""
    run = run_hosted(
        community.engine, community.queue(), make_backend(api), runs_dir=community.runs_dir
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    before = len(api.chat_requests)
    with session_scope(community.engine) as session:
        reply = answer(
            session,
            community.cid,
            "What yearly fee do you take?",
            generator_factory=openai_generator_factory(api.client()),
        )
    live = _live(community)
    assert live is not None
    assert api.chat_requests[before]["model"] == live.remote_model_id
    assert (reply.mode, reply.text, reply.abstained) == ("model", FEE_EN, False)


def test_failed_job_fails_the_run_and_keeps_the_live_model(
    community: Community, make_backend: Backend
) -> None:
    """The job's error becomes the run's; the old live model stays live, no new version."""
    with session_scope(community.engine) as session:
        old = ModelVersion(
            community_id=community.cid,
            backend="openai",
            base_model=BASE_MODEL,
            remote_model_id="ft:old",
        )
        session.add(old)
        session.flush()
        promote(session, old.id or 0)
        old_id = old.id
    error = {
        "code": "invalid_training_file",
        "message": "The training file has too few examples",
        "param": "training_file",
    }
    with OpenAIEmulator(fail_job=error) as api:
        run = run_hosted(
            community.engine, community.queue(), make_backend(api), runs_dir=community.runs_dir
        )
    assert run.status == RunStatus.FAILED
    assert run.error == (
        f"fine-tuning job {run.external_job_id} failed: The training file has too few examples "
        "(invalid_training_file, parameter training_file)"
    )
    live = _live(community)
    assert live is not None and live.id == old_id
    with session_scope(community.engine) as session:
        assert [m.id for m in list_models(session, community.cid)] == [old_id]


def test_cancel_request_cancels_the_job(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """A moderator's cancel while the job runs reaches jobs.cancel; the run ends cancelled."""
    run_id = community.queue()

    def cancel_at_first_step(message: str) -> None:
        if message.startswith("Step 1/"):
            with session_scope(community.engine) as session:
                cancel_run(session, run_id)

    run = run_hosted(
        community.engine,
        run_id,
        make_backend(api),
        runs_dir=community.runs_dir,
        on_event=cancel_at_first_step,
    )
    assert (run.status, run.error) == (RunStatus.CANCELLED, "cancelled on request")
    assert api.count("POST", r"/v1/fine_tuning/jobs/[^/]+/cancel") == 1
    assert next(iter(api.jobs.values())).phases[-1] == "cancelled"
    assert _live(community) is None


def test_killed_worker_reattaches_to_the_same_job(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """A worker dying mid-run leaves it running with its job id; the next one follows that job."""
    run_id = community.queue()

    def die_at_first_step(message: str) -> None:
        if message.startswith("Step 1/"):
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        run_hosted(
            community.engine,
            run_id,
            make_backend(api),
            runs_dir=community.runs_dir,
            on_event=die_at_first_step,
        )
    with session_scope(community.engine) as session:
        orphan = get_run(session, run_id)
        assert orphan.status == RunStatus.RUNNING and orphan.external_job_id is not None
        later = utcnow() + timedelta(hours=1)
        [requeued] = fail_stale_runs(session, 300, now=later, max_attempts=2)
        assert requeued.status == RunStatus.QUEUED  # what the next worker's recover does
    events: list[str] = []
    run = run_hosted(
        community.engine,
        run_id,
        make_backend(api),
        runs_dir=community.runs_dir,
        on_event=events.append,
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert api.job_creates == 1 and api.count("POST", "/v1/files") == 2
    assert run.external_job_id == orphan.external_job_id and run.attempts == 2
    assert events[0].startswith("Step 2/")  # events already seen are not announced twice
    assert _live(community) is not None


def test_job_created_before_a_crash_is_found_by_its_tag(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """A worker that died between creating the job and storing its id: the job is adopted."""
    run_id = community.queue()
    with session_scope(community.engine) as session:
        run = get_run(session, run_id)
        run.attempts = 1  # an attempt died; recovery put the run back in the queue
        session.add(run)
    client = api.client()
    uploaded = client.files.create(
        file=("t.jsonl", io.BytesIO(b'{"messages": []}\n')), purpose="fine-tune"
    )
    job_id = api.create_job_directly(
        {
            "model": BASE_MODEL,
            "training_file": uploaded.id,
            "metadata": {"fanqa_run_id": str(run_id)},
        }
    )
    run = run_hosted(community.engine, run_id, make_backend(api), runs_dir=community.runs_dir)
    assert run.external_job_id == job_id
    assert api.job_creates == 1 and api.count("POST", "/v1/files") == 1
    assert run.status == RunStatus.SUCCEEDED  # its (empty) training file teaches nothing...
    assert load_summary(run).promoted is False  # ...so the gate rejects the model
    assert _live(community) is None


def test_pii_never_leaves_the_machine(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """E-mails and phone numbers are scrubbed from uploads and eval prompts, and counted."""
    add_pair(
        community.engine,
        community.cid,
        "我的手机 13812345678，邮箱 li.wei@example.com，怎么改密码？",
        "请联系 help@fanfund.example 或拨打 +86 138 1234 5678。",
        split="holdout",
    )
    run = run_hosted(
        community.engine, community.queue(), make_backend(api), runs_dir=community.runs_dir
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    sent = api.uploaded_text() + repr(api.chat_requests)
    for secret in ("13812345678", "li.wei@example.com", "support@fanfund.example", "400 800 1234"):
        assert secret not in sent
    assert "[EMAIL]" in sent and "[PHONE]" in sent
    summary = load_summary(run)
    # 5 English "support" answers (an e-mail and a phone each) + the pair above (2 + 2)
    assert summary.scrubbed == {"secret": 0, "email": 7, "id": 0, "card": 0, "phone": 7}
    assert summary.scrubbed_examples == 6
    with session_scope(community.engine) as session:
        snapshot = session.get(DatasetSnapshot, run.snapshot_id)
        assert snapshot is not None and snapshot.scrubbed == summary.scrubbed


def test_generic_base_model_is_not_promoted_over_a_better_live_one(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """The second run is gated against the first run's live model, not the base."""
    backend = make_backend(api)
    first = run_hosted(community.engine, community.queue(), backend, runs_dir=community.runs_dir)
    second = run_hosted(community.engine, community.queue(), backend, runs_dir=community.runs_dir)
    assert first.status == second.status == RunStatus.SUCCEEDED
    first_model = load_summary(first).candidates[0].fine_tuned_model
    assert load_summary(second).reference_model == first_model
    assert load_summary(second).promoted is False  # same data, no 2 % chrF gain
    live = _live(community)
    assert live is not None and live.remote_model_id == first_model
    with session_scope(community.engine) as session:
        statuses = [m.status for m in list_models(session, community.cid)]
    assert statuses == [ModelStatus.REJECTED, ModelStatus.LIVE]
    assert GENERIC_ANSWER not in load_summary(second).candidates[0].samples


def test_pii_glued_to_chinese_text_is_scrubbed(
    community: Community, api: OpenAIEmulator, make_backend: Backend
) -> None:
    """Chinese writes no space before a number: 手机13812345678 must be scrubbed too."""
    add_pair(
        community.engine,
        community.cid,
        "手机13812345678，邮箱li.wei@example.com，怎么改密码？",
        "已重置。",
        split="holdout",
    )
    run = run_hosted(
        community.engine, community.queue(), make_backend(api), runs_dir=community.runs_dir
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    sent = api.uploaded_text() + repr(api.chat_requests)
    assert "13812345678" not in sent and "li.wei@example.com" not in sent
