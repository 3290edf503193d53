#!/usr/bin/env python3
"""Generate samples for tasks, execute them in the sandbox, score them, write rollout records.

    python3 scripts/run_rollouts.py --tasks configs/datasets/tasks.example.jsonl \\
        --output outputs/rollouts/mock.jsonl --backend mock --samples-per-task 4 --seed 0

Records are appended as produced (docs/schemas.md, "Rollouts"); an interrupted run continues with
--resume. The resolved configuration goes to `<output>.config.json`.
"""

import argparse
import sys

import _bootstrap  # noqa: F401

from codeself.cli import add_run_flags, run_main, run_settings_from_args

PROG = "run_rollouts.py"
# the sandbox settings this script lets users set (others: ExecutionConfig's defaults)
EXECUTION_FIELDS = ("workers", "timeout_s", "timeout_floor_s", "calibration_cache", "stop_at_first_failure", "executor",
                    "ray_address", "efficiency")


def build_parser() -> argparse.ArgumentParser:
    from codeself.agents.rollout_run import RolloutSettings

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    add_run_flags(parser, RolloutSettings, EXECUTION_FIELDS)
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    return parser


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from codeself.agents.rollout_run import RolloutSettings, format_summary, run_rollouts

    settings = run_settings_from_args(RolloutSettings, args, ("scripts/run_rollouts.py", *argv))
    summary = run_rollouts(settings, quiet=args.quiet)
    print(format_summary(summary, args.output))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args, argv), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
