"""Local fine-tuning backend: LoRA SFT through TRL + peft (torch imported on first use)."""

from trainer.local.sft import LocalTrainConfig, TrainResult, train_lora

__all__ = ["LocalTrainConfig", "TrainResult", "train_lora"]
