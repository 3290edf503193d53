#!/usr/bin/env python3
"""Validate canonical task JSONL files: schema, compilability, hidden-test leakage.

Prints one line per problem (`file:line: task_id: what is wrong`) and exits 1, or a
one-line summary and exits 0. Warnings (near-duplicate prompts across the splits of tasks
that did not opt in to the strict rule) go to stderr and do not change the exit code.
Rules: docs/schemas.md, "Validation rules".
"""

import _bootstrap  # noqa: F401

import argparse
import sys

from codeself.cli import run_main
from codeself.datasets.validate import TaskFileValidator, validate_files

PROG = "validate_task_schema.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="canonical task JSONL file(s), checked together")
    return parser


def _run(args: argparse.Namespace) -> int:
    validator = TaskFileValidator()
    problems = 0
    for problem in validate_files(args.files, validator):
        print(problem.format())
        problems += 1
    for warning in validator.warnings:
        print(warning.format(), file=sys.stderr)
    if problems:
        print(f"{PROG}: {problems} problem(s) in {validator.tasks} task(s)", file=sys.stderr)
        return 1
    note = ""
    if validator.acknowledged_duplicates:
        note += (f"; {validator.acknowledged_duplicates} acknowledged cross-split duplicate prompt(s) "
                 "(metadata.same_prompt_as)")
    if validator.acknowledged_visible:
        note += (f"; {validator.acknowledged_visible} task(s) whose dataset shows all tests in the prompt "
                 "(metadata.hidden_tests_visible_in_prompt)")
    if validator.acknowledged_malformed:
        note += (f"; {validator.acknowledged_malformed} test(s) the dataset itself wrote malformed, kept as "
                 "written (metadata.malformed_tests_from_dataset)")
    if validator.warnings:
        note += (f"; {len(validator.warnings)} cross-split near-duplicate prompt(s) reported as warnings on stderr "
                 "(docs/schemas.md, rule 9)")
    print(f"valid: {validator.tasks} task(s) in {len(args.files)} file(s){note}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
