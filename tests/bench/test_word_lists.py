"""The word-list bench compares the screened engine with plain ``re`` on the same messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.word_lists as word_lists
from bench.gen_export import generate
from harvest.exports import read_export

LOG = """\
[10:00] <alice> how do I mount a usb disk?
[10:01] <bob> alice: pmount /dev/sdb1
[10:01] <carol> sorry, can't help, never tried that
[10:02] <alice> bob: thanks, that worked
"""


def test_it_reports_both_workloads_with_the_same_pairs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "2020-01-01.raw.txt").write_text(LOG, encoding="utf-8")
    live = word_lists._live_messages
    monkeypatch.setattr(word_lists, "_live_messages", lambda n: live(400))
    assert word_lists.main(["--irc-data", str(tmp_path), "--rounds", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["word_list_screens"] >= 7
    assert report["irc_dev_import"]["messages"] == 4
    for part in ("irc_dev_import", "telegram_bench_live"):
        assert report[part]["same_pairs"] is True
        assert report[part]["ratio"] > 0


def test_the_baseline_switches_every_screen_off_and_back_on() -> None:
    decline = next(p for p in word_lists._screened() if "help" in p.pattern)
    assert not decline.possible("the weather is fine")
    with word_lists._without_screens():
        assert decline.possible("the weather is fine")
    assert not decline.possible("the weather is fine")


def test_a_distinct_export_repeats_no_text(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    generate(path, 2000, seed=5, distinct=True)
    texts = [m.text for m in read_export(path) if getattr(m, "text", "")]
    assert len(texts) > 1500
    assert len(set(texts)) == len(texts)
    questions = [t for t in texts if t.endswith(("?", "？"))]
    assert questions  # a question keeps its mark at the end
