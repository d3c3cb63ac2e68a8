"""The local training child process: ``python -m trainer.job JOB_JSON [--parent PID]``.

Started by ``trainer.local.backend.LocalTraining`` in its own process group, it only trains:
no database, no evaluation. ``JOB_JSON`` (written by the parent) names the base model, the
hyperparameters, the snapshot folder and the output folder. Progress goes to stdout as lines
``FANQA {json}``: ``{"step": {...}, "total": N}`` per optimizer step, then ``{"done": {...}}``,
``{"cancelled": why}`` or ``{"error": why}``. A file ``CANCEL`` in the output folder asks it to
stop at the next step (with a checkpoint).

The child dies with its parent: Linux delivers SIGKILL when the parent exits
(``PR_SET_PDEATHSIG``) and every step checks the parent is still the one that started it.
Fault injection for drills: ``kill_at_step`` in the job file SIGKILLs the child after that step.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harvest.errors import FanqaError
from harvest.sanitize import install_log_sanitizer, sanitize
from trainer.metrics import StepMetrics
from trainer.snapshot import EVAL_FILE, TRAIN_FILE, read_examples

__all__ = ["CANCEL_FILE", "JOB_FILE", "PREFIX", "main"]

PREFIX = "FANQA "
JOB_FILE = "job.json"
CANCEL_FILE = "CANCEL"
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int | None) -> None:
    """Ask the kernel for SIGKILL when the parent dies; exit now if it already did."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the per-step check still works
            pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(PREFIX + json.dumps(message) + "\n")
    sys.stdout.flush()


def run_job(job: dict[str, Any], parent: int | None) -> dict[str, Any]:
    """Train as ``job`` says; returns what the ``done`` message carries."""
    from trainer.local.sft import LocalTrainConfig, train_lora

    out, data = Path(job["out_dir"]), Path(job["data_dir"])
    kill_at = job.get("kill_at_step")
    total = int(job.get("total_steps") or 0)  # an estimate until the trainer has packed

    def on_start(steps: int) -> None:
        nonlocal total
        total = steps

    cfg = LocalTrainConfig.from_dict(
        {**job["hyperparameters"], "base_model": job["base_model"], "device": job.get("device")}
    )

    def on_step(row: StepMetrics) -> None:
        if parent is not None and os.getppid() != parent:
            os._exit(1)  # the worker is gone: never train for nobody
        _say({"step": row.as_dict(), "total": total})
        if kill_at is not None and row.step >= int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)

    def should_stop() -> bool:
        return (out / CANCEL_FILE).exists()

    result = train_lora(
        cfg,
        read_examples(data / TRAIN_FILE),
        read_examples(data / EVAL_FILE),
        out,
        on_step=on_step,
        should_stop=should_stop,
        resume=bool(job.get("resume")),
        on_start=on_start,
    )
    return {
        "adapter_dir": str(result.adapter_dir),
        "steps": result.steps,
        "epochs": result.epochs,
        "train_tokens": result.train_tokens,
        "tokens_per_second": result.tokens_per_second,
        "runtime_s": result.runtime_s,
        "n_train": result.n_train,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the child; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m trainer.job")
    parser.add_argument("job", type=Path, help=f"The {JOB_FILE} the parent wrote.")
    parser.add_argument("--parent", type=int, default=None, help="Die when this pid is gone.")
    args = parser.parse_args(argv)
    _die_with_parent(args.parent)
    install_log_sanitizer()  # this child's log records and stderr never carry a key
    job = json.loads(args.job.read_text(encoding="utf-8"))
    try:
        _say({"done": run_job(job, args.parent)})
    except FanqaError as exc:
        cancelled = (Path(job["out_dir"]) / CANCEL_FILE).exists()
        text = sanitize(str(exc))
        _say({"cancelled": text} if cancelled else {"error": text})
        return 1
    except Exception as exc:
        _say({"error": sanitize(f"{type(exc).__name__}: {exc}")})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
