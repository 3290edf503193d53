"""Check that batched expected values equal each task's own: every C++, Rust or JavaScript task
of a task file that a batch can hold gets its expected values twice, from its own tests
program and from the batches (languages/expected_batch.py), compared exactly.

Prints each differing task and a one-line summary; exits 1 when any differs. The on-disk
expected values are off for the run (both sides are measured).
"""

import _bootstrap  # noqa: F401

import argparse
import os
import sys

from codeself.cli import Progress, add_execution_flags, execution_config, run_main
from codeself.datasets.task import load_tasks
from codeself.execution.engine import Executor
from codeself.execution.languages import expected_batch

PROG = "check_expected_batches.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("tasks", help="canonical tasks JSONL (e.g. prepare_datasets.py --format multipl-e output)")
    add_execution_flags(parser, ("workers", "sandbox"))
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def _run(args: argparse.Namespace) -> int:
    os.environ["CODESELF_EXPECTED_CACHE"] = "off"
    tasks = list(load_tasks(args.tasks))
    differing = compared = 0
    with Executor(execution_config(args)) as executor:
        held = [task for task in tasks if expected_batch.eligible(task)]
        with Progress("compare", len(held), quiet=args.quiet) as meter:
            for task_id, same, detail in expected_batch.compare(held, executor):
                compared += 1
                if not same:
                    differing += 1
                    print(f"{task_id}: {detail}")
                meter.update()
    print(f"{PROG}: {compared} of {len(tasks)} tasks compared (the rest no batch holds), "
          f"{differing} differing", file=sys.stderr)
    return 1 if differing else 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
