"""Check a task file through the sandbox: every reference must pass, a `return None` stub must fail.

Prints a one-line summary (and each offending task) and exits 1 when a reference fails or a
stub passes, so it can gate a dataset before any model is evaluated on it. A stub passing is
legitimate only when every expected value is None (e.g. MBPP+ Mbpp/787): inspect those.
"""

import _bootstrap  # noqa: F401

import argparse
import sys
from collections import Counter

from codeself.cli import Progress, add_execution_flags, execution_config, run_main
from codeself.datasets.task import load_tasks
from codeself.execution.engine import Executor
from codeself.execution.selfcheck import check_tasks
from codeself.jsonl import write_jsonl

PROG = "check_references.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("tasks", help="canonical tasks JSONL")
    parser.add_argument("--output", help="optional JSONL with one check record per task")
    parser.add_argument("--split", help="only tasks of this split")
    parser.add_argument("--no-stubs", action="store_true", help="only run the references")
    add_execution_flags(parser, ("workers", "sandbox"))
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def _run(args: argparse.Namespace) -> int:
    tasks = [t for t in load_tasks(args.tasks) if args.split is None or t.split == args.split]
    checks, counts = [], Counter()
    with Executor(execution_config(args)) as executor, Progress("check", len(tasks), quiet=args.quiet) as meter:
        for check in check_tasks(tasks, executor, stubs=not args.no_stubs):
            checks.append(check)
            counts["reference_failed"] += not check.reference_ok
            counts["stub_passed"] += not check.stub_ok
            counts["in_process"] += check.tests_judged_in_process
            meter.update()
        isolation = executor.isolation
    if args.output:
        write_jsonl(args.output, (check.to_json() for check in checks))
    for check in checks:
        if not check.reference_ok:
            print(f"{check.task_id}: reference {check.reference_status}: {check.reference_message}")
        if not check.stub_ok:
            print(f"{check.task_id}: the return-None stub passes every test")
    stub_part = "" if args.no_stubs else f", stubs passing {counts['stub_passed']}"
    print(f"{PROG}: {len(checks)} references, failing {counts['reference_failed']}{stub_part}; "
          f"tests judged in-process {counts['in_process']}; isolation {isolation}", file=sys.stderr)
    return 1 if counts["reference_failed"] or counts["stub_passed"] else 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
