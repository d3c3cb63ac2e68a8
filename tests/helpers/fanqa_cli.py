"""Run the real ``fanqa`` console script in a child process, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Done", "fanqa", "fanqa_env", "start_fanqa"]

ROOT = Path(__file__).resolve().parents[2]


def _script() -> str:
    beside = Path(sys.executable).with_name("fanqa")
    return str(beside) if beside.exists() else (shutil.which("fanqa") or "fanqa")


def fanqa_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with its own SQLite database and data folder under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FANQA_", "OPENAI_"))}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "FANQA_DATABASE_URL": f"sqlite:///{tmp_path / 'fanqa.db'}",
        "FANQA_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return env | extra


@dataclass(frozen=True)
class Done:
    """A finished ``fanqa`` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def fanqa(
    *args: str,
    env: dict[str, str],
    stdin: str | None = None,
    timeout: float = 120,
    prefix: Sequence[str] = (),
) -> Done:
    """``fanqa ARGS`` to its end (``prefix``: e.g. setpriv, to run it as another user)."""
    done = subprocess.run(
        [*prefix, _script(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env.get("FANQA_TEST_CWD", str(ROOT)),
    )
    return Done(done.returncode, done.stdout, done.stderr)


def start_fanqa(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """``fanqa ARGS`` started in the background (stdout and stderr piped)."""
    return subprocess.Popen(
        [_script(), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=env.get("FANQA_TEST_CWD", str(ROOT)),
    )
