"""Fit the learned reply linker on Ubuntu IRC (train split), tune on dev; write the model.

    python scripts/fit_linker.py [--train DIR] [--dev DIR] [--out harvest/data/reply_model.json]
        [--members 5] [--hidden 64] [--epochs 6] [--logs-fraction 1.0] [--seed 13]

The training split of Kummerfeld et al., "A Large-Scale Corpus for Conversation
Disentanglement" (ACL 2019; CC BY 4.0) gives, for every annotated message, its candidate
parents (itself and the previous ``window`` messages) with one feature row each
(:mod:`harvest.reply_features`, the code the live linker runs). A one-hidden-layer network
(torch, CPU) is trained so that a softmax over each message's candidates puts its mass on
the annotated parents; the earlier messages' links the features use are the annotated ones
in the first round, and the model's own choices in the second round, as when it runs
live. Several seeds make an ensemble. Only the "starts something new" bias is chosen on
the dev split (by the mean of its reply-link and all-link F1); dev is never fitted on.
Prints a JSON summary; the model file keeps the attribution, settings and dev figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from bench.irc_linking import LinkTotals, read_links, read_log
from harvest.linking import ImplicitLinker, LinkerConfig
from harvest.reply_features import FEATURES, ReplyFeatures, Seen
from harvest.reply_model import LearnedLinker, Network, ReplyModel

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/realdata")
WINDOW = 80
BIASES = (-0.5, -0.25, 0.0, 0.25, 0.5, 1.0)
SOURCE = {
    "corpus": "Ubuntu IRC disentanglement corpus, train split",
    "paper": "Kummerfeld et al., A Large-Scale Corpus for Conversation Disentanglement, ACL 2019",
    "repository": "github.com/jkkummerfeld/irc-disentanglement",
    "commit": "82ed04f9627a45d0d6f2ec3c8683c88eb408a0d5",
    "licence": "CC BY 4.0",
}
Scorer = Callable[[np.ndarray], np.ndarray]


def logs(folder: Path) -> list[tuple[str, Path, Path]]:
    """(name, raw, annotation) of every annotated log in ``folder``."""
    out = []
    for raw in sorted(folder.glob("*.raw.txt")):
        name = raw.name.removesuffix(".raw.txt")
        ann = raw.with_name(f"{name}.annotation.txt")
        if ann.exists():
            out.append((name, raw, ann))
    return out


def candidates(raw: Path, ann: Path, scorer: Scorer | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, labels) of every annotated message of one log whose parent is in reach.

    Earlier messages are linked to their annotated parent (``scorer`` None) or to the
    candidate ``scorer`` ranks first, as the live linker does.
    """
    parents: dict[int, set[int]] = {}
    for p, c in read_links(ann):
        parents.setdefault(c, set()).add(p)
    first = min(parents)
    rule = ImplicitLinker(LinkerConfig())
    feats = ReplyFeatures(WINDOW)
    out = []
    for msg in read_log(raw):
        at = msg.sent_at.timestamp()
        guess = rule.feed_at(msg, at)
        if msg.is_service:
            continue
        me = feats.see(msg.message_id, msg.author_id, msg.author_name, msg.text, at)
        cands, rows = feats.rows(me, guess, rule.last_reason)
        child = int(msg.message_id)
        want = parents.get(child, set())
        ids = [child if s is None else int(s.message_id) for s in cands]
        labels = np.array([i in want for i in ids], dtype=bool)
        if child >= first and labels.any():
            out.append((np.ascontiguousarray(rows, dtype=np.float16), labels))
        chosen: Seen | None
        if scorer is None:
            chosen = next((s for s, hit in zip(cands, labels, strict=True) if hit), None)
        else:
            chosen = cands[int(np.argmax(scorer(rows)))]
        feats.commit(me, chosen)
    return out


def dataset(
    folder: Path, fraction: float, seed: int, scorer: Scorer | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded rows [messages, candidates, features], validity and label masks."""
    chosen = logs(folder)
    random.Random(seed).shuffle(chosen)
    chosen = sorted(chosen[: max(1, round(len(chosen) * fraction))])
    items = [q for _name, raw, ann in chosen for q in candidates(raw, ann, scorer)]
    k = max(len(labels) for _, labels in items)
    x = np.zeros((len(items), k, len(FEATURES)), dtype=np.float16)
    valid = np.zeros((len(items), k), dtype=bool)
    y = np.zeros((len(items), k), dtype=bool)
    for i, (rows, labels) in enumerate(items):
        x[i, : len(labels)] = rows
        valid[i, : len(labels)] = True
        y[i, : len(labels)] = labels
    return x, valid, y


class Ranker(torch.nn.Module):
    """score = w2 · tanh(W1 · (x - mean) / scale + b1) + b2, as :class:`Network` scores."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.hidden = torch.nn.Linear(len(mean), hidden)
        self.out = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.hidden((x.float() - self.mean) / self.scale))
        return self.out(h).squeeze(-1)

    def network(self) -> Network:
        w1 = self.hidden.weight.detach().double()
        return Network(
            tuple(self.mean.double().tolist()),
            tuple(self.scale.double().tolist()),
            tuple(tuple(row) for row in w1.tolist()),
            tuple(self.hidden.bias.detach().double().tolist()),
            tuple(self.out.weight.detach().double()[0].tolist()),
            float(self.out.bias.detach()[0]),
        )


