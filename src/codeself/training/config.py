"""One config dataclass per algorithm, loaded from TOML, checked before any compute is spent.

GRPO, PPO and RLOO are compared under one protocol (methodology.md): the same policy, tasks,
reward, sandbox and sample budget, so the fields they share are defined once in `RunConfig`.
The same dataclasses drive both sizes of practice: `model = "mock"` is the standard-library
smoke policy (`codeself.training.policy`), anything else is a causal LM trained with TRL
(`codeself.training.trl_trainer`, optional `training` extra). Field comments are the
documentation; names and defaults follow TRL's (`../shared/RL_REFERENCE.md`) where TRL has the
field, so a TRL user reads a config at a glance.

The resolved config is hashed (`config_hash`) into every output of a run, and a checkpoint
written under one hash is refused by a run with another.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeself.training.sampler import TASK_SAMPLERS, SamplerConfig

MOCK_MODEL = "mock"  # `model` value that selects the stdlib smoke policy
SCALE_REWARDS = ("group", "batch", "none")
LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")


# Fields added after runs had been made: left out of the config JSON (and so of the hash) while they
# hold their default, so earlier runs keep their hashes and still resume.
HASHED_WHEN_SET = {"max_revisions": 0, "timeout_floor_s": 1.0, "task_sampler": "uniform",
                   "mask_truncated_completions": False}
# RunConfig field -> SamplerConfig field: the learnability sampler's settings, in the config JSON (and
# hash) exactly when task_sampler = "learnability" (under "uniform" they do nothing and must keep
# their defaults).
SAMPLER_FIELDS = {f"sampler_{spec.name}": spec.name for spec in dataclasses.fields(SamplerConfig)}


class FieldError(ValueError):
    """A config field's value breaks a rule: the field, the value and the rule are kept apart so
    that `build_config` can name where the value came from, the flag that set it or the key in
    the TOML file, as `--group-size 0: must be >= 2 (...)`; alone it reads
    `num_generations must be >= 2 (...), got 0`."""

    def __init__(self, field: str, value: Any, rule: str) -> None:
        super().__init__(f"{field} {rule}, got {value!r}")
        self.field, self.value, self.rule = field, value, rule

    def located(self, where: str, flags: dict[str, str]) -> str:
        """The message with its source: `flags` maps each field set by a flag to that flag."""
        if self.field in flags:
            return f"{flags[self.field]} {self.value}: {self.rule}"
        return f"{where}: {self.field} = {json.dumps(self.value)}: {self.rule}"


def _check(config: Any, names: tuple[str, ...], ok: Any, rule: str) -> None:
    """FieldError for the first of the fields `names` of `config` whose value fails `ok`."""
    for name in names:
        if not ok(getattr(config, name)):
            raise FieldError(name, getattr(config, name), rule)


def check_splits(train_split: str, validation_split: str) -> None:
    """Training reads only 'train'; checkpoints are chosen on a split that is neither it nor 'test'."""
    if train_split != "train":
        raise ValueError(
            f"train_split is {train_split!r}: practice must use the 'train' split only "
            "(validation selects models, test is locked); see methodology.md"
        )
    if validation_split in ("test", train_split):
        raise ValueError(f"validation_split is {validation_split!r}: checkpoints are selected on "
                         "validation only, never on the practice or the locked test split")


@dataclass(frozen=True)
class RunConfig:
    model: str = "SmolLM2-135M-Instruct"  # "mock" (stdlib smoke policy), or a local model dir / the default GGUF
    tasks: str = "data/processed/mbpp.codeself.jsonl"  # canonical task file
    train_split: str = "train"  # practise only on this split (methodology: never test)
    validation_split: str = "validation"  # checkpoint selection only on this split
    reward: str = "reward_v0_correctness"  # the scoring function: a name in codeself.rewards.REWARDS
    reward_config: str = "configs/rewards/reward_v0.toml"
    template: str = ""  # prompt template TOML; "" = the backend's default (chat for models)
    seed: int = 0  # task order, sampling, initialisation: every random choice
    learning_rate: float = 1e-5  # optimiser step size (0 = nothing changes: a control run)
    max_steps: int = 200  # optimiser steps; the comparison fixes this per study
    prompts_per_step: int = 2  # distinct train tasks per step (each sampled several times)
    max_completion_tokens: int = 512  # generation budget per completion
    temperature: float = 1.0  # sampling temperature during practice
    lora_rank: int = 16  # LoRA adapter rank (peft); 0 = full fine-tuning (real models only)
    lora_alpha: int = 32
    gradient_checkpointing: bool = True  # real models: trade compute for memory
    sandbox: str = "auto"  # execution sandbox level: auto | namespaces | rlimits | bwrap
    workers: int = 2  # sandbox worker processes
    timeout_floor_s: float = 1.0  # least per-test timeout scaled from a reference time (ExecutionConfig)
    save_every: int = 15  # checkpoint (and validate) every this many steps; the last step always
    validation_samples: int = 1  # samples per validation task when validating a checkpoint
    mock_init_correct_fraction: float = 0.3  # smoke policy only: initial probability of a correct plan
    # turns after the first in each practice episode (CoCoS progressive reward, public-test feedback;
    # codeself.training.multiturn for the smoke policy with grpo or rloo, codeself.training.trl_episodes
    # for real models with grpo); 0 = single-turn practice
    max_revisions: int = 0
    # which train tasks each step practises (codeself.training.sampler): "uniform" (a seeded draw, every
    # task alike) or "learnability" (weight p̂(1-p̂) plus a shared exploration weight for unseen and
    # stale tasks); the sampler_* fields tune the latter (SamplerConfig documents each)
    task_sampler: str = "uniform"
    sampler_explore_weight: float = SamplerConfig.explore_weight
    sampler_explore_floor: float = SamplerConfig.explore_floor
    sampler_prior_strength: float = SamplerConfig.prior_strength
    sampler_decay: float = SamplerConfig.decay
    sampler_stale_steps: int = SamplerConfig.stale_steps
    # real models (TRL): completions cut off at max_completion_tokens count for no loss (DAPO's
    # overlong filtering); they still count in rewards and metrics
    mask_truncated_completions: bool = False
    output_dir: str = "outputs/train"

    algorithm = "base"  # set by each subclass (a class attribute, not a field)

    def __post_init__(self) -> None:
        check_splits(self.train_split, self.validation_split)
        from codeself.rewards import REWARDS  # the reward config (components, weights) is read by the trainer

        _check(self, ("reward",), lambda v: v in REWARDS, f"must be one of {', '.join(sorted(REWARDS))}")
        _check(self, ("max_steps", "prompts_per_step", "max_completion_tokens", "workers", "save_every",
                      "validation_samples", "timeout_floor_s"), lambda v: v > 0, "must be > 0")
        _check(self, ("learning_rate",), lambda v: v >= 0, "must be >= 0 (0 = a control run)")
        _check(self, ("temperature",), lambda v: v >= 0, "must be >= 0")
        _check(self, ("lora_rank",), lambda v: v >= 0, "must be >= 0 (0 = full fine-tuning)")
        _check(self, ("mock_init_correct_fraction",), lambda v: 0.0 < v < 1.0, "must be in (0, 1)")
        _check(self, ("max_revisions",), lambda v: v >= 0, "must be >= 0 (0 = single-turn practice)")
        if self.algorithm == "ppo" or (not self.is_mock and self.algorithm != "grpo"):
            _check(self, ("max_revisions",), lambda v: v == 0,
                   "must be 0 with ppo, and with a real model but for grpo: multi-turn practice is for the smoke "
                   "policy with grpo or rloo and for real models with grpo (TRL's rollout_func)")
        _check(self, ("task_sampler",), lambda v: v in TASK_SAMPLERS, f"must be one of {', '.join(TASK_SAMPLERS)}")
        changed = [name for name, inner in SAMPLER_FIELDS.items()
                   if getattr(self, name) != getattr(SamplerConfig, inner)]
        if self.task_sampler == "uniform" and changed:
            raise ValueError(f"{', '.join(changed)} tune task_sampler = \"learnability\"; "
                             "with the uniform sampler they would be ignored")
        self.sampler_config()  # its own checks
        if self.mask_truncated_completions and self.is_mock:
            raise ValueError("mask_truncated_completions is for real models (TRL); the smoke policy's completions "
                             "are never cut off")

    @property
    def is_mock(self) -> bool:
        return self.model == MOCK_MODEL

    @property
    def samples_per_prompt(self) -> int:
        """Completions sampled per task per step (the group size for GRPO and RLOO)."""
        raise NotImplementedError

    def sampler_config(self) -> SamplerConfig:
        """The learnability sampler's settings (the sampler_* fields)."""
        return SamplerConfig(**{inner: getattr(self, name) for name, inner in SAMPLER_FIELDS.items()})

    def reward_config_path(self) -> str:
        """`reward_config` as a path that opens from any working directory: the repo-relative
        default (configs/...) resolved against the checkout; other paths as given."""
        if not Path(self.reward_config).exists():
            in_repo = Path(__file__).resolve().parents[3] / self.reward_config
            if in_repo.exists():
                return str(in_repo)
        return self.reward_config

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        for name, default in HASHED_WHEN_SET.items():
            if values[name] == default:
                del values[name]
        if self.task_sampler == "uniform":
            for name in SAMPLER_FIELDS:
                del values[name]
        return {"algorithm": self.algorithm, **values}

    def config_hash(self) -> str:
        """sha256 prefix of the resolved config, minus `output_dir` (where a run goes is not what it is)."""
        values = {k: v for k, v in self.to_json().items() if k != "output_dir"}
        text = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _check_clip(config: Any, name: str) -> None:
    _check(config, (name,), lambda v: 0.0 <= v < 1.0, "must be in [0, 1)")


