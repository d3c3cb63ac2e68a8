"""The "local" backend: LoRA with transformers + peft in a child process (``trainer.job``).

The child runs in its own process group, reports each step on its stdout (this process writes
it to the database through ``Progress``), stops with a checkpoint when a cancel is asked, and
dies with this process. torch is imported only by the child and by ``generator``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from harvest.errors import InputError, TrainingError
from harvest.sanitize import sanitize
from storage.models import TrainingRun
from storage.repo.settings_check import local_model_problem
from trainer.backend import (
    Artifact,
    BackendOptions,
    Cancelled,
    CandidateJob,
    PreparedData,
    Progress,
)
from trainer.generation import Generator
from trainer.job import CANCEL_FILE, JOB_FILE, PREFIX
from trainer.metrics import StepMetrics

__all__ = ["FAULT_CANCEL_AT_STEP", "FAULT_KILL_AT_STEP", "LocalTraining", "describe_exit"]

log = logging.getLogger(__name__)

FAULT_KILL_AT_STEP = "fault_kill_at_step"  # drills: the child SIGKILLs itself after step N
FAULT_CANCEL_AT_STEP = "fault_cancel_at_step"  # drills: a cancel is asked after step N
_REPO_ROOT = Path(__file__).resolve().parents[2]


def describe_exit(code: int) -> str:
    """Why a child ended, in words."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"training process was killed by {name}"
    return f"training process exited with status {code}"


def total_steps(n_train: int, hp: dict[str, Any]) -> int:
    """Optimizer steps of a run over ``n_train`` examples (what progress is measured against)."""
    micro = int(hp.get("batch_size", 8)) * int(hp.get("gradient_accumulation_steps", 1))
    return max(1, int(float(hp.get("epochs", 3.0)) * -(-n_train // max(1, micro))))


class LocalTraining:
    """``TrainingBackend`` "local" (see the module docstring)."""

    name = "local"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options

    def default_base_model(self) -> str:
        return self.options.default_base_model

    def validate_base_model(self, base_model: str) -> str:
        """An absolute path for a local model folder; a hub id as it is; else InputError."""
        problem = local_model_problem(base_model)
        if problem:
            raise InputError(problem, field="base_model")
        path = Path(base_model).expanduser()
        return str(path.resolve()) if path.exists() else base_model

    def hyperparameters(
        self, session: Session, community_id: int, base_model: str, profile: str = "auto"
    ) -> dict[str, Any]:
        from trainer.enqueue import suggested_hyperparameters

        return suggested_hyperparameters(session, community_id, base_model, profile)

    def prepare(
        self, train: Sequence[dict[str, Any]], valid: Sequence[dict[str, Any]]
    ) -> PreparedData:
        return PreparedData(list(train), list(valid))  # the data never leaves this machine

    def train(self, job: CandidateJob, progress: Progress) -> Artifact:
        out = job.out_dir
        out.mkdir(parents=True, exist_ok=True)
        (out / CANCEL_FILE).unlink(missing_ok=True)
        hp = dict(job.hyperparameters)
        faults = hp if job.attempt <= 1 else {}
        spec = {
            "base_model": job.base_model,
            "hyperparameters": hp,
            "device": self.options.device,
            "data_dir": str(job.data_dir),
            "out_dir": str(out),
            "resume": job.resume,
            "total_steps": total_steps(len(job.data.train), hp),
            "kill_at_step": faults.get(FAULT_KILL_AT_STEP),
        }
        (out / JOB_FILE).write_text(json.dumps(spec), encoding="utf-8")
        cancel_at = faults.get(FAULT_CANCEL_AT_STEP)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "trainer.job", str(out / JOB_FILE)]
        command += ["--parent", str(os.getpid())]
        process = subprocess.Popen(
            command,
            env=env,
            cwd=str(_REPO_ROOT),
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: stop() signals all of it
        )
        progress.set_pid(process.pid)
        outcome: dict[str, Any] = {}
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if not line.startswith(PREFIX):
                    sys.stderr.write(sanitize(line))
                    continue
                message = json.loads(line[len(PREFIX) :])
                if "step" in message:
                    row = StepMetrics(**message["step"])
                    progress.step(row, message.get("total"))
                    asked = cancel_at is not None and row.step >= int(cancel_at)
                    if asked or progress.cancel_requested():
                        (out / CANCEL_FILE).touch()
                else:
                    outcome = message
            code = process.wait()
        finally:
            if process.poll() is None:  # we are leaving early (an exception): no orphan
                _kill_group(process.pid, signal.SIGKILL)
                process.wait()
            progress.set_pid(None)
        if "done" in outcome and code == 0:
            done = outcome["done"]
            progress.save(details=done)
            return Artifact(job.base_model, adapter_path=done["adapter_dir"])
        if "cancelled" in outcome:
            raise Cancelled(outcome["cancelled"], run_id=job.run_id)
        raise TrainingError(outcome.get("error") or describe_exit(code), run_id=job.run_id)

    def stop(self, run: TrainingRun) -> None:
        if run.pid:
            _kill_group(run.pid, signal.SIGTERM)

    def generator(self, artifact: Artifact) -> Generator:
        from trainer.inference import LocalGenerator

        if artifact.remote_model_id:
            raise TrainingError(f"{artifact.remote_model_id} is not a local model")
        device = self.options.device
        return LocalGenerator(artifact.base_model, artifact.adapter_path, device=device)


def _kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
