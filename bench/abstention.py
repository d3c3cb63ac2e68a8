"""Abstention that separates: accuracy of answered vs coverage across ``min_confidence``.

The demo group (``bot/demo/sample_telegram_export.json``) is imported into a fresh database and
reviewed as ``make demo`` does (expert answers approved, the rest rejected). Then every
question of ``bench/data/paraphrases.json`` (new wordings of the demo's topics, Chinese and
English, colloquial, typos, no question mark, and a fifth the group never answered) is asked:

- ``ours``: ``bot.answering`` (bm25s, evidence calibrated on held-out pairs, grounded answers);
- ``baseline``: today's path in the same run (bench/legacy_retrieval.py: rank_bm25, confidence
  = similarity before a model, ``certainty * (1 - similarity + support)`` with one).

``--live untrained`` adds a live model that garbles (a random-init tiny model with a zero LoRA):
the worst generator, the case the issue describes. An answer is right when its text is the
topic's answer (trigram Dice ≥ 0.6 with the Chinese or English answer). Per threshold:
coverage (answerable answered), accuracy (right among answerable answered), and the share of
unanswerable questions answered. Prints JSON and a table; writes a PNG (``--png``).
``--fit`` prints the calibration fitted on the demo's held-out pairs (DEFAULT_CALIBRATION).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

COMMUNITY = "fund-dca"
THRESHOLDS = [round(0.05 * i, 2) for i in range(20)]
GOALS = {"coverage": 0.70, "accuracy": 0.90, "unanswerable_answered": 0.20}


def _fanqa(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"fanqa {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _demo_database(tmp: Path) -> dict[str, str]:
    """The demo's steps 1–3 (community, roles, import, review) in a fresh database."""
    from bot.demo import DEMO_EXPERTS, DEMO_EXPORT, DEMO_MODERATORS

    env = os.environ | {
        "FANQA_DATABASE_URL": f"sqlite:///{tmp / 'fanqa.db'}",
        "FANQA_DATA_DIR": str(tmp / "data"),
        "PYTHONPATH": str(ROOT),
    }
    _fanqa(env, "community", "create", COMMUNITY, "--system-prompt", "You answer a fund club.")
    for user_id, name in {**DEMO_MODERATORS}.items():
        _fanqa(env, "members", "role", user_id, "moderator", "-c", COMMUNITY, "--name", name)
    for user_id, name in DEMO_EXPERTS.items():
        _fanqa(env, "members", "role", user_id, "expert", "-c", COMMUNITY, "--name", name)
    _fanqa(env, "import", "telegram", str(DEMO_EXPORT), "-c", COMMUNITY)
    pairs = json.loads(_fanqa(env, "pairs", "list", "-c", COMMUNITY, "--limit", "1000", "--json"))
    approve = [str(p["id"]) for p in pairs if p["score"] >= 10 and len(p["answer"]) >= 12]
    reject = [str(p["id"]) for p in pairs if str(p["id"]) not in approve]
    _fanqa(env, "pairs", "approve", *approve, "-c", COMMUNITY, "--json")
    if reject:
        _fanqa(env, "pairs", "reject", *reject, "-c", COMMUNITY, "--json")
    return env


def _untrained_live_model(engine: Any, cid: int, tmp: Path) -> None:
    """Promote a random-init tiny model with a zero LoRA: a live model that garbles."""
    from demo_content import TOPICS  # type: ignore[import-not-found]

    from bench.answer_latency import _make_adapter
    from storage.db import session_scope
    from storage.models import ModelVersion
    from trainer.registry import promote
    from trainer.tiny import init_tiny_model

    texts = [
        t for topic in TOPICS for t in (*topic.zh, *topic.en, topic.answer_zh, topic.answer_en)
    ]
    base = str(init_tiny_model(tmp / "tiny", texts, vocab_size=1000, hidden=64, layers=2))
    adapter = _make_adapter(base, tmp / "adapter")
    with session_scope(engine) as session:
        model = ModelVersion(community_id=cid, base_model=base, adapter_path=adapter)
        session.add(model)
        session.flush()
        promote(session, model.id or 0)


def _legacy_answer(session: Any, cid: int, question: str, factory: Any) -> tuple[str, float]:
    """Today's answer text and confidence (retrieval: rank_bm25, the old formula)."""
    from bench.legacy_retrieval import legacy_search, old_confidence
    from bot.answering.answer import _generation_target, _messages
    from storage.repo import get_community_by_id
    from trainer.registry import live_model

    hits = legacy_search(session, cid, question)
    similarity = hits[0][3] if hits else 0.0
    target = _generation_target(live_model(session, cid))
    if target is None:
        return (hits[0][2], similarity) if hits else ("", 0.0)
    messages = _messages(get_community_by_id(session, cid), question)
    generation = factory(*target).generate(messages, max_new_tokens=64)
    text = generation.text.strip()
    confidence = old_confidence(similarity, generation, text, hits) if text else 0.0
    return text, confidence