@dataclass(frozen=True)
class GRPOConfig(RunConfig):
    num_generations: int = 8  # group size G: completions per prompt whose rewards are normalised together
    num_iterations: int = 1  # policy updates per generated batch (mu); > 1 makes ratios differ from 1
    epsilon: float = 0.2  # lower clipping range of the ratio (1 - epsilon)
    epsilon_high: float | None = None  # upper clipping range (1 + epsilon_high); None = epsilon (DAPO: 0.28)
    beta: float = 0.0  # k3 KL coefficient against the initial policy (0 = no reference policy)
    scale_rewards: str = "group"  # group | batch | none: what the advantage is divided by (std + 1e-4)
    loss_type: str = "dapo"  # grpo | bnpo | dr_grpo | dapo: how per-token losses are aggregated

    algorithm = "grpo"

    def __post_init__(self) -> None:
        if isinstance(self.scale_rewards, bool):  # TRL maps True -> group, False -> none
            object.__setattr__(self, "scale_rewards", "group" if self.scale_rewards else "none")
        super().__post_init__()
        _check(self, ("num_generations",), lambda v: v >= 2, "must be >= 2 (GRPO's advantage is relative to the group)")
        _check(self, ("num_iterations",), lambda v: v >= 1, "must be >= 1")
        _check_clip(self, "epsilon")
        _check(self, ("epsilon_high",), lambda v: v is None or v >= 0, "must be >= 0")
        _check(self, ("beta",), lambda v: v >= 0, "must be >= 0")
        _check(self, ("scale_rewards",), lambda v: v in SCALE_REWARDS, f"must be one of {', '.join(SCALE_REWARDS)}")
        _check(self, ("loss_type",), lambda v: v in LOSS_TYPES, f"must be one of {', '.join(LOSS_TYPES)}")

    @property
    def samples_per_prompt(self) -> int:
        return self.num_generations

    @property
    def clip_high(self) -> float:
        return self.epsilon if self.epsilon_high is None else self.epsilon_high


