"""The link-ceiling bench: labels against the annotators' reply links."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.link_ceiling import compare, linked, main, parents_of
from bench.pair_labels import Dataset
from harvest.model import ChatMessage, PairedAnswer, PairMethod

T0 = datetime(2020, 1, 1, tzinfo=UTC)
LINES = [
    ("alice", "how do I mount a usb disk?"),
    ("alice", "it is ext4"),
    ("bob", "alice: pmount /dev/sdb1"),
    ("carol", "alice: which ubuntu?"),
    ("bob", "alice: or use the file manager"),
]


def dataset() -> Dataset:
    msgs = [
        ChatMessage("irc", "#ubuntu", str(i), who, who, text, T0 + timedelta(seconds=i))
        for i, (who, text) in enumerate(LINES)
    ]
    good = {("0", "2"), ("0", "4")}
    bad = {("0", "3"): "clarifying"}
    return Dataset("irc_dev:x", msgs, {}, good, bad, [(0, 4)])


def pair(question: str, *answers: str) -> PairedAnswer:
    return PairedAnswer("#ubuntu", question, answers, "q", "a", "alice", "bob", PairMethod.IMPLICIT)


def test_labels_are_compared_with_the_links(tmp_path: Path) -> None:
    annotation = tmp_path / "x.annotation.txt"
    # 2 replies to the question, 4 to alice's second line, 3 (a clarifying question) to 0
    annotation.write_text("0 1 -\n0 2 -\n0 3 -\n1 4 -\n", encoding="utf-8")
    parents = parents_of(annotation)
    assert compare(dataset(), parents) == {
        "good_labels": 2,
        "good_answer_linked_to_question_line": 1,
        "good_answer_linked_to_an_asker_message": 2,
        "bad_labels": 1,
        "bad_answer_linked_to_question_line": 1,
    }
    assert linked(pair("0", "2"), parents)
    assert not linked(pair("0", "4"), parents)
    assert linked(pair("0", "4", "2"), parents)


def test_without_annotated_logs_it_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--irc-data", str(tmp_path)]) == 2
    assert "no annotated IRC logs" in json.loads(capsys.readouterr().out)["error"]
