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

from codeself.cli import TRAINER_FLAGS, add_trainer_flags, run_main, trainer_overrides

PROG = "train_grpo.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="training TOML (algorithm = \"grpo\" or \"rloo\")")
    add_trainer_flags(parser)
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.training.config import load_training_config
    from codeself.training.trl_trainer import train

    config = load_training_config(args.config, trainer_overrides(args), TRAINER_FLAGS)
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