@dataclass(frozen=True)
class RLOOConfig(RunConfig):
    num_generations: int = 2  # k: completions per prompt; each one's baseline is the mean of the other k-1
    num_iterations: int = 1  # policy updates per generated batch
    epsilon: float = 0.2  # clipping range of the sequence-level ratio
    beta: float = 0.05  # KL coefficient, folded into the reward (no gradient through it)
    normalize_advantages: bool = False  # whiten advantages over the batch (mean/std + 1e-4)

    algorithm = "rloo"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, ("num_generations",), lambda v: v >= 2, "must be >= 2 (k: RLOO's baseline leaves one sample out)")
        _check(self, ("num_iterations",), lambda v: v >= 1, "must be >= 1")
        _check_clip(self, "epsilon")
        _check(self, ("beta",), lambda v: v >= 0, "must be >= 0")

    @property
    def samples_per_prompt(self) -> int:
        return self.num_generations


@dataclass(frozen=True)
class PPOConfig(RunConfig):
    samples_per_task: int = 4  # completions per prompt per step (PPO needs no group; more samples, less noise)
    value_model: str = ""  # critic initialisation; "" = the policy's own features with a value head
    gamma: float = 1.0  # discount; 1.0 because the only reward arrives at the end of the completion
    lam: float = 0.95  # GAE lambda
    cliprange: float = 0.2  # policy ratio clipping
    cliprange_value: float = 0.2  # value clipping around the old value estimate
    vf_coef: float = 0.1  # weight of the value loss in the total loss
    kl_coef: float = 0.05  # per-token KL penalty (k1) against the initial policy, inside the reward
    num_ppo_epochs: int = 4  # passes over each batch of rollouts
    whiten_advantages: bool = True  # (A - mean) / sqrt(var + 1e-8) over the batch

    algorithm = "ppo"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, ("lam",), lambda v: 0.0 <= v <= 1.0, "must be in [0, 1]")
        _check(self, ("gamma",), lambda v: 0.0 < v <= 1.0, "must be in (0, 1]")
        _check(self, ("samples_per_task", "num_ppo_epochs"), lambda v: v >= 1, "must be >= 1")
        _check_clip(self, "cliprange")
        _check(self, ("cliprange_value",), lambda v: v > 0, "must be > 0")
        _check(self, ("vf_coef", "kl_coef"), lambda v: v >= 0, "must be >= 0")

    @property
    def samples_per_prompt(self) -> int:
        return self.samples_per_task


