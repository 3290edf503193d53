#!/usr/bin/env python3
"""Practise on a real causal LM with TRL (GRPO, or RLOO when the TOML says so); reward = reward_v0 in the sandbox.

    python scripts/train_grpo.py --config configs/training/grpo.toml --output-dir outputs/train/grpo

Needs the training extra (torch, transformers, trl, peft). Writes config.json, metrics.jsonl
(one record per optimiser step), rollouts.jsonl, validation.jsonl, checkpoints/step_NNNNNN/
(plain model directories for run_rollouts.py --backend hf --model DIR), best_checkpoint.json
and summary.md into the output directory. `model = "mock"` is for the smoke trainers.
"""

import argparse
import sys

import _bootstrap  # noqa: F401

from codeself.cli import run_main

PROG = "train_grpo.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="training TOML (algorithm = \"grpo\" or \"rloo\")")
    parser.add_argument("--output-dir", help="where the run's files go (default: the config's output_dir)")
    parser.add_argument("--max-steps", type=int, help="optimiser steps (overrides the config; changes its hash)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --output-dir from its last trainer checkpoint")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run in --output-dir (its files, checkpoints and trainer state)")
    parser.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.training.config import load_training_config
    from codeself.training.trl_trainer import train

    overrides = {}
    if args.output_dir:
        overrides["output_dir"] = args.output_dir
    if args.max_steps is not None:
        overrides["max_steps"] = args.max_steps
    config = load_training_config(args.config, overrides)
    summary = train(config, quiet=args.quiet, resume=args.resume, overwrite=args.overwrite)
    best = summary["best"]
    print(f"{summary['steps']} steps; reward {summary['first_reward']} -> {summary['last_reward']}; "
          f"best checkpoint: {f'step {best[0]} (validation pass@1 {best[1]:.4f})' if best else 'none'}; "
          f"{config.output_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
