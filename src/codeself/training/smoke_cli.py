"""The command line shared by `scripts/train_{grpo,ppo,rloo}_smoke.py`.

A run's settings come from a TOML config (default `configs/training/<algorithm>_smoke.toml`)
and the flags below override single fields, so the config hash written to the run says exactly
what ran. Flags map one to one onto config fields (`codeself.training.config`).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from codeself.cli import add_execution_flags, execution_placement
from codeself.execution.config import ExecutionConfig

REPO_ROOT = Path(__file__).resolve().parents[3]

# flag -> (config field, type, help); which algorithms accept it
_EXECUTION_HELP = {spec.name: spec.metadata.get("help", "") for spec in dataclasses.fields(ExecutionConfig)}
_COMMON = {
    "--tasks": ("tasks", str, "canonical task JSONL; practice uses its train split only"),
    "--max-steps": ("max_steps", int, "optimiser steps"),
    "--seed": ("seed", int, "seed of every random choice"),
    "--learning-rate": ("learning_rate", float, "step size of plain gradient descent (0 = a control run)"),
    "--prompts-per-step": ("prompts_per_step", int, "distinct train tasks per step"),
    "--save-every": ("save_every", int, "checkpoint and validate every N steps (and at the last step)"),
    "--validation-samples": ("validation_samples", int, "samples per validation task at each checkpoint"),
    "--temperature": ("temperature", float, "sampling temperature of the policy"),
    # the sandbox settings a training config holds: help from ExecutionConfig's fields
    **{f"--{name.replace('_', '-')}": (name, kind, _EXECUTION_HELP[name])
       for name, kind in (("workers", int), ("sandbox", str), ("timeout_floor_s", float))},
    "--reward-config": ("reward_config", str, "reward TOML"),
    "--task-sampler": ("task_sampler", str, "which train tasks each step practises: uniform (a seeded draw) or "
                                            "learnability (weight p(1-p) from the tasks' earlier groups, plus "
                                            "exploration; codeself.training.sampler)"),
    "--max-revisions": ("max_revisions", int, "multi-turn practice: turns after the first per episode (grpo/rloo; "
                                              "CoCoS reward, public-test feedback; 0 = single turn)"),
}
_BY_ALGORITHM = {
    "grpo": {"--group-size": ("num_generations", int, "completions per prompt (G >= 2)"),
             "--num-iterations": ("num_iterations", int, "updates per generated batch (>1: ratios differ from 1)"),
             "--epsilon": ("epsilon", float, "lower clipping range"),
             "--epsilon-high": ("epsilon_high", float, "upper clipping range (default: epsilon)"),
             "--beta": ("beta", float, "k3 KL coefficient against the initial policy"),
             "--scale-rewards": ("scale_rewards", str, "group | batch | none"),
             "--loss-type": ("loss_type", str, "grpo | bnpo | dr_grpo | dapo")},
    "rloo": {"--group-size": ("num_generations", int, "k: completions per prompt (>= 2)"),
             "--num-iterations": ("num_iterations", int, "updates per generated batch"),
             "--epsilon": ("epsilon", float, "clipping range of the sequence ratio"),
             "--beta": ("beta", float, "KL coefficient folded into the reward")},
    "ppo": {"--samples-per-task": ("samples_per_task", int, "completions per prompt per step"),
            "--num-ppo-epochs": ("num_ppo_epochs", int, "passes over each batch"),
            "--gamma": ("gamma", float, "discount"), "--lam": ("lam", float, "GAE lambda"),
            "--kl-coef": ("kl_coef", float, "per-token KL penalty in the reward"),
            "--vf-coef": ("vf_coef", float, "weight of the value loss")},
}


def build_parser(algorithm: str, prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", default=str(REPO_ROOT / "configs" / "training" / f"{algorithm}_smoke.toml"),
                        help=f"training TOML (default configs/training/{algorithm}_smoke.toml)")
    parser.add_argument("--output-dir", required=True, help="where the run's files go (see docs/schemas.md)")
    parser.add_argument("--backend", default="mock",
                        help="policy to practise: only 'mock' (the stdlib smoke policy); real models: train_grpo.py")
    for flag, (field, kind, text) in {**_COMMON, **_BY_ALGORITHM[algorithm]}.items():
        parser.add_argument(flag, dest=field, type=kind, help=f"{text} (overrides the config's {field})")
    add_execution_flags(parser)
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run in --output-dir")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    return parser


def flag_names(algorithm: str) -> dict[str, str]:
    """Config field -> the flag that overrides it, so a bad value is reported under its flag."""
    return {field: flag for flag, (field, _, _) in {**_COMMON, **_BY_ALGORITHM[algorithm]}.items()}


def overrides(args: argparse.Namespace, algorithm: str) -> dict[str, Any]:
    fields = flag_names(algorithm)
    return {field: getattr(args, field) for field in fields if getattr(args, field) is not None}


def run(algorithm: str, args: argparse.Namespace) -> int:
    from codeself.training.config import load_training_config
    from codeself.training.smoke import Trainer

    if args.backend != "mock":
        raise ValueError(f"--backend {args.backend}: the smoke trainers practise the stdlib policy only "
                         "(--backend mock); train a real model with scripts/train_grpo.py")
    config = load_training_config(args.config, overrides(args, algorithm), flag_names(algorithm))
    if config.algorithm != algorithm:
        raise ValueError(f"{args.config} is a {config.algorithm} config; this script trains {algorithm}")
    summary = Trainer(config, args.output_dir, resume=args.resume, overwrite=args.overwrite,
                      quiet=args.quiet, calibration_cache=args.calibration_cache or "",
                      placement=execution_placement(args)).train()
    best, steps, kept = summary["best"], summary["steps"], summary["resumed_at_step"]
    chosen = f"; selected on validation: {best['path']}" if best else ""
    history = f" ({steps - kept} new, {kept} kept from before)" if kept is not None else ""  # steps: the run's total
    print(f"{algorithm}: {steps} step(s){history}, {summary['samples']} samples -> {summary['output_dir']}{chosen}")
    return 0