@dataclass(frozen=True)
class SFTConfig:
    """The imitation baseline: supervised fine-tuning on the train split's reference solutions
    (`codeself.training.sft`). Not a `RunConfig`: nothing is sampled during SFT, so the practice
    fields (prompts_per_step, the practice temperature, ...) would be accepted and ignored. Fields
    it shares with RunConfig mean the same; names follow TRL's `SFTConfig`."""

    model: str = "SmolLM2-135M-Instruct"  # a local model directory, or the default GGUF (saved once as fp32)
    tasks: str = "data/processed/mbpp.codeself.jsonl"  # canonical task file
    train_split: str = "train"  # imitate only this split's reference solutions (never validation or test)
    validation_split: str = "validation"  # checkpoint selection only on this split
    reward_config: str = "configs/rewards/reward_v0.toml"  # scores the validation answers
    template: str = ""  # chat prompt template TOML; "" = chat_default (the one GRPO practises with)
    seed: int = 0  # data order and every other random choice
    learning_rate: float = 2e-5  # AdamW step size, constant (no warm-up, no decay), as in the GRPO runs
    num_train_epochs: float = 1.0  # passes over the train split
    max_steps: int = 0  # optimiser steps; > 0 overrides num_train_epochs (TRL's rule), 0 = epochs decide
    per_device_train_batch_size: int = 8  # sequences per forward/backward pass
    gradient_accumulation_steps: int = 1  # passes per optimiser step (effective batch = the product)
    max_length: int = 1024  # tokens of prompt + answer; a longer example is refused, not cut (TRL cuts the answer)
    lora_rank: int = 0  # LoRA adapter rank (peft); 0 = full fine-tuning
    lora_alpha: int = 32
    gradient_checkpointing: bool = True  # trade compute for memory
    save_every: int = 40  # checkpoint + validate every this many optimiser steps; the last step always
    validation_samples: int = 1  # samples per validation task per checkpoint (1 = greedy)
    max_completion_tokens: int = 512  # generation budget of the validation answers
    temperature: float = 1.0  # validation sampling temperature when validation_samples > 1
    sandbox: str = "auto"  # execution sandbox level for the validation answers
    workers: int = 2  # sandbox worker processes
    timeout_floor_s: float = 1.0  # least per-test timeout scaled from a reference time (ExecutionConfig)
    output_dir: str = "outputs/train/sft"

    algorithm = "sft"  # a class attribute, as in RunConfig

    def __post_init__(self) -> None:
        check_splits(self.train_split, self.validation_split)
        if self.model == MOCK_MODEL:
            raise ValueError('model = "mock" is the smoke policy, which has no reference solutions to imitate; '
                             "SFT needs a real model directory")
        _check(self, ("num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps", "max_length",
                      "save_every", "validation_samples", "max_completion_tokens", "workers", "timeout_floor_s"),
               lambda v: v > 0, "must be > 0")
        _check(self, ("max_steps", "learning_rate", "lora_rank", "temperature"), lambda v: v >= 0, "must be >= 0")

    is_mock = False  # SFTConfig refuses the smoke policy
    reward_config_path = RunConfig.reward_config_path
    config_hash = RunConfig.config_hash  # the same hash rule: sha256 of to_json() minus output_dir

    def to_json(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, **dataclasses.asdict(self)}


