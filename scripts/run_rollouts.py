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

from codeself.agents.backends import BACKENDS, BackendOptions
from codeself.cli import add_dataclass_flags, add_execution_flags, dataclass_from_args, execution_placement, run_main

PROG = "run_rollouts.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", required=True, help="canonical task JSONL (from scripts/prepare_datasets.py)")
    parser.add_argument("--output", required=True, help="rollout JSONL to write (appended as produced)")
    parser.add_argument("--backend", required=True, help=f"generation backend: {', '.join(sorted(BACKENDS))}")
    parser.add_argument("--samples-per-task", type=int,
                        help="samples per task (static: at most this many; default all in the file)")
    parser.add_argument("--split", help="only tasks of this split (train, validation, test, prompt)")
    parser.add_argument("--seed", type=int, default=0,
                        help="run seed; every random choice derives from it (default 0)")
    parser.add_argument("--workers", type=int, help="sandbox worker processes (default: CPU count)")
    parser.add_argument("--timeout-s", "--timeout", dest="timeout_s", type=float,
                        help="per-test timeout for tasks that set none and have no reference solution to "
                             "calibrate from (default: the executor's, 5 s; --timeout is the same flag, as in "
                             "execute_samples.py)")
    add_execution_flags(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run: keep existing records, add the missing ones")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output instead of refusing")
    parser.add_argument("--template", default="chat_default",
                        help="prompt template name in configs/prompts or a .toml path (default chat_default)")
    parser.add_argument("--reward-config", help="reward TOML (default configs/rewards/reward_v0.toml)")
    parser.add_argument("--limit", type=int, help="only the first N selected tasks")
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    group = parser.add_argument_group("backend options")
    add_dataclass_flags(group, BackendOptions)
    return parser


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from codeself.agents.rollout_run import RolloutSettings, format_summary, run_rollouts

    options = dataclass_from_args(BackendOptions, args)
    settings = RolloutSettings(
        tasks=args.tasks, output=args.output, backend=args.backend, samples_per_task=args.samples_per_task,
        split=args.split, seed=args.seed, workers=args.workers, timeout_s=args.timeout_s,
        calibration_cache=args.calibration_cache, stop_at_first_failure=args.stop_at_first_failure,
        **execution_placement(args), resume=args.resume, overwrite=args.overwrite, template=args.template,
        reward_config=args.reward_config, limit=args.limit, backend_options=options,
        command_line=("scripts/run_rollouts.py", *argv))
    summary = run_rollouts(settings, quiet=args.quiet)
    print(format_summary(summary, args.output))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args, argv), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
