"""The IRC linking bench's two definitions of link F1, on a hand-written log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.irc_linking import main, previous_parents, read_links, read_log, score, score_all_links
from harvest.linking import LinkerConfig

LOG = """\
[10:00] <alice> how do I mount a usb disk?
=== bob [~bob@host] has joined #ubuntu
[10:01] <bob> alice: pmount /dev/sdb1
[10:01] <carol> hi all
[10:02] <alice> bob: thanks, that worked
"""
# Line 1 (a join) and line 3 (a greeting) start something new; line 0 is outside the
# annotated region's children but a parent.
GOLD = "0 2 -\n1 1 -\n3 3 -\n2 4 -\n"


def write(tmp_path: Path) -> tuple[Path, Path]:
    raw = tmp_path / "2020-01-01.raw.txt"
    ann = tmp_path / "2020-01-01.annotation.txt"
    raw.write_text(LOG, encoding="utf-8")
    ann.write_text(GOLD, encoding="utf-8")
    return raw, ann


def test_all_links_counts_self_links_and_join_lines(tmp_path: Path) -> None:
    """The paper's definition scores every annotated line, self links included; the reply
    definition leaves self links out on both sides."""
    raw, ann = write(tmp_path)
    gold = read_links(ann)
    parents = previous_parents(read_log(raw), LinkerConfig())
    assert parents == {0: 0, 1: 1, 2: 0, 3: 2, 4: 3}
    every = score_all_links(parents, gold)
    assert (every["correct"], every["predicted"], every["gold"]) == (2, 4, 4)
    links = {(p, c) for c, p in parents.items() if p != c}
    reply = score(links, gold, first_child=1)
    assert (reply["correct"], reply["predicted"], reply["gold"]) == (1, 3, 2)


def test_the_bench_prints_both_definitions_and_the_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One JSON report: both definitions per system, the goal, cost and load."""
    write(tmp_path)
    assert main(["--data", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    systems = {"rules", "learned", "learned_for_pairs", "baseline_previous"}
    assert set(report["reply_links"]) == systems
    assert set(report["all_links"]) == systems
    assert report["all_links"]["learned"]["gold"] == 4
    assert report["cost_per_chat_message_us"]["learned"] > 0
    assert "load_average_1m" in report
    assert "CC BY 4.0" in json.dumps(report["model"])
    assert main(["--data", str(tmp_path / "missing")]) == 2
