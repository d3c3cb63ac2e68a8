"""The import CLI and the bulk importer: summaries, idempotence, clean failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import harvest
from bot.cli import app
from bot.demo import DEMO_EXPORT
from bot.importer import import_export
from bot.settings import get_settings
from harvest.errors import InputError
from storage import session_scope
from storage.models import Message, QAPair

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _counts(engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        return (
            s.execute(select(func.count()).select_from(Message)).scalar_one(),
            s.execute(select(func.count()).select_from(QAPair)).scalar_one(),
        )


def test_demo_import_finds_pairs_and_reimport_adds_nothing(engine) -> None:
    """Importing the demo export stores every message and pairs; a second import adds none."""
    first = import_export(engine, DEMO_EXPORT, community="fund")
    assert first.messages_read == first.messages_added >= 400
    assert first.pairs_added >= 60
    before = _counts(engine)
    second = import_export(engine, DEMO_EXPORT, community="fund")
    assert (second.messages_added, second.pairs_added) == (0, 0)
    assert second.duplicates_skipped == second.messages_read
    assert first.pairs_added + first.pairs_duplicate == first.pairs_found
    assert second.pairs_duplicate == second.pairs_found == first.pairs_found
    assert _counts(engine) == before


def test_malformed_export_leaves_database_unchanged(engine, tmp_path: Path) -> None:
    """A file that breaks half-way raises InputError with its line and writes nothing."""
    good = DEMO_EXPORT.read_text(encoding="utf-8")
    cut = good[: len(good) // 2]
    broken = tmp_path / "result.json"
    broken.write_text(cut, encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_export(engine, broken, community="fund")
    assert info.value.source == str(broken)
    assert info.value.line is not None and info.value.line > 1
    assert _counts(engine) == (0, 0)


def test_discord_folder_import(engine) -> None:
    """A DiscordChatExporter folder (channel + thread file) imports with pairs."""
    folder = FIXTURES / "discord" / "folder"
    summary = import_export(engine, folder, community="oss", kind="discord")
    assert summary.messages_added > 0
    assert summary.pairs_added >= 1


def test_cli_import_json_and_exit_code_2(tmp_path: Path, monkeypatch) -> None:
    """`fanqa import --json` prints a summary; a broken file exits 2 naming the line."""
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    ok = runner.invoke(app, ["import", "telegram", str(DEMO_EXPORT), "-c", "fund", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["pairs_added"] >= 60
    # It says which engine ran: compiled by `make install` where a C compiler is, else sources.
    assert json.loads(ok.stdout)["engine"] == ("compiled" if harvest.NATIVE else "sources")
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"name": "x", "type": "private_group", "id": 1, "messages": [{"id": ', encoding="utf-8"
    )
    failed = runner.invoke(app, ["import", "telegram", str(bad), "-c", "fund"])
    assert failed.exit_code == 2
    assert "bad.json" in failed.stderr and "line 1" in failed.stderr
    wrong_kind = runner.invoke(app, ["import", "discord", str(DEMO_EXPORT), "-c", "fund"])
    assert wrong_kind.exit_code == 2
    assert "telegram export" in wrong_kind.stderr


def test_cli_review_and_export_round_trip(tmp_path: Path, monkeypatch) -> None:
    """Approving pairs from the CLI makes them appear in `data export` as chat JSONL."""
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    runner.invoke(app, ["import", "telegram", str(DEMO_EXPORT), "-c", "fund", "--json"])
    listed = json.loads(
        runner.invoke(app, ["pairs", "list", "-c", "fund", "--json", "--limit", "12"]).stdout
    )
    ids = [str(p["id"]) for p in listed]
    assert runner.invoke(app, ["pairs", "approve", *ids, "-c", "fund"]).exit_code == 0
    out = tmp_path / "train.jsonl"
    res = runner.invoke(app, ["data", "export", "-c", "fund", "--out", str(out), "--json"])
    assert json.loads(res.stdout)["examples"] == 12
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert [m["role"] for m in first["messages"]][-2:] == ["user", "assistant"]
    prepared = runner.invoke(app, ["data", "prepare", str(out), "--json"])
    assert prepared.exit_code == 0, prepared.output
    assert json.loads(prepared.stdout)["kept"] == 12
    missing = runner.invoke(app, ["pairs", "approve", "99999", "-c", "fund"])
    assert missing.exit_code == 2 and "#99999" in missing.stderr


def test_cli_discord_bad_field_and_encoding_exit_2(tmp_path: Path, monkeypatch) -> None:
    """A DiscordChatExporter file whose `messages` is not a list, and a GBK file, exit 2
    naming the file, the line (and the field); nothing is stored."""
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    body = {"guild": {"id": "1", "name": "g"}, "channel": {"id": "2", "name": "c"}, "messages": {}}
    bad = tmp_path / "channel.json"
    bad.write_text(json.dumps(body, indent=1), encoding="utf-8")
    failed = CliRunner().invoke(app, ["import", "discord", str(bad), "-c", "oss"])
    assert failed.exit_code == 2
    assert "channel.json" in failed.stderr and "line 10" in failed.stderr
    assert "messages" in failed.stderr
    gbk = tmp_path / "result.json"
    gbk.write_bytes(DEMO_EXPORT.read_text(encoding="utf-8").encode("gbk", errors="replace"))
    wrong = CliRunner().invoke(app, ["import", "telegram", str(gbk), "-c", "fund"])
    assert wrong.exit_code == 2 and "not UTF-8" in wrong.stderr


def test_pairs_carry_a_confidence_with_its_reason(tmp_path: Path, monkeypatch) -> None:
    """`fanqa pairs list --json` lists the most likely good pairs first, each with a
    confidence in [0, 1] and its rule and signals; `pairs show` prints them."""
    monkeypatch.setenv("FANQA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    runner.invoke(app, ["import", "telegram", str(DEMO_EXPORT), "-c", "fund", "--json"])
    listed = json.loads(
        runner.invoke(app, ["pairs", "list", "-c", "fund", "--json", "--limit", "500"]).stdout
    )
    confidences = [p["confidence"] for p in listed]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences) and len(set(confidences)) > 3
    reason = listed[0]["confidence_reason"]
    assert reason["rule"] in ("reply", "thread") or reason["rule"].startswith("implicit:")
    assert {"answerer_role", "answer_kind", "delay_s"} <= reason["signals"].keys()
    shown = runner.invoke(app, ["pairs", "show", str(listed[-1]["id"]), "-c", "fund"])
    assert shown.exit_code == 0 and f"confidence {confidences[-1]:.2f} by rule" in shown.stdout


def _stored(url: str) -> tuple[int, list[tuple[str, str, str, str, float]]]:
    from storage import make_engine

    engine = make_engine(url)
    with session_scope(engine) as s:
        messages = s.execute(select(func.count()).select_from(Message)).scalar_one()
        pairs = sorted(
            (p.source_key, p.question_text, p.answer_text, p.method, p.confidence)
            for p in s.execute(select(QAPair)).scalars()
        )
    engine.dispose()
    return messages, pairs


def _count_forks(monkeypatch) -> list[bool]:
    """A list that gets an entry each time an import reads in a child process."""
    import bot.importer

    forked: list[bool] = []
    real = bot.importer.read_chunks_in_child

    def spy(*args, **kwargs):
        forked.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(bot.importer, "read_chunks_in_child", spy)
    return forked


def test_cli_parallel_import_stores_what_the_plain_one_does(tmp_path: Path, monkeypatch) -> None:
    """`fanqa import --parallel` (reader in a second process, progress bar shown) stores the
    same messages and pairs as the plain import; a broken file still exits 2 with nothing
    stored."""
    forked = _count_forks(monkeypatch)
    runner = CliRunner()
    stored = []
    for name, extra in (("plain", []), ("parallel", ["--parallel"])):
        url = f"sqlite:///{tmp_path / name}.db"
        monkeypatch.setenv("FANQA_DATABASE_URL", url)
        get_settings.cache_clear()
        done = runner.invoke(app, ["import", "telegram", str(DEMO_EXPORT), "-c", "fund", *extra])
        assert done.exit_code == 0, done.output
        assert "pairs added (pending review)" in done.stdout
        stored.append(_stored(url))
    assert stored[0] == stored[1] and stored[0][0] >= 400 and len(stored[0][1]) >= 60
    assert forked == [True]  # only the --parallel run read in a child process
    url = f"sqlite:///{tmp_path / 'broken'}.db"
    monkeypatch.setenv("FANQA_DATABASE_URL", url)
    get_settings.cache_clear()
    broken = tmp_path / "result.json"
    text = DEMO_EXPORT.read_text(encoding="utf-8")
    broken.write_text(text[: len(text) // 2], encoding="utf-8")
    failed = runner.invoke(app, ["import", "telegram", str(broken), "-c", "fund", "--parallel"])
    assert failed.exit_code == 2 and "result.json" in failed.stderr
    assert _stored(url) == (0, [])


def test_reader_choice_auto_flag_and_machine() -> None:
    """Unset, the second process is used only for a big export with two idle cores; a
    flag always wins; every choice says why; the machine is sampled only when it matters."""
    from bot.import_mode import AUTO_MIN_BYTES, Machine, choose_reader

    asked = []

    def host(cpus: int = 2, idle: float = 1.9, fork: bool = True):
        def sample() -> Machine:
            asked.append(True)
            return Machine(cpus, idle, fork)

        return sample

    big = AUTO_MIN_BYTES * 3
    chosen = choose_reader(None, big, host())
    assert chosen.parallel and chosen.why.startswith("auto:") and "2 CPUs, 1.9 idle" in chosen.why
    for size, sample, because in (
        (big, host(idle=1.2), "not two free CPU cores (2 CPUs, 1.2 idle)"),
        (big, host(cpus=1, idle=1.0), "one CPU"),
        (big, host(cpus=8, idle=8.0, fork=False), "cannot fork"),
    ):
        choice = choose_reader(None, size, sample)
        assert not choice.parallel and because in choice.why, choice
    assert len(asked) == 4
    small = choose_reader(None, AUTO_MIN_BYTES - 1, host())
    assert not small.parallel and "under 8 MiB" in small.why
    forced = choose_reader(True, 10, host(cpus=1, idle=0.0, fork=False))
    assert forced.parallel and forced.why == "--parallel given"
    kept = choose_reader(False, big, host())
    assert not kept.parallel and kept.why == "--no-parallel given"
    assert len(asked) == 4  # neither a small export nor a flag samples the CPUs


def test_machine_reads_this_machine() -> None:
    from bot.import_mode import machine

    seen = machine()
    assert seen.cpus >= 1 and 0.0 <= seen.idle <= seen.cpus


def test_export_bytes_of_file_folder_and_missing(tmp_path: Path) -> None:
    from bot.import_mode import export_bytes

    (tmp_path / "a.json").write_bytes(b"x" * 100)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_bytes(b"y" * 50)
    (tmp_path / "photo.jpg").write_bytes(b"z" * 1000)  # media next to a Telegram export
    assert export_bytes(tmp_path) == 150
    assert export_bytes(tmp_path / "a.json") == 100
    assert export_bytes(tmp_path / "missing.json") == 0


def test_cli_import_chooses_the_second_process_by_itself(tmp_path: Path, monkeypatch) -> None:
    """Without the flag, `fanqa import` pairs in a second process when the export is big
    enough and two cores are idle, and not when the machine is busy; the JSON says which and
    why, and both store the same rows."""
    import bot.cli.import_cmd
    import bot.import_mode
    from bot.import_mode import Machine

    forked = _count_forks(monkeypatch)
    monkeypatch.setattr(bot.import_mode, "AUTO_MIN_BYTES", 1024)  # the demo export is bigger
    runner = CliRunner()
    stored, said = [], []
    for name, idle in (("idle", 1.9), ("busy", 0.6)):
        monkeypatch.setattr(bot.cli.import_cmd, "machine", lambda idle=idle: Machine(2, idle, True))
        url = f"sqlite:///{tmp_path / name}.db"
        monkeypatch.setenv("FANQA_DATABASE_URL", url)
        get_settings.cache_clear()
        done = runner.invoke(app, ["import", "telegram", str(DEMO_EXPORT), "-c", "fund", "--json"])
        assert done.exit_code == 0, done.output
        said.append(json.loads(done.stdout)["parallel"])
        stored.append(_stored(url))
    assert forked == [True]  # only the idle machine's import forked
    assert said[0]["used"] is True and "two free CPU cores" in said[0]["why"]
    assert said[1] == {"used": False, "why": "auto: not two free CPU cores (2 CPUs, 0.6 idle)"}
    assert stored[0] == stored[1] and stored[0][0] >= 400
