#!/usr/bin/env python3
"""Practise the stdlib smoke policy with GRPO on a task file's train split, in seconds.

    python3 scripts/train_grpo_smoke.py --tasks configs/datasets/tasks.example.jsonl \\
        --output-dir outputs/checkpoints/grpo_smoke_example --backend mock

Samples are executed in the real sandbox and scored with the reward config; the policy is updated
with GRPO's real formulas (codeself.training). Outputs: docs/schemas.md, "Training runs".
"""

import sys

import _bootstrap  # noqa: F401

from codeself.cli import run_main
from codeself.training.smoke_cli import build_parser, run

PROG = "train_grpo_smoke.py"


def main(argv: list[str] | None = None) -> int:
    args = build_parser("grpo", PROG, __doc__.split("\n\n")[0]).parse_args(argv)
    return run_main(lambda: run("grpo", args), PROG)


if __name__ == "__main__":
    sys.exit(main())
