"""Real (non-padding) training tokens/s: fanqa's TRL SFTTrainer (packed) vs naive padding.

Both runs use the same model, data, LoRA settings, batch size and epochs in the same process.
The baseline is the textbook HF recipe: the whole chat text as labels, padding to the longest
example of each batch (``DataCollatorForLanguageModeling``), HF ``Trainer``. Prints JSON.

    python bench/train_throughput.py                       # tiny random-init Llama, CPU
    python bench/train_throughput.py --preset qwen0.5b-shape --device cuda
    python bench/train_throughput.py --model /path/or/hub-id --pairs 2000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.chat_format import render, tokenize_examples
from trainer.local.sft import LocalTrainConfig, train_lora

_EN = [
    "fee",
    "redemption",
    "password",
    "dividend",
    "statement",
    "bank card",
    "tax form",
    "app update",
    "login code",
    "transfer limit",
    "risk level",
    "fund switch",
]
_ZH = [
    "管理费",
    "赎回",
    "密码",
    "分红",
    "对账单",
    "银行卡",
    "税表",
    "应用更新",
    "验证码",
    "转账限额",
    "风险等级",
    "基金转换",
]
_EN_Q = [
    "How does the {k} work?",
    "Quick question about the {k}, anyone?",
    "Where do I find the {k}?",
    "Can someone explain the {k} to me, I read the FAQ twice and still do not get it?",
]
_ZH_Q = [
    "{k}怎么弄？",
    "请问{k}在哪里看？",
    "有人知道{k}的规则吗？",
    "关于{k}，我看了好几遍说明还是不懂，谁能讲讲？",
]
_EN_A = [
    "Open Settings, then {k}.",
    "The {k} is explained in the pinned message; in short it is "
    "handled monthly, shown in your account, and support can help if anything looks wrong.",
]
_ZH_A = [
    "在设置里找{k}。",
    "{k}的说明在置顶消息里：每月处理一次，账户里能看到，有问题可以联系客服，"
    "客服工作日九点到六点在线。",
]


def synthetic_pairs(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` bilingual chat examples of widely varying length (what makes padding costly)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        zh = i % 2 == 1
        key = rng.choice(_ZH if zh else _EN)
        question = rng.choice(_ZH_Q if zh else _EN_Q).format(k=key)
        answer = " ".join(
            rng.choice(_ZH_A if zh else _EN_A).format(k=key) for _ in range(rng.randint(1, 4))
        )
        out.append(
            {
                "messages": [
                    {"role": "system", "content": "You help the FanFund group."},
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer},
                ]
            }
        )
    return out


def _texts(pairs: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for p in pairs for m in p["messages"]]


def _model_dir(preset: str, model: str | None, pairs: list[dict[str, Any]], tmp: Path) -> str:
    from trainer.tiny import init_tiny_model

    if model:
        return model
    path = init_tiny_model(tmp / "tiny", _texts(pairs), vocab_size=2000, hidden=64, layers=2)
    if preset == "tiny":
        return str(path)
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(path)
    config = Qwen2Config(
        vocab_size=151_936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32_768,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(tmp / "qwen")
    tokenizer.save_pretrained(tmp / "qwen")
    return str(tmp / "qwen")


def _naive(
    cfg: LocalTrainConfig, pairs: list[dict[str, Any]], out: Path, use_cpu: bool
) -> dict[str, Any]:
    """Textbook baseline: full-text labels, pad to the longest in the batch, default HF pieces."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
    )
    from transformers.trainer_callback import PrinterCallback

    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    rows = [
        tokenizer(
            render(tokenizer, p["messages"]),
            add_special_tokens=False,
            truncation=True,
            max_length=cfg.max_len,
        )
        for p in pairs
    ]
    dataset = [{"input_ids": r["input_ids"], "attention_mask": r["attention_mask"]} for r in rows]
    bf16 = not use_cpu and torch.cuda.is_bf16_supported()
    model: Any = AutoModelForCausalLM.from_pretrained(
        cfg.base_model,
        dtype=torch.bfloat16 if bf16 else torch.float32,
        attn_implementation="sdpa",  # the textbook kernel
    )
    model = get_peft_model(
        model,
        LoraConfig(
            task_type="CAUSAL_LM",
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules="all-linear",
        ),
    )
    args = TrainingArguments(
        output_dir=str(out),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        logging_steps=10,
        report_to=[],
        disable_tqdm=True,
        save_strategy="no",
        use_cpu=use_cpu,
        bf16=bf16,
        seed=cfg.seed,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
    )
    trainer.remove_callback(PrinterCallback)  # stdout carries the JSON only
    started, cpu_started = time.perf_counter(), time.process_time()
    trainer.train()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    real = sum(len(r["input_ids"]) for r in rows) * cfg.epochs
    padded = 0
    for lo in range(0, len(rows), cfg.batch_size):  # the default sampler shuffles; estimate
        batch = rows[lo : lo + cfg.batch_size]
        padded += max(len(r["input_ids"]) for r in batch) * len(batch)
    return {
        "real_tokens": int(real),
        "seconds": round(seconds, 3),
        "real_tokens_per_s": round(real / seconds, 1),
        "cpu_seconds": round(cpu, 3),
        "optimizer_steps": trainer.state.global_step,
        "padding_fraction_in_order": round(1 - real / cfg.epochs / padded, 3),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both trainers and print a JSON summary with the ratio ours / naive."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=["tiny", "qwen0.5b-shape"], default="tiny")
    parser.add_argument("--model", help="a local path or hub id instead of a preset")
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-len", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3, help="median of this many runs each")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads for both runs (0: torch's default; 1 is steadier on a shared CPU)",
    )
    ns = parser.parse_args(argv)
    if ns.threads:
        torch.set_num_threads(ns.threads)
    pairs = synthetic_pairs(ns.pairs)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = _model_dir(ns.preset, ns.model, pairs, tmp)
        cfg = LocalTrainConfig(
            base_model=base,
            epochs=ns.epochs,
            batch_size=ns.batch_size,
            max_len=ns.max_len,
            learning_rate=2e-4,
            lora_r=16,
            lora_alpha=32,
            device=ns.device,
            gradient_checkpointing=False,
            cpu_threads=ns.threads or None,
            extra={"save_strategy": "no"},
        )
        naives, ours_runs = [], []
        for i in range(ns.repeats):  # alternate, so load from other processes hits both alike
            naives.append(_naive(cfg, pairs, tmp / f"naive{i}", use_cpu=ns.device == "cpu"))
            ours_runs.append(train_lora(cfg, pairs, [], tmp / f"ours{i}"))
        naive = sorted(naives, key=lambda r: r["seconds"])[len(naives) // 2]
        ours = sorted(ours_runs, key=lambda r: r.runtime_s)[len(ours_runs) // 2]
        from transformers import AutoTokenizer

        data = tokenize_examples(AutoTokenizer.from_pretrained(base), pairs, cfg.max_len)
    result = {
        "device": ns.device if ns.device == "cpu" else torch.cuda.get_device_name(0),
        "model": ns.model or ns.preset,
        "pairs": ns.pairs,
        "epochs": ns.epochs,
        "batch_size": ns.batch_size,
        "mean_tokens_per_example": round(data.n_tokens / len(pairs), 1),
        "answer_token_share": round(data.n_label_tokens / data.n_tokens, 3),
        "repeats": ns.repeats,
        "torch_threads": torch.get_num_threads(),
        "ours": {
            "real_tokens": ours.train_tokens,
            "seconds": round(ours.runtime_s, 3),
            "real_tokens_per_s": round(ours.train_tokens / ours.runtime_s, 1),
            "cpu_seconds": round(ours.cpu_s, 3),
            "optimizer_steps": ours.steps,  # TRL packs ≈ batch_size examples' tokens per row
            "padding_tokens": 0,  # TRL packs padding-free: every trained token is real
        },
        "naive": naive,
    }
    result["ratio"] = round(result["ours"]["real_tokens_per_s"] / naive["real_tokens_per_s"], 3)
    # the same ratio from CPU seconds (median of each): steadier on a shared machine, where
    # other processes stretch the wall clock; with several threads it also counts their waits
    ours_cpu = statistics.median(r.cpu_s for r in ours_runs)
    naive_cpu = statistics.median(r["cpu_seconds"] for r in naives)
    result["ratio_cpu_time"] = round(
        ours.train_tokens / max(ours_cpu, 1e-9) / (naive["real_tokens"] / max(naive_cpu, 1e-9)), 3
    )
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
