"""Answer latency of ``fanqa ask`` with a live model: p50/p95, against reloading per question.

A fresh SQLite database gets a community with ``--pairs`` approved bilingual pairs (retrieval
runs over them) and a live model version: the base model plus a LoRA adapter. Then

- ``ours``: ``bot.answering.answer`` in one process, the merged model loaded once and
  cached (what ``fanqa run`` and ``fanqa chat`` do); the first, cold answer is reported apart;
- ``baseline``: the same calls with the model cache cleared before each question, i.e. load
  the weights and merge the adapter per question (what a naive bot or a one-shot script does);
- ``cli``: wall time of whole ``fanqa ask`` processes (interpreter start, imports, model load,
  answer), for reference.

Prints JSON. ``--preset qwen0.5b-shape --device cuda`` uses a random-init Qwen2.5-0.5B-shaped
model (as the GPU training benchmark does); ``--model PATH`` any local model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.train_throughput import _model_dir, synthetic_pairs  # noqa: E402

QUESTIONS = [
    "How is the fee charged?",
    "When does the redemption arrive?",
    "手续费怎么收？",
    "赎回多久到账？",
    "Where do I find the tax form?",
    "账户里的对账单在哪里看？",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_pct(values, 0.50), 2),
        "p95_ms": round(_pct(values, 0.95), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def _make_adapter(base: str, out: Path) -> str:
    """A LoRA adapter on ``base`` (random A, zero B: the shape and cost of a trained one)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base)
    lora = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
    get_peft_model(model, lora).save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return str(out)


def _setup(db_url: str, base: str, adapter: str, n_pairs: int) -> int:
    from storage import make_engine, upgrade
    from storage.db import session_scope
    from storage.models import ModelVersion, PairStatus, QAPair
    from storage.repo import get_or_create_community
    from trainer.registry import promote

    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        cid = get_or_create_community(session, "bench", min_confidence=0.0).id or 0
        for i, example in enumerate(synthetic_pairs(n_pairs, seed=1)):
            _, user, assistant = example["messages"]
            session.add(
                QAPair(
                    community_id=cid,
                    source_key=f"bench:{i}",
                    question_text=user["content"],
                    answer_text=assistant["content"],
                    status=PairStatus.APPROVED,
                    content_hash=f"{i:064x}",
                )
            )
        model = ModelVersion(community_id=cid, base_model=base, adapter_path=adapter)
        session.add(model)
        session.flush()
        promote(session, model.id or 0)
    return cid


def _time_answers(
    db_url: str, cid: int, rounds: int, max_new_tokens: int, device: str | None, cold: bool
) -> tuple[list[float], float]:
    from bot.answering import answer
    from storage import make_engine
    from storage.db import session_scope
    from trainer.generation import local_generator_factory
    from trainer.inference import clear_cache

    engine = make_engine(db_url)
    factory = local_generator_factory(device)
    clear_cache()
    times = []
    first = 0.0
    for i in range(rounds * len(QUESTIONS) + 1):
        if cold:
            clear_cache()
        question = QUESTIONS[i % len(QUESTIONS)]
        started = time.perf_counter()
        with session_scope(engine) as session:
            answer(session, cid, question, generator_factory=factory, max_new_tokens=max_new_tokens)
        elapsed = (time.perf_counter() - started) * 1000.0
        if i == 0:
            first = elapsed
        else:
            times.append(elapsed)
    return times, first


def _time_cli(db_url: str, data_dir: Path, runs: int) -> list[float]:
    env = os.environ | {"FANQA_DATABASE_URL": db_url, "FANQA_DATA_DIR": str(data_dir)}
    times = []
    for i in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", QUESTIONS[i % len(QUESTIONS)], "-c", "bench"],
            env=env,
            check=True,
            capture_output=True,
        )
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=["tiny", "qwen0.5b-shape"], default="tiny")
    parser.add_argument("--model", help="a local path or hub id instead of a preset")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: auto)")
    parser.add_argument("--pairs", type=int, default=500, help="approved pairs to retrieve from")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--cli-runs", type=int, default=3, help="whole `fanqa ask` processes")
    ns = parser.parse_args(argv)
    import torch

    if (ns.device or "cpu") == "cpu":
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pairs = synthetic_pairs(200)
        base = _model_dir(ns.preset, ns.model, pairs, tmp)
        adapter = _make_adapter(base, tmp / "adapter")
        db_url = f"sqlite:///{tmp / 'bench.db'}"
        cid = _setup(db_url, base, adapter, ns.pairs)
        ours, first = _time_answers(db_url, cid, ns.rounds, ns.max_new_tokens, ns.device, False)
        naive, _ = _time_answers(
            db_url, cid, max(1, ns.rounds // 5), ns.max_new_tokens, ns.device, True
        )
        cli = _time_cli(db_url, tmp, ns.cli_runs) if ns.cli_runs else []
    result: dict[str, Any] = {
        "bench": "answer_latency",
        "model": ns.model or ns.preset,
        "device": ns.device or ("cuda" if torch.cuda.is_available() else "cpu"),
        "approved_pairs": ns.pairs,
        "max_new_tokens": ns.max_new_tokens,
        "questions": len(ours),
        "ours_cached_model": _summary(ours),
        "first_answer_cold_ms": round(first, 2),
        "baseline_reload_per_question": _summary(naive),
        "speedup_p50": round(_pct(naive, 0.5) / _pct(ours, 0.5), 2),
        "cli_fanqa_ask_process": _summary(cli) if cli else None,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


if __name__ == "__main__":
    main()
