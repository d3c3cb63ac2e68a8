"""Community settings are checked when written: one line naming the field, exit 2, no change."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.helpers.fanqa_cli import fanqa, fanqa_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = fanqa_env(tmp_path)
    assert fanqa("community", "create", "fund", env=env).code == 0
    return env


def _settings(env: dict[str, str]) -> dict[str, object]:
    [row] = json.loads(fanqa("community", "list", "--json", env=env).stdout)
    return {k: v for k, v in row.items() if k != "pairs"}


BAD = [
    (["question_patterns=(unclosed"], "question_patterns"),
    ([r"question_patterns=(a)\1"], "question_patterns"),  # a backreference: not RE2
    (["timezone=Mars/Olympus_Mons"], "timezone"),
    (["train_cron=61 * * * *"], "train_cron"),
    (["train_cron=every night"], "train_cron"),
    (["abstain_mode=loud"], "abstain_mode"),
    (["moderator_platform=irc"], "moderator_platform"),
    (["min_confidence=1.5"], "min_confidence"),
    (["min_confidence=nan"], "min_confidence"),
    (["min_new_pairs=0"], "min_new_pairs"),
    (["language=klingon"], "language"),
    (["answer_policy=auto", "timezone=Nowhere/Land"], "timezone"),  # the good one not kept
    (["colour=blue"], "colour"),
    (["auto_approve_above=abc"], "auto_approve_above"),
    (["auto_approve_above=0.5"], "auto_approve_above"),  # a coin toss is not "sure"
    (["classifier_refit_every=0"], "classifier_refit_every"),
    (["reply_linking=smart"], "reply_linking"),
]


@pytest.mark.parametrize(("assignments", "field"), BAD, ids=[b[1] for b in BAD])
def test_bad_setting_is_refused_naming_the_field(
    env: dict[str, str], assignments: list[str], field: str
) -> None:
    """`fanqa community set` refuses the value: exit 2, one line with the field, nothing saved."""
    before = _settings(env)
    done = fanqa("community", "set", "fund", *assignments, env=env)
    assert done.code == 2, done.output
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error:") and repr(field) in line, line
    assert "Traceback" not in done.stderr
    assert _settings(env) == before


def test_good_settings_are_typed_and_saved(env: dict[str, str]) -> None:
    """Valid values of every kind are stored typed; a JSON list keeps a pattern with '|'."""
    done = fanqa(
        "community",
        "set",
        "fund",
        "timezone=Asia/Shanghai",
        "train_cron=30 2 * * 1-5",
        "abstain_mode=silent",
        "moderator_platform=discord",
        "min_confidence=0.5",
        "min_new_pairs=5",
        'question_patterns=["^!(faq|help)\\\\b", "请问"]',
        "--json",
        env=env,
    )
    assert done.code == 0, done.output
    got = json.loads(done.stdout)
    assert (got["timezone"], got["train_cron"], got["min_confidence"], got["min_new_pairs"]) == (
        "Asia/Shanghai",
        "30 2 * * 1-5",
        0.5,
        5,
    )
    assert got["question_patterns"] == ["^!(faq|help)\\b", "请问"]


def test_a_catastrophic_pattern_cannot_stall_harvesting(env: dict[str, str]) -> None:
    """'(a+)+$' is linear under RE2: a 40-character message is harvested in well under 30 s."""
    assert fanqa("community", "set", "fund", "question_patterns=(a+)+$", env=env).code == 0
    started = time.monotonic()
    chat = fanqa(
        "chat", "-c", "fund", "--as", "mallory", stdin="a" * 40 + "!\n", env=env, timeout=30
    )
    assert chat.code == 0, chat.output
    assert "mallory: " + "a" * 40 + "!" in chat.stdout
    assert time.monotonic() - started < 30


def test_schedule_command_uses_the_same_check(env: dict[str, str]) -> None:
    """/schedule in the console refuses a bad time zone or cron line and keeps the old one."""
    before = _settings(env)
    chat = fanqa(
        "chat",
        "-c",
        "fund",
        "--as",
        "mod",
        "--moderator",
        stdin="/schedule 0 3 * * * Mars/Olympus_Mons\n/schedule 0 25 * * *\n",
        env=env,
    )
    assert chat.code == 0, chat.output
    assert "time zone" in chat.stdout and "25" in chat.stdout, chat.stdout
    assert "Traceback" not in chat.output
    assert _settings(env) == before


def test_show_prints_every_setting(env: dict[str, str]) -> None:
    """`fanqa community show` prints what `set` stored: a prompt's brackets as typed."""
    prompt = "Answer [briefly] as the club's moderator."
    done = fanqa(
        "community",
        "set",
        "fund",
        "reply_linking=learned",
        f"system_prompt={prompt}",
        "question_patterns=求助",
        env=env,
    )
    assert done.code == 0, done.output
    shown = fanqa("community", "show", "fund", env=env)
    assert shown.code == 0, shown.output
    lines = {line.split()[1]: line for line in shown.stdout.splitlines() if line.count("│") > 2}
    assert "learned" in lines["reply_linking"]
    assert "[briefly]" in lines["system_prompt"]
    assert "求助" in lines["question_patterns"]
    assert "0 pending" in lines["pairs"]
    as_json = json.loads(fanqa("community", "show", "fund", "--json", env=env).stdout)
    assert as_json["reply_linking"] == "learned"
    assert as_json["system_prompt"] == prompt
    assert {k: v for k, v in as_json.items() if k != "pairs"} == _settings(env)


def test_show_of_an_unknown_community_names_it(env: dict[str, str]) -> None:
    done = fanqa("community", "show", "nope", env=env)
    assert done.code == 2
    assert "nope" in done.stderr and "fund" in done.stderr
