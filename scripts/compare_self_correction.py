#!/usr/bin/env python3
"""Self-correction report: two-turn episode traces of several models and feedback modes, compared paired.

    python3 scripts/compare_self_correction.py --tasks tasks.jsonl \\
        --run base=base.tests.jsonl --run base=base.none.jsonl --run multi=multi.tests.jsonl ... \\
        --output reports/self_correction.md --json-output reports/self_correction.json

Each --run names a model and one trace file of `run_agentic.py --max-revisions 1
--no-stop-when-public-pass` (its feedback mode is read from the traces). Within each run: turn 2
against turn 1 (exact McNemar on fixes vs regressions); within each model: each feedback mode's
turn 2 against `none`'s (the plain re-ask); between models: the same feedback and turn, paired per
episode. Also counts hidden tests found in model input (the canary check on real runs; must be 0).
Definitions: codeself.reporting.self_correction.
"""

import argparse
import json
from pathlib import Path

import _bootstrap  # noqa: F401

from codeself.agents.agentic.trace import read_traces
from codeself.cli import check_outputs, run_main
from codeself.datasets.task import load_tasks
from codeself.jsonl import write_json, write_text
from codeself.reporting import self_correction as sc

PROG = "compare_self_correction.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", required=True, help="canonical task JSONL the episodes ran on (for the hidden tests)")
    parser.add_argument("--run", action="append", required=True, metavar="MODEL=TRACES",
                        help="a model's name and one of its trace files (repeat: one per model and feedback mode)")
    parser.add_argument("--output", required=True, help="Markdown report to write")
    parser.add_argument("--json-output", help="also write every number as JSON")
    parser.add_argument("--title", default="Self-correction", help="the report's title (default %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    return parser


def parse_run(value: str) -> tuple[str, str]:
    model, sep, path = value.partition("=")
    if not sep or not model or not path:
        raise ValueError(f"--run {value!r}: expected MODEL=TRACES")
    return model, path


def _run(args: argparse.Namespace) -> int:
    runs = [parse_run(value) for value in args.run]
    check_outputs({"--output": args.output, "--json-output": args.json_output},
                  [args.tasks] + [path for _, path in runs])
    tasks = {task.task_id: task for task in load_tasks(args.tasks)}
    loaded = []
    for model, path in runs:
        sidecar = Path(path + ".config.json")
        shared = sidecar.exists() and bool(json.loads(sidecar.read_text(encoding="utf-8")).get("first_turns_from"))
        loaded.append(sc.load_run(model, read_traces(path), tasks, first_turn_shared=shared))
    result = sc.compare_runs(loaded)
    write_text(args.output, sc.format_markdown(result, args.title))
    if args.json_output:
        write_json(args.json_output, result)
    if not args.quiet:
        print(f"{PROG}: {len(loaded)} runs; hidden tests in model input: {result['hidden_tests_in_input']}; "
              f"wrote {args.output}" + (f", {args.json_output}" if args.json_output else ""))
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
