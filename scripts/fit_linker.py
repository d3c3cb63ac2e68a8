"""Fit the learned reply linker on Ubuntu IRC (train split), choose C on dev; write the model.

    python scripts/fit_linker.py [--train DIR] [--dev DIR] [--out harvest/data/reply_model.json]

The training split of Kummerfeld et al., "A Large-Scale Corpus for Conversation
Disentanglement" (ACL 2019; CC BY 4.0) gives one row per (message, candidate parent);
scikit-learn's logistic regression is fitted on it (far negatives subsampled, seeded).
The regularisation strength is picked by reply-link F1 on the dev split, which is never
fitted on. Prints a JSON summary; the model file keeps the attribution and the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.irc_linking import read_links, read_log, score
from harvest.linking import LinkerConfig
from harvest.reply_model import FEATURES, LearnedLinker, ReplyModel

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/realdata")
WINDOW = 40
NEAR = 10  # candidates this close are all kept; farther negatives are sampled
FAR_KEEP = 0.25
SOURCE = {
    "corpus": "Ubuntu IRC disentanglement corpus, train split",
    "paper": "Kummerfeld et al., A Large-Scale Corpus for Conversation Disentanglement, ACL 2019",
    "repository": "github.com/jkkummerfeld/irc-disentanglement",
    "commit": "82ed04f9627a45d0d6f2ec3c8683c88eb408a0d5",
    "licence": "CC BY 4.0",
}


def logs(folder: Path) -> list[tuple[str, Path, Path]]:
    """(name, raw, annotation) of every annotated log in ``folder``."""
    out = []
    for raw in sorted(folder.glob("*.raw.txt")):
        name = raw.name.removesuffix(".raw.txt")
        ann = raw.with_name(f"{name}.annotation.txt")
        if ann.exists():
            out.append((name, raw, ann))
    return out


def rows(folder: Path, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of every annotated child message in ``folder``."""
    rng = random.Random(seed)
    zero = ReplyModel((0.0,) * len(FEATURES), window=WINDOW)
    xs: list[list[float]] = []
    ys: list[int] = []
    for _name, raw, ann in logs(folder):
        gold = read_links(ann)
        first = min(c for _, c in gold)
        parents: dict[int, set[int]] = {}
        for p, c in gold:
            parents.setdefault(c, set()).add(p)
        linker = LearnedLinker(LinkerConfig(), model=zero)
        for msg in read_log(raw):
            if msg.is_service:
                linker.feed(msg)
                continue
            ids, feats = linker.rows_for(msg, msg.sent_at.timestamp())
            child = int(msg.message_id)
            if child < first or child not in parents:
                continue
            want = parents[child]
            labels = [
                int(child in want) if cid is None else int(int(cid) in want and int(cid) != child)
                for cid in ids
            ]
            if not any(labels):
                continue  # the parent is out of reach (too far back or a service line)
            for i, (label, row) in enumerate(zip(labels, feats, strict=True)):
                if label or i <= NEAR or rng.random() < FAR_KEEP:
                    xs.append(row)
                    ys.append(label)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.int8)


def evaluate(folder: Path, model: ReplyModel) -> dict[str, float | int]:
    """Reply-link precision / recall / F1 of ``model`` over ``folder`` (self links excluded)."""
    hit = predicted = gold_total = 0
    for _name, raw, ann in logs(folder):
        gold = read_links(ann)
        first = min(c for _, c in gold)
        linker = LearnedLinker(LinkerConfig(), model=model)
        links = set()
        for msg in read_log(raw):
            parent = linker.feed(msg)
            if parent is not None and parent != msg.message_id:
                links.add((int(parent), int(msg.message_id)))
        result = score(links, gold, first)
        hit += int(result["correct"])
        predicted += int(result["predicted"])
        gold_total += int(result["gold"])
    p = hit / predicted if predicted else 0.0
    r = hit / gold_total if gold_total else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "gold": gold_total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DATA / "ubuntu-irc-train")
    parser.add_argument("--dev", type=Path, default=DATA / "ubuntu-irc-dev")
    parser.add_argument("--out", type=Path, default=ROOT / "harvest" / "data" / "reply_model.json")
    parser.add_argument("--c", type=float, nargs="*", default=[0.1, 1.0, 10.0])
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    x, y = rows(args.train, args.seed)
    built = time.perf_counter() - started
    trials = []
    best: tuple[float, ReplyModel] | None = None
    for c in args.c:
        clf = LogisticRegression(C=c, max_iter=2000)
        clf.fit(x, y)
        model = ReplyModel(tuple(float(w) for w in clf.coef_[0]), float(clf.intercept_[0]), WINDOW)
        dev = evaluate(args.dev, model)
        trials.append({"C": c, "dev": dev})
        if best is None or float(dev["f1"]) > best[0]:
            best = (float(dev["f1"]), model)
    assert best is not None
    chosen = next(t for t in trials if t["dev"]["f1"] == best[0])
    meta = {
        "trained_on": SOURCE,
        "training_rows": len(y),
        "training_positives": int(y.sum()),
        "logs": len(logs(args.train)),
        "C": chosen["C"],
        "dev_reply_link": chosen["dev"],
        "fitted_by": "scripts/fit_linker.py",
    }
    model = ReplyModel(best[1].weights, best[1].bias, WINDOW, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model.to_json(), encoding="utf-8")
    summary = {
        "rows": len(y),
        "positives": int(y.sum()),
        "seconds_building_rows": round(built, 1),
        "seconds_total": round(time.perf_counter() - started, 1),
        "trials": trials,
        "written": str(args.out),
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