def _evaluate(env: dict[str, str], questions: list[dict[str, Any]], live: str, tmp: Path) -> Any:
    from demo_content import TOPICS  # type: ignore[import-not-found]

    from bot.answering import Retriever, agreement, answer
    from bot.answering.confidence import SAME_ANSWER
    from storage import make_engine
    from storage.db import session_scope
    from storage.repo import get_community, update_community
    from trainer.generation import local_generator_factory

    answers = {t.key: [t.answer_zh, t.answer_en] for t in TOPICS}
    engine = make_engine(env["FANQA_DATABASE_URL"])
    with session_scope(engine) as session:
        cid = get_community(session, COMMUNITY).id or 0
        update_community(session, cid, min_confidence=0.0)
    if live == "untrained":
        _untrained_live_model(engine, cid, tmp)
    factory = local_generator_factory("cpu")
    retriever = Retriever()
    rows: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
    for item in questions:
        topic = item["topic"]
        with session_scope(engine) as session:
            got = answer(
                session,
                cid,
                item["q"],
                generator_factory=factory,
                retriever=retriever,
                max_new_tokens=64,
            )
            old_text, old_conf = _legacy_answer(session, cid, item["q"], factory)
        for name, text, confidence in (
            ("ours", got.text, got.confidence),
            ("baseline", old_text, old_conf),
        ):
            right = topic is not None and agreement(text, answers[topic]) >= SAME_ANSWER
            rows[name].append(
                {"q": item["q"], "topic": topic, "confidence": round(confidence, 4), "right": right}
            )
        rows["ours"][-1]["mode"] = got.mode
    with session_scope(engine) as session:
        index = retriever.index_for(session, cid)
        calibration = index.calibration
    return rows, calibration


def curve(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Coverage / accuracy / unanswerable answered at each threshold (answered = conf ≥ t)."""
    answerable = [r for r in rows if r["topic"] is not None]
    unanswerable = [r for r in rows if r["topic"] is None]
    out = []
    for t in THRESHOLDS:
        answered = [r for r in answerable if r["confidence"] >= t]
        right = sum(r["right"] for r in answered)
        out.append(
            {
                "min_confidence": t,
                "coverage": round(len(answered) / len(answerable), 3),
                "accuracy": round(right / len(answered), 3) if answered else 1.0,
                "unanswerable_answered": round(
                    sum(r["confidence"] >= t for r in unanswerable) / max(1, len(unanswerable)), 3
                ),
            }
        )
    return out


def _meets(point: dict[str, float]) -> bool:
    return (
        point["coverage"] >= GOALS["coverage"]
        and point["accuracy"] >= GOALS["accuracy"]
        and point["unanswerable_answered"] <= GOALS["unanswerable_answered"]
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else math.nan


def _plot(curves: dict[str, list[dict[str, float]]], png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for name, points in curves.items():
        xs = [p["coverage"] for p in points]
        ys = [p["accuracy"] for p in points]
        ax.plot(xs, ys, marker="o", label=name)
        for p in points[::2]:
            ax.annotate(f"{p['min_confidence']:.2f}", (p["coverage"], p["accuracy"]), fontsize=7)
    ax.axhline(GOALS["accuracy"], color="grey", linestyle=":")
    ax.axvline(GOALS["coverage"], color="grey", linestyle=":")
    ax.set_xlabel("coverage of answerable questions")
    ax.set_ylabel("accuracy of answered")
    ax.set_title(title)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0.0, 1.02)
    ax.legend()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", choices=["none", "untrained"], default="none")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench/data/paraphrases.json")
    parser.add_argument("--png", type=Path, default=None)
    parser.add_argument("--fit", action="store_true", help="print the demo's calibration")
    ns = parser.parse_args()
    questions = json.loads(ns.questions.read_text(encoding="utf-8"))["questions"]
    with tempfile.TemporaryDirectory(prefix="fanqa-abstention-") as name:
        tmp = Path(name)
        env = _demo_database(tmp)
        rows, calibration = _evaluate(env, questions, ns.live, tmp)
    curves = {name: curve(r) for name, r in rows.items()}
    meeting = [p for p in curves["ours"] if _meets(p)]
    result: dict[str, Any] = {
        "bench": "abstention",
        "live_model": ns.live,
        "questions": len(questions),
        "answerable": sum(q["topic"] is not None for q in questions),
        "calibration": {
            "weights": [round(w, 3) for w in calibration.weights] if calibration else None,
            "bias": round(calibration.bias, 3) if calibration else None,
            "held_out_examples": calibration.examples if calibration else 0,
        },
        "median_confidence": {
            name: {
                "answerable": _median([x["confidence"] for x in r if x["topic"] is not None]),
                "unanswerable": _median([x["confidence"] for x in r if x["topic"] is None]),
            }
            for name, r in rows.items()
        },
        "curves": curves,
        "thresholds_meeting_goals": [p["min_confidence"] for p in meeting],
        "wrong_or_missed": [
            {k: r[k] for k in ("q", "topic", "confidence", "mode")}
            for r in rows["ours"]
            if (r["topic"] is not None and not r["right"]) or (r["topic"] is None)
        ],
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print(
        f"\n{'min_conf':>8} | {'ours cov':>8} {'acc':>5} {'unans':>5} | "
        f"{'base cov':>8} {'acc':>5} {'unans':>5}"
    )
    for ours, base in zip(curves["ours"], curves["baseline"], strict=True):
        print(
            f"{ours['min_confidence']:>8.2f} | {ours['coverage']:>8.2f} {ours['accuracy']:>5.2f} "
            f"{ours['unanswerable_answered']:>5.2f} | {base['coverage']:>8.2f} "
            f"{base['accuracy']:>5.2f} {base['unanswerable_answered']:>5.2f}"
        )
    if ns.png:
        _plot(curves, ns.png, f"abstention, live model: {ns.live}")
    if ns.fit and calibration is not None:
        print(
            f"\nDEFAULT_CALIBRATION = Calibration(weights={calibration.weights}, "
            f"bias={calibration.bias})"
        )


if __name__ == "__main__":
    main()
