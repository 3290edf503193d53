"""One config dataclass per algorithm, loaded from TOML, checked before any GPU time is spent.

GRPO and PPO are compared under one protocol (methodology.md): the same base model, tasks,
reward, sandbox and token budget, so the fields they share are defined once in `_RunConfig`.
Field comments are the documentation; defaults are sized for the small CPU model used in smoke
runs, not for a real study.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class _RunConfig:
    model: str = "SmolLM2-135M-Instruct"  # base model name or local path (never downloaded by default)
    tasks: str = "data/processed/mbpp.codeself.jsonl"  # canonical task file
    train_split: str = "train"  # practise only on this split (methodology: never test)
    reward: str = "reward_v0_correctness"  # name in codeself.rewards.REWARDS
    reward_config: str = "configs/rewards/reward_v0.toml"
    seed: int = 0  # data order, sampling and adapter initialisation
    learning_rate: float = 1e-5
    max_steps: int = 200  # optimiser steps; the comparison fixes this per study
    per_device_batch_size: int = 8  # completions per device per step
    max_completion_tokens: int = 512  # generation budget per completion
    temperature: float = 1.0  # sampling temperature during practice
    lora_rank: int = 16  # LoRA adapter rank (peft); 0 = full fine-tuning
    lora_alpha: int = 32
    sandbox: str = "auto"  # execution sandbox level: auto | namespaces | rlimits | bwrap
    output_dir: str = "outputs/train"

    def __post_init__(self) -> None:
        if self.train_split != "train":
            raise ValueError(
                f"train_split is {self.train_split!r}: practice must use the 'train' split only "
                "(validation selects models, test is locked); see methodology.md"
            )
        positive = ("learning_rate", "max_steps", "per_device_batch_size", "max_completion_tokens")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.lora_rank < 0:
            raise ValueError(f"lora_rank must be >= 0 (0 = full fine-tuning), got {self.lora_rank}")


@dataclass(frozen=True)
class GRPORunConfig(_RunConfig):
    num_generations: int = 8  # group size G: completions per prompt whose rewards are normalised together
    beta: float = 0.0  # KL coefficient against the reference model (0 = no reference model)
    epsilon: float = 0.2  # clipping range of the policy ratio
    scale_rewards: bool = True  # divide group advantages by the group's reward std

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_generations < 2:
            raise ValueError("num_generations must be >= 2: GRPO's advantage is relative to the group")
        if self.per_device_batch_size % self.num_generations:
            raise ValueError(
                f"per_device_batch_size ({self.per_device_batch_size}) must be a multiple of "
                f"num_generations ({self.num_generations}) so every group fits in one batch"
            )


@dataclass(frozen=True)
class PPORunConfig(_RunConfig):
    value_model: str = ""  # critic initialisation; "" = the base model with a value head
    gamma: float = 1.0  # discount; 1.0 because the only reward arrives at the end of the completion
    lam: float = 0.95  # GAE lambda
    cliprange: float = 0.2  # policy ratio clipping
    cliprange_value: float = 0.2  # value clipping
    kl_coef: float = 0.05  # KL penalty against the reference model, per token

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.lam <= 1.0 or not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"need 0 <= lam <= 1 and 0 < gamma <= 1, got lam={self.lam}, gamma={self.gamma}")


ALGORITHMS = {"grpo": GRPORunConfig, "ppo": PPORunConfig}


def load_training_config(path: str | Path) -> _RunConfig:
    """Read a TOML file with `algorithm = "grpo" | "ppo"` and that algorithm's fields.

    Unknown keys are an error (a typo must not silently fall back to a default).
    """
    path = Path(path)
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: cannot read training config: {error}") from None
    algorithm = raw.pop("algorithm", None)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"{path}: 'algorithm' must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    config_class = ALGORITHMS[algorithm]
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"{path}: unknown {algorithm} field(s): {', '.join(unknown)}")
    return config_class(**raw)