# Kept for callers of the first release.
GRPORunConfig, PPORunConfig = GRPOConfig, PPOConfig
ALGORITHMS: dict[str, type[RunConfig] | type[SFTConfig]] = {
    "grpo": GRPOConfig, "ppo": PPOConfig, "rloo": RLOOConfig, "sft": SFTConfig}


def build_config(algorithm: str, values: dict[str, Any], where: str = "config",
                 flags: dict[str, str] | None = None) -> RunConfig | SFTConfig:
    """The algorithm's config from plain values; unknown keys and bad values are one-line errors.

    A bad value is blamed on its source: the flag in `flags` (field -> the flag that set it) or
    else `where` and the key (FieldError.located)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"{where}: 'algorithm' must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    config_class = ALGORITHMS[algorithm]
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown {algorithm} field(s): {', '.join(unknown)}")
    try:
        return config_class(**values)
    except FieldError as error:
        raise ValueError(error.located(where, flags or {})) from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


def read_training_toml(path: str | Path) -> dict[str, Any]:
    """The raw table of a training TOML file (including its `algorithm`)."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: cannot read training config: {error}") from None


def load_training_config(path: str | Path, overrides: dict[str, Any] | None = None,
                         flags: dict[str, str] | None = None) -> RunConfig | SFTConfig:
    """Read a TOML file with `algorithm = "grpo" | "ppo" | "rloo" | "sft"` and that algorithm's fields.

    `overrides` (e.g. from command-line flags) replace file values; `flags` names the flag of
    each field that has one (field -> flag), so a bad overriding value is blamed on its flag,
    not on the file. Unknown keys are an error: a typo must not silently fall back to a default.
    """
    raw = read_training_toml(path)
    algorithm = raw.pop("algorithm", None)
    overrides = overrides or {}
    from_flags = {field: flag for field, flag in (flags or {}).items() if field in overrides}
    return build_config(algorithm, {**raw, **overrides}, where=str(path), flags=from_flags)


def config_from_json(document: dict[str, Any], where: str = "config.json") -> RunConfig | SFTConfig:
    """Rebuild a config from `RunConfig.to_json()` (as written to a run's config.json)."""
    values = dict(document)
    algorithm = values.pop("algorithm", None)
    return build_config(algorithm, values, where=where)
