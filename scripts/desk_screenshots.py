"""Screenshots of every review-desk page into docs/, taken with the real browser.

Seeds a throw-away database (two communities, Chinese and English pairs, models, runs with a
real gate report chart, answers and gaps), serves the desk, logs in by a one-time link the
way a moderator does, and saves one PNG per page:

    python scripts/desk_screenshots.py [--out docs]

Needs Playwright and Debian's chromium (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.settings import Settings  # noqa: E402
from bot.web import create_app  # noqa: E402
from bot.web.server import ThreadedDesk  # noqa: E402
from storage import make_engine, upgrade  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import AnswerLog, ModelVersion  # noqa: E402
from tests.web.builders import login_token, seed  # noqa: E402
from trainer.gate import GateDecision, GateRow  # noqa: E402
from trainer.metrics import StepMetrics  # noqa: E402
from trainer.report import write_report  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _real_report(engine, model_id: int, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """The trainer's own report (markdown + matplotlib chart) for the seeded candidate."""
    rows = [
        GateRow("loss", 1.20, 1.35, 0.111, "primary", True),
        GateRow("question_gain", 0.31, 0.28, 0.107, "floor", True),
    ]
    decision = GateDecision(True, ["loss 1.200 beats live 1.350 by 11.1% (needs 2%)"], rows)
    steps = [StepMetrics(step=s, train_loss=2.0 - 0.15 * s) for s in range(1, 6)]
    md, _png = write_report(folder, decision, {"loss": 1.2}, {"loss": 1.35}, steps)
    with session_scope(engine) as session:
        model = session.get(ModelVersion, model_id)
        assert model is not None
        model.report_path = str(md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/desk.db")
        upgrade(engine)
        ids = seed(engine)
        _real_report(engine, ids.models[1], Path(tmp) / "report")
        with session_scope(engine) as session:
            session.add(
                AnswerLog(
                    community_id=ids.fund,
                    question_text="年费多少？",
                    answer_text="首年免年费，之后每年 100 元。",
                    confidence=0.82,
                    source_pair_ids=[ids.pairs[2]],
                    feedback_up=3,
                )
            )
            for q in ("基金怎么定投？", "基金如何定投？", "Can I pay by credit card?"):
                session.add(AnswerLog(community_id=ids.fund, question_text=q, abstained=True))
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data")  # type: ignore[call-arg]
        app = create_app(engine, settings, secret="screenshots-" + "z" * 32)
        with ThreadedDesk(app) as desk, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 860}, locale="zh-CN")
            token = login_token(engine, ids.moderator)
            page.goto(f"{desk.url}/login/{token}")
            page.screenshot(path=str(args.out / "desk-login.png"))
            page.click("#login")
            page.wait_for_selector("ol.queue")
            page.keyboard.press("j")
            page.click("ol.queue li.pair.current details summary")
            page.screenshot(path=str(args.out / "desk-queue.png"), full_page=True)
            shots = {
                "desk-pair.png": f"/c/{ids.fund}/pairs/{ids.pairs[0]}?edit=1",
                "desk-models.png": f"/c/{ids.fund}/models",
                "desk-promote.png": f"/c/{ids.fund}/models/{ids.models[1]}/promote",
                "desk-run.png": f"/c/{ids.fund}/runs/{ids.runs[0]}",
                "desk-answers.png": f"/c/{ids.fund}/answers",
                "desk-settings.png": f"/c/{ids.fund}/settings",
            }
            for name, path in shots.items():
                page.goto(desk.url + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out / name), full_page=True)
            page.goto(f"{desk.url}/login/{token}")  # the used link again
            page.screenshot(path=str(args.out / "desk-link-used.png"))
            browser.close()
        engine.dispose()
    print("\n".join(sorted(str(p.relative_to(ROOT)) for p in args.out.glob("desk-*.png"))))


if __name__ == "__main__":
    main()
