"""Precision / recall / F1 of harvested pairs against hand labels (bench/labels); prints JSON.

Datasets: the demo export, a Discord support channel and a Telegram forum group with
announcement topics (fixtures written in the exporters' formats), and Ubuntu IRC dev logs
(labels by line number here, logs read from ``--irc-data``, skipped when absent). A
predicted pair is correct when its question and one of its answer messages form a pair
labelled good; every labelled good pair it misses lowers recall (``answer_recall`` counts
each (asker, answer message) once: the labels pair one answer with every line of a question
spread over several, a harvested pair has one). Fixture datasets are labelled completely;
on IRC only predictions inside the labelled line ranges count. IRC groups: ``irc_dev``
(the regions the rules were written against), ``irc_dev_heldout`` (labelled after the rules
were frozen), ``irc_fresh`` and ``irc_blind``…``irc_blind6`` (labelled blind, from the text
alone; see docs/benchmarks.md for how blind each still is).

Three systems on the same run: ``baseline`` (the pairing rules with the precision
predicates switched off: the harvester as it was), ``rules`` (today's rules), and
``learned`` (a :mod:`harvest.learner` classifier fitted on the moderator decisions of one
half of the questions, evaluated on the other half, both rule systems re-scored on that
half too), plus a learning curve after 0, 25, 50, 100 decisions, and (``by_confidence``)
the engine's precision / recall when only pairs of at least a given confidence are kept:
the operating points a community's ``auto_approve_above`` chooses from (and, as
``by_confidence_engine_only``, by the engine's score before the learned linker's probability
for the answer's link entered it). ``--only GROUP`` scores one dataset group alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pair_labels import DEFAULT_IRC, IRC_LABELS, Dataset, load_datasets
from harvest.errors import InputError
from harvest.learner import LabelledPair, PairClassifier
from harvest.linking import LinkerConfig
from harvest.model import PairedAnswer
from harvest.pairing import PairingConfig, pair_all

REAL_STYLE = ("discord_support", "telegram_forum", "irc_dev_heldout", *IRC_LABELS)


def half_of(dataset: str, question_id: str) -> int:
    """0 or 1: which half a question (and every pair of it) falls in, stably."""
    digest = hashlib.blake2b(f"{dataset}\0{question_id}".encode(), digest_size=2).digest()
    return digest[0] & 1


def judge(ds: Dataset, pair: PairedAnswer) -> bool:
    """True when ``pair`` matches a pair labelled good."""
    return any((pair.question_id, a) in ds.good for a in pair.answer_ids)


def score(
    ds: Dataset, pairs: Iterable[PairedAnswer], keep: int | None = None
) -> dict[str, float | int]:
    """Counts (and P/R/F1) of ``pairs`` against ``ds``; ``keep``: only that half."""
    correct = predicted = 0
    found: set[tuple[str, str]] = set()
    for p in pairs:
        if not ds.in_scope(p.question_id) or (
            keep is not None and half_of(ds.name, p.question_id) != keep
        ):
            continue
        predicted += 1
        hits = {(p.question_id, a) for a in p.answer_ids} & ds.good
        if hits:
            correct += 1
            found |= hits
    gold = {g for g in ds.good if keep is None or half_of(ds.name, g[0]) == keep}
    gold_units = ds.answer_units(gold)
    return prf(correct, predicted, len(found & gold), len(gold)) | answer_recall(
        len(ds.answer_units(found & gold) & gold_units), len(gold_units)
    )


def answer_recall(recalled: int, gold: int) -> dict[str, float | int]:
    """Recall counted once per (asker, answer message) instead of once per labelled pair."""
    return {
        "answer_recall": round(recalled / gold, 4) if gold else 0.0,
        "answers_recalled": recalled,
        "answers_gold": gold,
    }


def prf(correct: int, predicted: int, recalled: int, gold: int) -> dict[str, float | int]:
    """Precision over predictions, recall over gold pairs, F1."""
    p = correct / predicted if predicted else 0.0
    r = recalled / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "correct": correct,
        "predicted": predicted,
        "recalled": recalled,
        "gold": gold,
    }


def add(total: dict[str, float | int], part: dict[str, float | int]) -> dict[str, float | int]:
    """Sum counts and recompute the ratios."""
    keys = ("correct", "predicted", "recalled", "gold")
    counts = [int(total.get(k, 0)) + int(part[k]) for k in keys]
    if "answers_gold" not in part:
        return prf(*counts)
    units = [int(total.get(k, 0)) + int(part[k]) for k in ("answers_recalled", "answers_gold")]
    return prf(*counts) | answer_recall(*units)


def failures(ds: Dataset, pairs: Iterable[PairedAnswer]) -> dict[str, int]:
    """How many predicted pairs hit a labelled-bad pair, by failure class."""
    out: dict[str, int] = {}
    for p in pairs:
        for a in p.answer_ids:
            cls = ds.bad.get((p.question_id, a))
            if cls is not None and not judge(ds, p):
                out[cls] = out.get(cls, 0) + 1
                break
    return out


def systems() -> dict[str, PairingConfig]:
    """The systems compared: the pairer without the precision rules, with them, and with
    them plus the learned reply linker instead of the rule linker (as the engine runs it:
    the rules' link stands where the model is unsure of another; and the model alone)."""
    return {
        "baseline": PairingConfig(precision=False),
        "rules": PairingConfig(),
        "rules_learned_linking": PairingConfig(learned_linking=True),
        "rules_learned_linking_model_alone": PairingConfig(
            learned_linking=True, linker=LinkerConfig(learned_min_confidence=0.0)
        ),
    }


def labelled(ds: Dataset, pair: PairedAnswer, decided: bool) -> LabelledPair:
    """``pair`` as the learner sees it; with the moderator's (the label's) decision."""
    return LabelledPair(
        pair.question_text,
        pair.answer_text,
        pair.method,
        pair.score,
        len(pair.answer_ids),
        judge(ds, pair) if decided else None,
    )


def learned(
    datasets: list[Dataset],
    predictions: dict[str, list[PairedAnswer]],
    decisions: int | None,
    seed: int = 7,
    community: Callable[[Dataset], str] | None = None,
) -> tuple[dict[str, dict[str, float | int]], int]:
    """Per community: fit on ``decisions`` moderator decisions (half 0), score half 1.

    Each dataset group (or what ``community`` names) is one community with its own
    classifier. Returns the per-group
    counts of the pairs kept (confidence >= 0.5) on half 1 and the decisions used in all.
    A community with fewer than two outcomes among its decisions learns nothing: all kept.
    """
    out: dict[str, dict[str, float | int]] = {}
    used = 0
    of = community or group_name
    for name in sorted({of(ds) for ds in datasets}):
        members = [ds for ds in datasets if of(ds) == name]
        pool = [
            labelled(ds, p, True)
            for ds in members
            for p in predictions[ds.name]
            if ds.in_scope(p.question_id) and half_of(ds.name, p.question_id) == 0
        ]
        random.Random(seed).shuffle(pool)
        train = pool if decisions is None else pool[:decisions]
        used += len(train)
        try:
            clf: PairClassifier | None = PairClassifier.fit(train)
        except InputError:
            clf = None
        for ds in members:
            pairs = [p for p in predictions[ds.name] if half_of(ds.name, p.question_id) == 1]
            if clf is not None and pairs:
                conf = clf.confidences([labelled(ds, p, False) for p in pairs])
                pairs = [p for p, c in zip(pairs, conf, strict=True) if c >= 0.5]
            group = group_name(ds)
            out[group] = add(out.get(group, {}), score(ds, pairs, keep=1))
    return out, used


CONFIDENCE_CUTS = (0.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def confidence_of(pair: PairedAnswer, engine_only: bool = False) -> float:
    """The pair's confidence; ``engine_only``: the engine's score before the learned
    linker's probability for the answer's link entered it (``engine_confidence``)."""
    conf = pair.confidence
    own = dict(conf.signals).get("engine_confidence") if conf and engine_only else None
    return own if isinstance(own, float) else conf.value if conf is not None else 0.0


def by_confidence(
    datasets: list[Dataset], predictions: dict[str, list[PairedAnswer]], engine_only: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Counts of the pairs of at least each confidence, on IRC and all real-style chats
    (``engine_only``: by the engine's score without the link probability)."""
    out: dict[str, list[dict[str, Any]]] = {"irc": [], "real_style": []}
    for cut in CONFIDENCE_CUTS:
        per: dict[str, dict[str, float | int]] = {}
        for ds in datasets:
            kept = [p for p in predictions[ds.name] if confidence_of(p, engine_only) >= cut]
            group = group_name(ds)
            per[group] = add(per.get(group, {}), score(ds, kept))
        irc = [g for g in per if g.startswith("irc_")]
        out["irc"].append({"min_confidence": cut, **summed(per, irc)})
        out["real_style"].append({"min_confidence": cut, **summed(per, REAL_STYLE)})
    return out


def summed(per: dict[str, dict[str, float | int]], names: Iterable[str]) -> dict[str, float | int]:
    """The counts of ``names`` in ``per`` added up."""
    total: dict[str, float | int] = {}
    for name in names:
        if name in per:
            total = add(total, per[name])
    return total


def community_of(ds: Dataset) -> str:
    """The demo group, or the support chats taken as one community."""
    return "demo_export" if ds.name == "demo_export" else "support_chats"


def group_name(ds: Dataset) -> str:
    """The dataset name a log's figures are summed under."""
    return ds.name.split(":", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--irc-data", default=os.environ.get("FANQA_IRC_DATA", DEFAULT_IRC))
    parser.add_argument("--only", action="append", help="score only this dataset group")
    args = parser.parse_args(argv)
    skipped: list[str] = []
    datasets = load_datasets(Path(args.irc_data), skipped)
    if skipped:
        print(
            f"{len(skipped)} labelled IRC region(s) left out: their logs are not under"
            f" {args.irc_data} (set --irc-data or FANQA_IRC_DATA to"
            " ../shared/realdata/ubuntu-irc-dev)",
            file=sys.stderr,
        )
    if args.only:
        datasets = [ds for ds in datasets if group_name(ds) in args.only]
    report: dict[str, Any] = {"labels": {}, "systems": {}}
    if skipped:
        report["skipped_irc_logs"] = {"data": str(args.irc_data), "logs": skipped}
    predictions: dict[str, dict[str, list[PairedAnswer]]] = {}
    for system, config in systems().items():
        per: dict[str, dict[str, float | int]] = {}
        fails: dict[str, dict[str, int]] = {}
        overall: dict[str, float | int] = {}
        real: dict[str, float | int] = {}
        for ds in datasets:
            pairs = pair_all(ds.messages, config, ds.roles)
            predictions.setdefault(system, {})[ds.name] = pairs
            result = score(ds, pairs)
            group = group_name(ds)
            per[group] = add(per.get(group, {}), result)
            for cls, n in failures(ds, pairs).items():
                fails.setdefault(group, {})[cls] = fails.get(group, {}).get(cls, 0) + n
            overall = add(overall, result)
            if group in REAL_STYLE:
                real = add(real, result)
        report["systems"][system] = {
            "overall": overall,
            "real_style": real,
            "per_dataset": per,
            "labelled_failures_produced": fails,
        }
    for ds in datasets:
        group = group_name(ds)
        counts = report["labels"].setdefault(group, {"good": 0, "bad": 0})
        counts["good"] += len(ds.good)
        counts["bad"] += len(ds.bad)
    report["labels"]["total"] = sum(c["good"] + c["bad"] for c in report["labels"].values())
    learned_pairs = predictions["rules_learned_linking"]
    report["by_confidence"] = by_confidence(datasets, learned_pairs)
    report["by_confidence_engine_only"] = by_confidence(datasets, learned_pairs, True)
    # Learning from moderators: half of the questions' pairs are decided, the rest scored.
    groups = sorted({group_name(ds) for ds in datasets})
    halves: dict[str, Any] = {}
    for candidates in ("rules", "baseline"):
        per, used = learned(datasets, predictions[candidates], None)
        rules_half = {}
        for ds in datasets:
            g = group_name(ds)
            rules_half[g] = add(
                rules_half.get(g, {}), score(ds, predictions[candidates][ds.name], keep=1)
            )
        halves[f"learned_on_{candidates}_candidates"] = {
            "decisions": used,
            "eval_half": {
                "overall": summed(per, groups),
                "real_style": summed(per, REAL_STYLE),
                "per_dataset": per,
            },
            "candidates_alone_on_eval_half": {
                "overall": summed(rules_half, groups),
                "real_style": summed(rules_half, REAL_STYLE),
            },
        }
    report["learning_from_half"] = halves
    # The curve: two communities, the demo group and the support chats (Discord, Telegram
    # forum, IRC) pooled; N decisions each, evaluated on the other half of the questions.
    curve: dict[str, list[dict[str, Any]]] = {"demo_export": [], "support_chats": []}
    for n in (0, 25, 50, 100):
        for name, members in (("demo_export", ["demo_export"]), ("support_chats", REAL_STYLE)):
            only = [ds for ds in datasets if community_of(ds) == name]
            per, used = learned(only, predictions["rules"], n, community=community_of)
            curve[name].append({"decisions": used, **summed(per, members)})
    report["learning_curve"] = curve
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
