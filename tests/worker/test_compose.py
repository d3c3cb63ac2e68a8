"""Deployment files: compose runs real fanqa commands; .env.example lists every setting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _resolves(argv: list[str]) -> bool:
    """True when ``fanqa ARGV`` names a command and options it accepts (parsed, not run)."""
    result = CliRunner().invoke(app, [*argv, "--help"])
    return result.exit_code == 0 and "Usage: fanqa " + argv[0] in result.output


def test_every_fanqa_service_runs_a_real_command() -> None:
    """bot → `fanqa run`, worker → `fanqa worker …`; the commands and options exist."""
    services = _compose()["services"]
    ours = {name: s for name, s in services.items() if s.get("image", "").startswith("fanqa")}
    commands = {name: s["command"] for name, s in ours.items()}
    assert commands == {
        "bot": ["fanqa", "run"],
        "web": ["fanqa", "web"],
        "worker": ["fanqa", "worker", "--poll", "10"],
    }
    assert all(cmd[0] == "fanqa" and _resolves(cmd[1:]) for cmd in commands.values())
    assert not _resolves(["wrker"]) and not _resolves(["worker", "--pol", "1"])


def test_compose_split_gpu_worker_and_optional_postgres() -> None:
    """The bot leaves training to the worker (GPU reserved); postgres is a healthy profile."""
    services = _compose()["services"]
    bot, worker, postgres = services["bot"], services["worker"], services["postgres"]
    assert bot["environment"]["FANQA_WORKER_IN_PROCESS"] == "false"
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert (
        postgres["profiles"] == ["postgres"] and "pg_isready" in postgres["healthcheck"]["test"][1]
    )
    web = services["web"]
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert web["ports"][0].startswith("127.0.0.1:") and web["ports"][0].endswith(":8080")
    assert web["environment"]["FANQA_WEB_PORT"] == "8080"
    for service in (bot, worker, web):
        assert service["depends_on"]["postgres"] == {
            "condition": "service_healthy",
            "required": False,
        }
        assert service["env_file"] == ".env"
        assert {v.split(":")[1] for v in service["volumes"]} == {"/data", "/cache/huggingface"}


def _example_keys() -> dict[str, str | None]:
    keys: dict[str, str | None] = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        found = re.match(r"^(#\s*)?(FANQA_[A-Z0-9_]+)=(.*)$", line)
        if found:
            keys[found.group(2)] = None if found.group(1) else found.group(3)
    return keys


def test_env_example_lists_every_setting_and_parses() -> None:
    """Every Settings field appears in .env.example (set or commented), and nothing else."""
    expected = {f"FANQA_{name.upper()}" for name in Settings.model_fields}
    keys = _example_keys()
    assert set(keys) == expected
    values = {k: v for k, v in keys.items() if v is not None}
    parsed = Settings(
        _env_file=None, **{k.removeprefix("FANQA_").lower(): v for k, v in values.items()}
    )
    assert parsed == Settings(_env_file=None)  # the example's values are the defaults


def test_dockerfile_installs_the_package_with_a_swappable_torch() -> None:
    """python:3.12-slim, torch from build args (CPU by default), `fanqa run` by default."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.12-slim" in text
    assert 'ARG TORCH_SPEC="torch"' in text and "whl/cpu" in text
    assert 'pip install ${PIP_EXTRA} "${TORCH_SPEC}"' in text
    assert 'CMD ["fanqa", "run"]' in text
