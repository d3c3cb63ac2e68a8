"""LoRA SFT through TRL's ``SFTTrainer`` with peft (``accelerate launch`` scales it).

The examples are tokenized by ``trainer.chat_format`` (the chat template, labels on the
assistant answers and their end-of-turn token, truncation that keeps the answer) and handed to
TRL pre-tokenized with a ``completion_mask``; TRL builds the answer-only labels
(``completion_only_loss``) and packs the examples padding-free (best-fit decreasing into as
many rows as ``batch_size`` examples make batches, positions restarting per example; the
default ``sdpa_packed`` attention, or FlashAttention, attends within each example from
``cu_seq_lens``, so no token attends across examples). On a CPU, TRL's fused LM head scores
the answer positions only (``answer_head``). TRL logs the answer-token accuracy and the real
tokens seen."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from harvest.errors import FanqaError, TrainingError
from trainer.chat_format import IGNORE_INDEX, TokenizedExample, tokenize_examples
from trainer.local.answer_head import use_answer_head
from trainer.local.callbacks import hf_types
from trainer.local.cpu_dropout import use_cpu_dropout
from trainer.local.packed_attention import PACKED_SDPA
from trainer.local.packed_attention import register as register_packed_sdpa
from trainer.metrics import (
    StepMetrics,
    eval_prediction_metrics,
    shifted_predictions,
)

__all__ = ["LocalTrainConfig", "TrainResult", "train_lora"]

Example = Mapping[str, Any]


@dataclass
class LocalTrainConfig:
    """Hyperparameters of a local LoRA run (see ``trainer.defaults`` for dataset-scaled values).

    ``batch_size`` examples per device and micro-step (about: TRL packs them into one row
    without padding); ``cpu_threads`` 1 suits tiny models on a shared CPU.
    ``gradient_checkpointing`` / ``bf16`` left as None switch on when CUDA is available.
    ``eval_steps`` None evaluates about ten times per run.
    """

    base_model: str
    epochs: float = 3.0
    learning_rate: float = 2e-4
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"
    modules_to_save: list[str] | None = None
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_len: int = 1024
    warmup_ratio: float = 0.03
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    gradient_checkpointing: bool | None = None
    bf16: bool | None = None
    attn_implementation: str = "sdpa_packed"  # SDPA per packed example (packed_attention.py)
    save_steps: int = 50
    save_total_limit: int = 2
    eval_steps: int | None = None
    device: str | None = None  # "cpu" forces the CPU; None: CUDA when available
    cpu_threads: int | None = None  # torch threads on CPU (1 is fastest for tiny models)
    extra: dict[str, Any] = field(default_factory=dict)  # more TrainingArguments

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LocalTrainConfig:
        """Build from a mapping, ignoring keys that are not fields (e.g. a profile's extras)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a finished run produced and how fast it went (tokens are real, non-padding tokens)."""

    adapter_dir: Path
    results_csv: Path
    steps: int
    epochs: float
    n_train: int
    n_valid: int
    n_truncated: int
    train_tokens: int
    label_tokens: int
    runtime_s: float
    tokens_per_second: float
    final: StepMetrics | None
    history: list[StepMetrics]
    cpu_s: float = 0.0  # this process's CPU time over the same span as runtime_s


def _precision(cfg: LocalTrainConfig) -> tuple[bool, bool]:
    """(use CUDA, use bf16) for this config on this machine."""
    import torch

    cuda = cfg.device != "cpu" and torch.cuda.is_available()
    bf16 = cuda and (cfg.bf16 if cfg.bf16 is not None else torch.cuda.is_bf16_supported())
    return cuda, bool(bf16)


def _load(cfg: LocalTrainConfig, use_cuda: bool, bf16: bool) -> tuple[Any, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if cfg.attn_implementation == PACKED_SDPA:
        register_packed_sdpa()
    model = AutoModelForCausalLM.from_pretrained(
        cfg.base_model,
        dtype=torch.bfloat16 if bf16 else torch.float32,
        attn_implementation=cfg.attn_implementation,
    )
    model.config.use_cache = False
    set_seed(cfg.seed)  # LoRA matrices are initialized here, before the Trainer seeds
    lora = LoraConfig(
        task_type="CAUSAL_LM",
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=cfg.target_modules,
        modules_to_save=cfg.modules_to_save,
    )
    return get_peft_model(model, lora), tokenizer


def _arguments(
    cfg: LocalTrainConfig,
    out: Path,
    *,
    has_valid: bool,
    steps: int,
    use_cuda: bool,
    bf16: bool,
    row_tokens: int,
    accumulate: int,
) -> Any:
    from trl.trainer.sft_config import SFTConfig

    checkpointing = use_cuda if cfg.gradient_checkpointing is None else cfg.gradient_checkpointing
    eval_steps = cfg.eval_steps or max(1, steps // 10)
    arguments: dict[str, Any] = dict(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=cfg.epochs,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        per_device_train_batch_size=1,  # one packed row per micro-step
        per_device_eval_batch_size=1,  # one example per row: per-answer metrics
        packing=True,
        packing_strategy="bfd",
        eval_packing=False,
        max_length=row_tokens,
        completion_only_loss=True,
        dataset_num_proc=None,
        gradient_accumulation_steps=accumulate,
        bf16=bf16,
        use_cpu=not use_cuda,
        seed=cfg.seed,
        logging_strategy="steps",
        logging_steps=1,
        eval_strategy="steps" if has_valid else "no",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,
        label_names=["labels"],
        dataloader_num_workers=0,
        **_checkpointing_arguments(checkpointing),
    )
    return SFTConfig(**{**arguments, **cfg.extra})


def _checkpointing_arguments(enabled: bool) -> dict[str, Any]:
    """Activation checkpointing on or off, under the name this transformers version uses
    (always explicit: TRL's SFTConfig would otherwise switch it on, slowing CPU runs)."""
    from trl.trainer.sft_config import SFTConfig

    names = {f.name for f in fields(SFTConfig)}
    name = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    if not enabled:
        return {name: False}
    return {name: True, f"{name}_kwargs": {"use_reentrant": False}}


def _row_tokens(examples: Sequence[TokenizedExample], batch_size: int) -> int:
    """How long a packed row is: the shortest for which TRL's best-fit decreasing packing
    (which cuts an example longer than the row, so never shorter than the longest) makes as
    many rows as ``batch_size`` examples a batch would make batches: ``batch_size`` examples
    per optimizer step on average, as a padded run. One row per micro-step: rows of a batch
    are flattened into one anyway, and on CPU fewer, longer steps measured faster than short
    rows accumulated (``bench/train_throughput.py``)."""
    from trl.data_utils import pack_dataset

    lengths = [len(e.input_ids) for e in examples] or [1]
    rows = -(-len(lengths) // batch_size)
    size = max(max(lengths), -(-sum(lengths) // rows))
    if rows == 1 or not examples:
        return size
    packable = _dataset(examples).select_columns(["input_ids"])
    while len(pack_dataset(packable, size, "bfd")) > rows:  # a few tries: 0.5 % at a time
        size += max(1, size // 200)
    return size


def _dataset(examples: Sequence[TokenizedExample]) -> Any:
    """Pre-tokenized rows for TRL: the ids and which of them are the answer (loss on those)."""
    from datasets import Dataset

    return Dataset.from_list(
        [
            {
                "input_ids": e.input_ids,
                "completion_mask": [int(label != IGNORE_INDEX) for label in e.labels],
            }
            for e in examples
        ]
    )


def _last_checkpoint(folder: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    if not folder.is_dir():
        return None
    return get_last_checkpoint(str(folder))  # type: ignore[no-untyped-call,no-any-return]


def train_lora(
    cfg: LocalTrainConfig,
    train_examples: Sequence[Example],
    valid_examples: Sequence[Example],
    out_dir: str | Path,
    *,
    on_step: Callable[[StepMetrics], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = False,
    on_start: Callable[[int], None] | None = None,
) -> TrainResult:
    """Fine-tune ``cfg.base_model`` with LoRA on chat examples; answer-only loss, packed batches.

    Writes ``out_dir/adapter`` (adapter + tokenizer), ``out_dir/checkpoints`` (every
    ``save_steps``), ``out_dir/results.csv`` (one row per step, appended as training goes)
    and ``out_dir/train_config.json``. ``on_start`` receives the number of optimizer steps
    (packing decides it, so it is known only here); ``on_step`` receives each row.
    ``should_stop`` is polled after every optimizer step: when it returns True a checkpoint is
    saved and TrainingError is raised ("cancelled"); ``resume=True`` then continues from the
    last checkpoint.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not train_examples:
        raise TrainingError("no training examples")
    try:
        return _train(
            cfg, train_examples, valid_examples, out, on_step, should_stop, resume, on_start
        )
    except FanqaError:
        raise
    except Exception as exc:  # any library failure becomes one error the worker can report
        raise TrainingError(f"local training failed: {type(exc).__name__}: {exc}") from exc


def _train(
    cfg: LocalTrainConfig,
    train_examples: Sequence[Example],
    valid_examples: Sequence[Example],
    out: Path,
    on_step: Callable[[StepMetrics], None] | None,
    should_stop: Callable[[], bool] | None,
    resume: bool,
    on_start: Callable[[int], None] | None = None,
) -> TrainResult:
    use_cuda, bf16 = _precision(cfg)
    if not use_cuda and cfg.cpu_threads:
        import torch

        torch.set_num_threads(cfg.cpu_threads)
    model, tokenizer = _load(cfg, use_cuda, bf16)
    train = tokenize_examples(tokenizer, train_examples, cfg.max_len, source="train")
    valid = tokenize_examples(tokenizer, valid_examples, cfg.max_len, source="valid")
    row_tokens = _row_tokens(train.examples, cfg.batch_size)
    accumulate = cfg.gradient_accumulation_steps
    rows = -(-train.n_tokens // row_tokens)
    steps = max(1, int(cfg.epochs * -(-rows // accumulate)))
    if on_start is not None:
        on_start(steps)
    args = _arguments(
        cfg,
        out,
        has_valid=bool(valid.examples),
        steps=steps,
        use_cuda=use_cuda,
        bf16=bf16,
        row_tokens=row_tokens,
        accumulate=accumulate,
    )
    checkpoint = _last_checkpoint(out / "checkpoints") if resume else None
    hf = hf_types()
    resume_step = int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None
    results = hf.Results(out / "results.csv", on_step=on_step, resume_step=resume_step)
    stopper = hf.Stop(should_stop)
    trainer = hf.Trainer(
        model=model,
        args=args,
        train_dataset=_dataset(train.examples),
        eval_dataset=_dataset(valid.examples) if valid.examples else None,
        processing_class=tokenizer,
        callbacks=[results, stopper],
        compute_metrics=eval_prediction_metrics,
        preprocess_logits_for_metrics=shifted_predictions,
    )
    use_answer_head(trainer.model.get_base_model())  # TRL's fused head, answers only, on CPU
    use_cpu_dropout(trainer.model)  # LoRA dropout masks from random integers, on CPU
    trainer.remove_callback(hf.Printer)  # rows go to results.csv / on_step, not stdout
    if trainer.is_world_process_zero():
        config_text = json.dumps(cfg.as_dict(), indent=2)
        (out / "train_config.json").write_text(config_text, encoding="utf-8")
    started, cpu_started = time.perf_counter(), time.process_time()
    # The Trainer starts with gc.collect() (accelerate's free_memory), which walks every object
    # the imports left (TRL, datasets, pandas: ≈0.2 s); frozen, they are skipped, here and by
    # the collections during training
    gc.freeze()
    try:
        output = trainer.train(resume_from_checkpoint=checkpoint)
    finally:
        gc.unfreeze()
    runtime, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    results.flush()
    if stopper.stopped:
        raise TrainingError(
            f"training cancelled at step {trainer.state.global_step}; a checkpoint was saved "
            f"and resume=True continues from it"
        )
    adapter = out / "adapter"
    trainer.save_model(str(adapter))  # the main process writes, the others wait
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(adapter))
    tokens = int(getattr(trainer, "_total_train_tokens", 0))  # TRL: real tokens trained on
    return TrainResult(
        adapter_dir=adapter,
        results_csv=out / "results.csv",
        steps=trainer.state.global_step,
        epochs=float(trainer.state.epoch or 0.0),
        n_train=len(train.examples),
        n_valid=len(valid.examples),
        n_truncated=train.n_truncated + valid.n_truncated,
        train_tokens=tokens,
        label_tokens=train.n_label_tokens,
        runtime_s=runtime,
        tokens_per_second=tokens / max(float(output.metrics.get("train_runtime", runtime)), 1e-9),
        final=results.last_with_valid(),
        history=results.history,
        cpu_s=cpu,
    )