def train(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], hidden: int, epochs: int, seed: int
) -> Ranker:
    """One ranker: softmax over each message's candidates, cross-entropy on the gold ones."""
    x, valid, y = data
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    sample = x[valid][::5].astype(np.float32)
    model = Ranker(sample.mean(0), np.maximum(sample.std(0), 1e-2), hidden)
    lr = 2e-3
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-6)
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        order = rng.permutation(len(x))
        for start in range(0, len(x), 256):
            batch = np.sort(order[start : start + 256])
            mask = torch.from_numpy(valid[batch])
            gold = torch.from_numpy(y[batch])
            s = model(torch.from_numpy(x[batch])).masked_fill(~mask, -1e9)
            loss = (torch.logsumexp(s, 1) - torch.logsumexp(s.masked_fill(~gold, -1e9), 1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def evaluate(folder: Path, model: ReplyModel) -> dict[str, dict[str, float | int]]:
    """Reply-link and all-link (the paper's) figures of ``model``'s own choices."""
    totals = LinkTotals()
    for _name, raw, ann in logs(folder):
        gold = read_links(ann)
        first = min(c for _, c in gold)
        linker = LearnedLinker(LinkerConfig(), model=model, min_confidence=0.0)
        parents: dict[int, int] = {}
        for msg in read_log(raw):
            parent = linker.feed(msg)
            child = int(msg.message_id)
            parents[child] = child if parent is None else int(parent)
        totals.add(parents, gold, first)
    return totals.results()


def progress(*parts: object) -> None:
    """A line on stderr (the summary goes to stdout)."""
    print(*parts, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DATA / "ubuntu-irc-train")
    parser.add_argument("--dev", type=Path, default=DATA / "ubuntu-irc-dev")
    parser.add_argument("--out", type=Path, default=ROOT / "harvest" / "data" / "reply_model.json")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, choices=(1, 2), default=2)
    parser.add_argument("--logs-fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    summary: dict[str, object] = {"rounds": []}
    scorer: Scorer | None = None
    nets: list[Network] = []
    rows = 0
    for round_no in range(1, args.rounds + 1):
        data = dataset(args.train, args.logs_fraction, args.seed, scorer)
        rows = int(data[1].sum())
        progress(f"round {round_no}: {len(data[0])} messages, {rows} candidate rows")
        nets = []
        for i in range(args.members):
            nets.append(train(data, args.hidden, args.epochs, args.seed + i).network())
            progress(f"  network {i + 1}/{args.members} trained")
        del data
        model = ReplyModel(tuple(nets), WINDOW)
        dev = evaluate(args.dev, model)
        progress(f"  dev: {json.dumps(dev)}")
        summary["rounds"].append({"round": round_no, "dev": dev})  # type: ignore[attr-defined]
        scorer = model.log_probs
    trials = []
    best: tuple[float, ReplyModel, dict[str, dict[str, float | int]]] | None = None
    for bias in BIASES:
        model = ReplyModel(tuple(nets), WINDOW, bias)
        dev = evaluate(args.dev, model)
        trials.append({"self_bias": bias, "dev": dev})
        progress(f"self_bias {bias}: {json.dumps(dev)}")
        f1 = (float(dev["reply_links"]["f1"]) + float(dev["all_links"]["f1"])) / 2
        if best is None or f1 > best[0]:
            best = (f1, model, dev)
    assert best is not None
    _, chosen, dev = best
    meta = {
        "trained_on": SOURCE,
        "logs": round(len(logs(args.train)) * args.logs_fraction),
        "candidate_rows": rows,
        "members": args.members,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "rounds": args.rounds,
        "self_bias_chosen_on": "dev, mean of the reply-link and all-link F1",
        "dev": dev,
        "fitted_by": "scripts/fit_linker.py",
        "torch": torch.__version__,
    }
    model = ReplyModel(chosen.members, WINDOW, chosen.self_bias, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(model.to_json(), encoding="utf-8")
    summary |= {
        "bias_trials": trials,
        "chosen_self_bias": chosen.self_bias,
        "bytes": model.size_bytes,
        "seconds": round(time.perf_counter() - started, 1),
        "written": str(args.out),
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
