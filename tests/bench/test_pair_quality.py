"""The pair-quality bench without the IRC logs: it says what it left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.pair_labels import IRC_LABELS, LABELS, load_datasets
from bench.pair_quality import main


def test_missing_irc_logs_are_listed_not_silently_dropped(tmp_path: Path) -> None:
    skipped: list[str] = []
    datasets = load_datasets(tmp_path, skipped)
    assert {ds.name for ds in datasets} == {"demo_export", "discord_support", "telegram_forum"}
    regions = sum(len(json.loads((LABELS / f"{n}.json").read_text())["logs"]) for n in IRC_LABELS)
    assert len(skipped) == regions > 0
    assert "irc_blind:2004-11-15_03" in skipped


def test_the_report_names_the_folder_it_looked_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--irc-data", str(tmp_path), "--only", "telegram_forum"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["skipped_irc_logs"]["data"] == str(tmp_path)
    assert f"left out: their logs are not under {tmp_path}" in out.err
    forum = report["systems"]["rules"]["per_dataset"]["telegram_forum"]
    assert forum["precision"] == 1.0
