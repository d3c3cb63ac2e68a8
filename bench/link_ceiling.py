"""What perfect reply links would buy the pairs on IRC: the labels against the annotations; JSON.

The IRC dev logs carry two kinds of human judgement: the corpus annotators' reply links
(``NAME.annotation.txt``) and fanqa's pair labels (``bench/labels``: is this a question and
this message its answer). This compares them, on the labelled line ranges:

- ``labels_vs_links``: how many good pairs' answers the annotators linked to the question
  line itself, or to any earlier message of the asker, and how many bad pairs are such a
  link (a reply that is no answer: a clarifying question, thanks, a rebuke …);
- ``engine`` (rules + learned linking, as the engine runs it) against the labels as they
  stand, and ``kept_if_linked``: only its pairs whose answer the annotators linked to the
  question line, a filter no linker can beat (it knows the annotators' links). If that
  filter is far from the goal (precision 0.90 at recall 0.80), reply linking alone cannot
  close the gap; what is left is telling answers from replies.

    .venv/bin/python bench/link_ceiling.py [--irc-data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.irc_linking import read_links
from bench.pair_labels import DEFAULT_IRC, Dataset, load_datasets
from bench.pair_quality import add, score
from harvest.model import PairedAnswer
from harvest.pairing import PairingConfig, pair_all

Parents = dict[int, set[int]]


def parents_of(path: Path) -> Parents:
    """Child line → the lines the annotators linked it to."""
    out: Parents = {}
    for parent, child in read_links(path):
        out.setdefault(child, set()).add(parent)
    return out


def linked(pair: PairedAnswer, parents: Parents) -> bool:
    """True when an answer message of ``pair`` is annotated as a reply to its question."""
    question = int(pair.question_id)
    return any(question in parents.get(int(a), ()) for a in pair.answer_ids)


def compare(ds: Dataset, parents: Parents) -> dict[str, int]:
    """Counts of the labels that agree with the annotators' links."""
    asker_of = {int(m.message_id): m.author_id for m in ds.messages}
    good_to_question = good_to_asker = bad_linked = 0
    for q, a in ds.good:
        up = parents.get(int(a), set())
        good_to_question += int(q) in up
        good_to_asker += any(asker_of.get(p) == ds.authors[q] for p in up)
    for q, a in ds.bad:
        bad_linked += int(q) in parents.get(int(a), set())
    return {
        "good_labels": len(ds.good),
        "good_answer_linked_to_question_line": good_to_question,
        "good_answer_linked_to_an_asker_message": good_to_asker,
        "bad_labels": len(ds.bad),
        "bad_answer_linked_to_question_line": bad_linked,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--irc-data", default=os.environ.get("FANQA_IRC_DATA", DEFAULT_IRC))
    args = parser.parse_args(argv)
    data = Path(args.irc_data)
    counts: dict[str, int] = {}
    engine: dict[str, float | int] = {}
    kept: dict[str, float | int] = {}
    for ds in load_datasets(data):
        if not ds.name.startswith("irc_"):
            continue
        annotation = data / f"{ds.name.split(':', 1)[1]}.annotation.txt"
        if not annotation.exists():
            continue
        parents = parents_of(annotation)
        for key, n in compare(ds, parents).items():
            counts[key] = counts.get(key, 0) + n
        pairs = pair_all(ds.messages, PairingConfig(learned_linking=True), ds.roles)
        engine = add(engine, score(ds, pairs))
        kept = add(kept, score(ds, [p for p in pairs if linked(p, parents)]))
    if not counts:
        print(
            json.dumps(
                {"error": f"no annotated IRC logs under {data} (set --irc-data or FANQA_IRC_DATA)"}
            )
        )
        return 2
    report: dict[str, Any] = {
        "bench": "link_ceiling",
        "labels_vs_links": counts,
        "engine": engine,
        "kept_if_linked": kept,
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
