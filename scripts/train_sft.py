#!/usr/bin/env python3
"""Supervised fine-tuning baseline (TRL SFTTrainer): imitate the train split's reference solutions.

    python scripts/train_sft.py --config configs/training/sft.toml --output-dir outputs/train/sft

Each train task's prompt (the same template rendering GRPO practises on) is paired with its
reference solution as one ```python block, the answer form the reward reads; the loss is on the
answer only. Needs the training extra. Writes the run directory of train_grpo.py: config.json,
metrics.jsonl (one record per optimiser step), validation.jsonl, checkpoints/step_NNNNNN/ (plain
model directories for run_rollouts.py --backend hf --model DIR, or `model = DIR` in a GRPO
config), best_checkpoint.json (greedy validation pass@1) and summary.md.
"""

import argparse
import sys

import _bootstrap  # noqa: F401

from codeself.cli import TRAINER_FLAGS, add_trainer_flags, run_main, trainer_overrides

PROG = "train_sft.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="training TOML with algorithm = \"sft\"")
    add_trainer_flags(parser, max_steps_help="optimiser steps, instead of the config's epochs (overrides the "
                                             "config; changes its hash)")
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.training.config import SFTConfig, load_training_config
    from codeself.training.sft import train

    config = load_training_config(args.config, trainer_overrides(args), TRAINER_FLAGS)
    if not isinstance(config, SFTConfig):
        raise ValueError(f"{args.config} is a {config.algorithm} config; train_sft.py trains algorithm = \"sft\" "
                         "(use train_grpo.py for grpo and rloo)")
    summary = train(config, quiet=args.quiet, resume=args.resume, overwrite=args.overwrite)
    best = summary["best"]
    print(f"{summary['steps']} steps ({summary['epochs']} epochs over {summary['examples']} train examples); "
          f"loss {summary['first_loss']} -> {summary['last_loss']}; "
          f"best checkpoint: {f'step {best[0]} (validation pass@1 {best[1]:.4f})' if best else 'none'}; "
          f"{config.output_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
