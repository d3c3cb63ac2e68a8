"""The one validation of community settings, run whenever one is written (CLI, chat, desk).

``validate_community_settings`` takes values as a user typed them (strings from the CLI or
a web form) or already typed (from code), and returns them typed; the first bad one raises
an ``InputError`` naming the field, before anything is written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from harvest.community_config import REPLY_LINKING
from harvest.errors import InputError
from harvest.linear_regex import check_pattern

__all__ = [
    "COMMUNITY_SETTINGS",
    "MAX_PATTERNS",
    "MAX_SYSTEM_PROMPT",
    "local_model_problem",
    "register_platform",
    "validate_community_settings",
]

MAX_PATTERNS = 50
MAX_SYSTEM_PROMPT = 8000
LANGUAGES = ("auto", "zh", "en")
POLICIES = ("mention", "auto", "off")
ABSTAIN_MODES = ("notice", "silent")
_PLATFORMS = ["telegram", "discord", "console"]
CRON_OFF = "off"


def register_platform(name: str) -> None:
    """Accept ``name`` as a ``moderator_platform`` (an adapter beyond the built-in ones)."""
    if name not in _PLATFORMS:
        _PLATFORMS.append(name)


def _choice(options: tuple[str, ...] | list[str]) -> Callable[[str, Any], str]:
    def check(field: str, value: Any) -> str:
        text = str(value).strip()
        if text not in options:
            raise InputError(f"one of {', '.join(options)}, got {text!r}", field=field)
        return text

    return check


def _integer(low: int, high: int) -> Callable[[str, Any], int]:
    def check(field: str, value: Any) -> int:
        if isinstance(value, bool):
            raise InputError("a whole number", field=field)
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise InputError(f"a whole number, got {value!r}", field=field) from None
        if not low <= number <= high:
            raise InputError(f"between {low} and {high}, got {number}", field=field)
        return number

    return check


def _fraction(field: str, value: Any) -> float:
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise InputError(f"a number between 0 and 1, got {value!r}", field=field) from None
    if isinstance(value, bool) or math.isnan(number) or not 0.0 <= number <= 1.0:
        raise InputError(f"a number between 0 and 1, got {value!r}", field=field)
    return float(number)


def _auto_approve(field: str, value: Any) -> float | None:
    """A threshold in (0.5, 1.0] above which the community's classifier approves pairs on
    its own; "", "none" or "off" turn auto-approval off (None)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "off")):
        return None
    problem = f"a number above 0.5 and at most 1.0, or off; got {value!r}"
    if isinstance(value, bool):
        raise InputError(problem, field=field)
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise InputError(problem, field=field) from None
    if math.isnan(number) or not 0.5 < number <= 1.0:
        raise InputError(problem, field=field)
    return float(number)


def _text(limit: int) -> Callable[[str, Any], str]:
    def check(field: str, value: Any) -> str:
        text = str(value)
        if len(text) > limit:
            raise InputError(f"at most {limit} characters, got {len(text)}", field=field)
        return text

    return check


def _timezone(field: str, value: Any) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r} (an IANA name such as UTC or Asia/Shanghai)",
            field=field,
        ) from None
    return name


def _cron(field: str, value: Any) -> str:
    from apscheduler.triggers.cron import CronTrigger

    expr = " ".join(str(value).split())
    if expr.lower() == CRON_OFF:
        return CRON_OFF
    if len(expr.split()) != 5:
        raise InputError(
            f"{expr!r} is not a cron line: 5 fields, minute hour day month weekday "
            f"(e.g. '0 3 * * *'), or {CRON_OFF!r}",
            field=field,
        )
    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as exc:
        raise InputError(f"{expr!r}: {exc}", field=field) from None
    return expr


def _patterns(field: str, value: Any) -> list[str]:
    if isinstance(value, str):
        raw = value.strip()
        if raw.startswith("["):  # a JSON list: patterns that contain "|" themselves
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputError(f"not a JSON list of patterns: {exc.msg}", field=field) from None
        else:
            value = [p for p in raw.split("|") if p.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(p, str) for p in value):
        raise InputError("a list of regular expressions", field=field)
    if len(value) > MAX_PATTERNS:
        raise InputError(f"at most {MAX_PATTERNS} patterns, got {len(value)}", field=field)
    for pattern in value:
        check_pattern(pattern, field=field)
    return list(value)


def _optional(check: Callable[[str, Any], str]) -> Callable[[str, Any], str | None]:
    def optional(field: str, value: Any) -> str | None:
        if value is None or str(value).strip().lower() in ("", "none"):
            return None
        return check(field, value)

    return optional


def _chat_id(field: str, value: Any) -> str:
    text = str(value).strip()
    if len(text) > 64 or not text:
        raise InputError("a chat id of 1 to 64 characters", field=field)
    return text


_PATH_PREFIXES = ("/", "./", "../", "~", ".\\")


def local_model_problem(ref: str) -> str | None:
    """Why ``ref`` cannot be a local base model (None when it can, or is a hub id / name).

    A folder must hold a model (``config.json``); something that looks like a path
    (``/…``, ``./…``, ``~…``) must exist. Anything else is taken for a hub id.
    """
    if not ref.strip():
        return "a base model name is empty"
    path = Path(ref).expanduser()
    if path.exists():
        if not (path.is_dir() and (path / "config.json").is_file()):
            return f"base model {ref}: not a model folder (no config.json in it)"
        return None
    if ref.startswith(_PATH_PREFIXES) or path.is_absolute():
        return f"base model {ref}: no such folder"
    return None


def _base_models(field: str, value: Any) -> list[str] | None:
    """Candidate base models from a list or "a,b": each non-empty, a local folder a model
    (stored as an absolute path); "" or "none" clears the list (the configured default)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [str(n).strip() for n in names]
    if any(not n for n in names):
        raise InputError("list base models separated by commas, none empty", field=field)
    for name in names:
        problem = local_model_problem(name)
        if problem:
            raise InputError(problem, field=field)
    folders = [Path(n).expanduser() for n in names]
    names = [str(f.resolve()) if f.exists() else n for f, n in zip(folders, names, strict=True)]
    return list(dict.fromkeys(names))


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "language": _choice(LANGUAGES),
    "system_prompt": _text(MAX_SYSTEM_PROMPT),
    "answer_policy": _choice(POLICIES),
    "auto_answer_after_min": _integer(0, 7 * 24 * 60),
    "abstain_mode": _choice(ABSTAIN_MODES),
    "min_confidence": _fraction,
    "timezone": _timezone,
    "train_cron": _cron,
    "min_new_pairs": _integer(1, 1_000_000),
    "question_patterns": _patterns,
    "moderator_platform": _optional(_choice(_PLATFORMS)),
    "moderator_chat_id": _optional(_chat_id),
    "base_models": _base_models,
    "classifier_refit_every": _integer(1, 100_000),
    "auto_approve_above": _auto_approve,
    "reply_linking": _choice(REPLY_LINKING),
}
COMMUNITY_SETTINGS = tuple(_CHECKS)


def validate_community_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` checked and typed; InputError naming the first unknown or bad field."""
    checked: dict[str, Any] = {}
    for key, value in values.items():
        check = _CHECKS.get(key)
        if check is None:
            raise InputError(f"unknown setting; one of {', '.join(COMMUNITY_SETTINGS)}", field=key)
        checked[key] = check(key, value)
    return checked
