"""`make demo`: the whole fanqa loop, offline, on the embedded sample group.

Every step is a real `fanqa` command (printed before it runs) against a fresh SQLite
database in ./demo-out: import the sample Telegram export, make the group's admins
moderators, review the harvested pairs as a moderator would, export the dataset, build a
two tiny models of different sizes, fine-tune both in one round, gate them against the base
model side by side, promote the better one and answer held-out questions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "demo-out"
FANQA = [sys.executable, "-m", "bot"]
COMMUNITY = "fund-dca"
ENV = os.environ | {
    "FANQA_DATABASE_URL": f"sqlite:///{OUT / 'fanqa.db'}",
    "FANQA_DATA_DIR": str(OUT),
    "PYTHONUNBUFFERED": "1",
}


def fanqa(*args: str, capture: bool = False) -> str:
    """Run one fanqa command, printing it first; stop the demo if it fails."""
    print(f"\n$ fanqa {' '.join(args)}", flush=True)
    result = subprocess.run(
        [*FANQA, *args],
        env=ENV,
        cwd=ROOT,
        text=True,
        capture_output=capture,
    )
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"demo step failed: fanqa {' '.join(args)}")
    return result.stdout if capture else ""


def main() -> int:
    started = time.monotonic()
    sys.path.insert(0, str(ROOT))
    from bot.demo import DEMO_EXPERTS, DEMO_EXPORT, DEMO_MODERATORS

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    print("== 1. a community and its moderators / experts ==")
    fanqa(
        "community",
        "create",
        COMMUNITY,
        "--system-prompt",
        "你是基金定投交流群的助手。You answer questions of a fund DCA club, briefly.",
    )
    # Answer at 3 a.m. only when sure: below 0.4 (calibrated, bench/abstention.py) the bot
    # says a moderator will follow up.
    fanqa("community", "set", COMMUNITY, "min_confidence=0.4")
    for user_id, name in DEMO_MODERATORS.items():
        fanqa("members", "role", user_id, "moderator", "-c", COMMUNITY, "--name", name)
    for user_id, name in DEMO_EXPERTS.items():
        fanqa("members", "role", user_id, "expert", "-c", COMMUNITY, "--name", name)

    print("\n== 2. import the group's Telegram Desktop export ==")
    fanqa("import", "telegram", str(DEMO_EXPORT), "-c", COMMUNITY)
    fanqa("import", "telegram", str(DEMO_EXPORT), "-c", COMMUNITY)  # idempotent: adds nothing
    fanqa("pairs", "list", "-c", COMMUNITY, "--limit", "8")

    print("\n== 3. review as a moderator: approve expert answers, reject noise ==")
    pairs = json.loads(
        fanqa("pairs", "list", "-c", COMMUNITY, "--limit", "1000", "--json", capture=True)
    )
    approve = [str(p["id"]) for p in pairs if p["score"] >= 10 and len(p["answer"]) >= 12]
    reject = [str(p["id"]) for p in pairs if str(p["id"]) not in approve]
    print(
        f"approving {len(approve)} pair(s) answered by moderators/experts, "
        f"rejecting {len(reject)} other(s)"
    )
    fanqa("pairs", "approve", *approve, "-c", COMMUNITY, "--json", capture=True)
    if reject:
        fanqa("pairs", "reject", *reject, "-c", COMMUNITY, "--json", capture=True)
    fanqa("community", "list")

    print("\n== 4. the dataset, checked like OpenAI's prepare_data ==")
    dataset = OUT / "dataset.jsonl"
    fanqa("data", "export", "-c", COMMUNITY, "--format", "chat", "--out", str(dataset))
    fanqa("data", "prepare", str(dataset), "--out", str(OUT / "prepared"))

    loop = ROOT / "trainer" / "round.py"
    if loop.exists():
        print("\n== 5. two tiny base models, both fine-tuned, compared, the best promoted ==")
        small, tiny = OUT / "tiny-small", OUT / "tiny-model"
        fanqa(
            "model",
            "init-tiny",
            str(small),
            "--community",
            COMMUNITY,
            "--hidden",
            "32",
            "--layers",
            "1",
            "--seed",
            "1",
        )
        fanqa("model", "init-tiny", str(tiny), "--community", COMMUNITY)
        fanqa("community", "set", COMMUNITY, f"base_models={small},{tiny}")
        fanqa("train", "--community", COMMUNITY, "--wait")
        fanqa("runs", "results", "1", "--tail", "3")
        fanqa("models", "list", "--community", COMMUNITY)
        print("\n== 6. questions nobody asked in the export, answered by the live model ==")
        show_answers()
        show_report()
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s; everything is in {OUT}")
    return 0


# Paraphrases written for the demo, not in the export, and the topic each one asks about.
HELD_OUT = [
    ("医疗基金现在还能继续定投吗？", "healthcare_drawdown"),
    ("What is the difference between A and C share classes?", "a_vs_c"),
    ("QDII基金限购了还有别的办法买吗", "qdii_quota"),
    ("How long until the money from selling my fund arrives?", "redemption_time"),
    ("货币基金放应急钱安全吗", "money_market"),
    ("Could my bond fund lose money?", "bond_fund_loss"),
]


def show_answers() -> None:
    """Ask every held-out question; print question / answer / reference / confidence."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from demo_content import TOPICS
    from rich.console import Console
    from rich.table import Table

    from harvest.questions import detect_language

    topics = {t.key: t for t in TOPICS}
    table = Table(title="held-out questions", show_lines=True)
    for column in ("question", "answer", "reference", "confidence"):
        table.add_column(column, overflow="fold")
    for question, key in HELD_OUT:
        got = json.loads(fanqa("ask", question, "--community", COMMUNITY, "--json", capture=True))
        topic = topics[key]
        reference = topic.answer_zh if detect_language(question) == "zh" else topic.answer_en
        verdict = "abstained" if got["abstained"] else got["mode"]
        table.add_row(question, got["answer"], reference, f"{got['confidence']:.2f} ({verdict})")
    Console(width=140).print(table)


def show_report() -> None:
    """Where the gate's report (table + PNG chart) of the latest model is."""
    models = json.loads(fanqa("models", "list", "--community", COMMUNITY, "--json", capture=True))
    live = [m for m in models if m["status"] == "live"]
    latest = live[0] if live else max(models, key=lambda m: m["id"])
    if latest.get("report_path"):
        report = Path(latest["report_path"])
        print(f"\ngate report of model {latest['id']} ({latest['status']}): {report}")
        print(f"chart: {report.with_suffix('.png')}")


if __name__ == "__main__":
    raise SystemExit(main())
