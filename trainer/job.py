"""The training child process: ``python -m trainer.job RUN_ID [--db URL] [--device D] [--resume]``.

The database URL comes from ``--db`` or, as ``execute_run`` passes it (a password never shows
in the process list), from the ``FANQA_JOB_DATABASE_URL`` environment variable.

Trains the run's snapshot with ``train_lora``, writing one RunMetric row, the step, the last
loss and a heartbeat to the database per optimizer step, and stopping (with a checkpoint)
when ``cancel_requested`` is set. Then evaluates the candidate and the reference model (the
live one, or the bare base model) on the snapshot's eval set and stores both in the run's
``summary``. Exit status 0 on success, 1 on failure (the reason written to ``error``).

Fault injection for drills and tests, on a run's first attempt only (a resume runs clean):
hyperparameter ``fault_kill_at_step: N`` makes the child SIGKILL itself after step N;
``fault_cancel_at_step: N`` sets ``cancel_requested`` after step N, as a moderator would.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from harvest.errors import FanqaError
from storage.db import make_engine, session_scope
from storage.models import DatasetSnapshot, TrainingRun, utcnow
from trainer.metric_store import store_step
from trainer.metrics import StepMetrics
from trainer.registry import live_model
from trainer.snapshot import EVAL_FILE, TRAIN_FILE, read_examples

__all__ = ["main", "train_and_evaluate"]

DB_URL_ENV = "FANQA_JOB_DATABASE_URL"
FAULT_KILL_AT_STEP = "fault_kill_at_step"
FAULT_CANCEL_AT_STEP = "fault_cancel_at_step"


class _Reporter:
    """on_step / should_stop callbacks that talk to the database."""

    def __init__(
        self, engine: Engine, run_id: int, kill_at: int | None, cancel_at: int | None
    ) -> None:
        self.engine, self.run_id = engine, run_id
        self.kill_at, self.cancel_at = kill_at, cancel_at

    def on_step(self, row: StepMetrics) -> None:
        with session_scope(self.engine) as session:
            store_step(session, self.run_id, row)
            run = session.get(TrainingRun, self.run_id)
            if run is not None:
                run.step = row.step
                if row.train_loss is not None:
                    run.last_loss = row.train_loss
                run.heartbeat_at = utcnow()
                if self.cancel_at is not None and row.step >= self.cancel_at:
                    run.cancel_requested = True
                session.add(run)
        if self.kill_at is not None and row.step >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_start(self, total_steps: int) -> None:
        """The trainer's own step count, once packing has fixed it (replaces the estimate)."""
        with session_scope(self.engine) as session:
            run = session.get(TrainingRun, self.run_id)
            if run is not None:
                run.total_steps = total_steps
                session.add(run)

    def beat(self) -> None:
        """Refresh the heartbeat (between long steps such as the evaluations)."""
        with session_scope(self.engine) as session:
            run = session.get(TrainingRun, self.run_id)
            if run is not None:
                run.heartbeat_at = utcnow()
                session.add(run)

    def should_stop(self) -> bool:
        with session_scope(self.engine) as session:
            run = session.get(TrainingRun, self.run_id)
            return run is None or run.cancel_requested


def _total_steps(n_train: int, hp: dict[str, Any]) -> int:
    micro = int(hp.get("batch_size", 8)) * int(hp.get("gradient_accumulation_steps", 1))
    return max(1, int(float(hp.get("epochs", 3.0)) * -(-n_train // max(1, micro))))


def train_and_evaluate(
    engine: Engine, run_id: int, *, device: str | None = None, resume: bool = False
) -> dict[str, Any]:
    """Train, evaluate candidate and reference, store and return the run's summary."""
    from trainer.evaluate import evaluate
    from trainer.local.sft import LocalTrainConfig, train_lora

    with session_scope(engine) as session:
        run = session.get(TrainingRun, run_id)
        if run is None or run.snapshot_id is None:
            raise FanqaError(f"run {run_id} has no snapshot; start it with execute_run")
        snapshot = session.get(DatasetSnapshot, run.snapshot_id)
        assert snapshot is not None
        hp = dict(run.hyperparameters)
        out, base, community_id = Path(run.out_dir), run.base_model, run.community_id
        faults = hp if run.attempts <= 1 else {}
        kill_at, cancel_at = faults.get(FAULT_KILL_AT_STEP), faults.get(FAULT_CANCEL_AT_STEP)
        data, dataset_hash = Path(snapshot.path), snapshot.content_hash
        run.total_steps = _total_steps(snapshot.n_train, hp)
        session.add(run)
    train = read_examples(data / TRAIN_FILE)
    valid = read_examples(data / EVAL_FILE)
    cfg = LocalTrainConfig.from_dict({**hp, "base_model": base, "device": device})
    reporter = _Reporter(
        engine,
        run_id,
        int(kill_at) if kill_at is not None else None,
        int(cancel_at) if cancel_at is not None else None,
    )
    result = train_lora(
        cfg,
        train,
        valid,
        out,
        on_step=reporter.on_step,
        should_stop=reporter.should_stop,
        resume=resume,
        on_start=reporter.on_start,
    )
    summary: dict[str, Any] = {
        "adapter_dir": str(result.adapter_dir),
        "dataset_hash": dataset_hash,
        "steps": result.steps,
        "epochs": result.epochs,
        "train_tokens": result.train_tokens,
        "tokens_per_second": result.tokens_per_second,
        "runtime_s": result.runtime_s,
        "n_train": result.n_train,
        "n_eval": len(valid),
    }
    if valid:
        with session_scope(engine) as session:
            live = live_model(session, community_id)
            reference = (
                (live.base_model, live.adapter_path, live.id) if live else (base, None, None)
            )
        reporter.beat()
        cand = evaluate(base, result.adapter_dir, valid, max_len=cfg.max_len, device=device)
        reporter.beat()
        ref = evaluate(reference[0], reference[1], valid, max_len=cfg.max_len, device=device)
        summary |= {
            "candidate": cand.as_dict(),
            "reference": ref.as_dict(),
            "reference_model_id": reference[2],
            "candidate_samples": list(cand.generations[:5]),
        }
    with session_scope(engine) as session:
        run = session.get(TrainingRun, run_id)
        assert run is not None
        run.summary = summary
        run.step = result.steps
        run.heartbeat_at = utcnow()
        session.add(run)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the child; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m trainer.job")
    parser.add_argument("run_id", type=int)
    parser.add_argument(
        "--db", default=os.environ.get(DB_URL_ENV), help=f"Database URL (default: ${DB_URL_ENV})."
    )
    parser.add_argument("--device", default=None, help="cpu | cuda (default: CUDA if any).")
    parser.add_argument("--resume", action="store_true", help="Continue from the checkpoint.")
    args = parser.parse_args(argv)
    if not args.db:
        parser.error(f"--db or ${DB_URL_ENV} is required")
    engine = make_engine(args.db)
    try:
        summary = train_and_evaluate(engine, args.run_id, device=args.device, resume=args.resume)
        if "candidate" not in summary:
            raise FanqaError("the snapshot has no eval examples: nothing to gate the model on")
    except Exception as exc:  # reported through the database; the parent reads it
        message = str(exc) if isinstance(exc, FanqaError) else f"{type(exc).__name__}: {exc}"
        with session_scope(engine) as session:
            run = session.get(TrainingRun, args.run_id)
            if run is not None:
                run.error = message
                session.add(run)
        print(f"run {args.run_id} failed: {message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
