#!/usr/bin/env python3
"""Final paired comparison of a candidate against a baseline on the locked test split.

    python3 scripts/compare_final.py --baseline base.jsonl --candidate cand.jsonl \\
        --output reports/final.md --json-output reports/final.json

Each effect is reported with its interval and the test of that same quantity: the first-sample
pass rate with exact McNemar (primary), the mean pass rate over samples with an exact paired
sign-flip test over tasks. Writes the Markdown report, the per-task outcome chart next to it (`<report>.outcomes.svg`,
linked from the report as an image: GitHub and most Markdown viewers render a linked SVG
file but strip inline <svg>), and optionally the JSON document (docs/schemas.md, 'Final comparison JSON').
"""

import argparse
from pathlib import Path

import _bootstrap  # noqa: F401

from codeself.cli import check_outputs, run_main
from codeself.jsonl import write_json, write_text
from codeself.reporting import compare

PROG = "compare_final.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="rollout or execution-result JSONL of the baseline")
    parser.add_argument("--candidate", required=True, help="rollout or execution-result JSONL of the candidate")
    parser.add_argument("--output", required=True, help="Markdown report to write")
    parser.add_argument("--json-output", help="also write all numbers as JSON (docs/schemas.md, 'Final comparison JSON')")
    parser.add_argument("--split", default=compare.LOCKED_TEST_SPLIT,
                        help="split both files must be in (default: test, the locked test split)")
    parser.add_argument("--allow-non-test", action="store_true",
                        help="allow a split other than the locked test split, or records without a split; "
                             "the report's first line then says so")
    parser.add_argument("--outcome", choices=compare.OUTCOME_RULES, default="first",
                        help="per-task binary outcome from several samples: first sample (greedy, default), "
                             "strict majority, or any")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the paired bootstrap and of any Monte Carlo sign-flip test (default 0)")
    parser.add_argument("--bootstrap-resamples", type=int, default=2000,
                        help="bootstrap resamples over tasks (default 2000)")
    parser.add_argument("--sign-flip-resamples", type=int, default=compare.CompareOptions.sign_flip_resamples,
                        help="Monte Carlo resamples (seeded with --seed) of the sign-flip test of the mean over "
                             "samples, used only when its exact computation would exceed "
                             f"{compare.stats.SIGN_FLIP_MAX_STATES:.0e} states (default %(default)s)")
    parser.add_argument("--no-chart", action="store_true", help="do not write the per-task SVG chart")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    return parser


def _run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    chart = None if args.no_chart else output.with_name(output.stem + ".outcomes.svg")
    check_outputs({"--output": args.output, "--json-output": args.json_output,
                   "the chart (beside --output)": str(chart) if chart else None}, [args.baseline, args.candidate])
    for flag, value in (("--bootstrap-resamples", args.bootstrap_resamples),
                        ("--sign-flip-resamples", args.sign_flip_resamples)):
        if value < 1:
            raise ValueError(f"{flag} must be at least 1")
    options = compare.CompareOptions(split=args.split, outcome=args.outcome,
                                     allow_non_test=args.allow_non_test, seed=args.seed,
                                     bootstrap_resamples=args.bootstrap_resamples,
                                     sign_flip_resamples=args.sign_flip_resamples)
    result = compare.run_comparison(args.baseline, args.candidate, options)
    if chart is not None:
        write_text(chart, compare.outcome_chart(result))
    write_text(output, compare.render_markdown(result, chart.name if chart else None))
    if args.json_output:
        write_json(args.json_output, result)
    if not args.quiet:
        print(f"{PROG}: {result['verdict']}")
        print(f"{PROG}: wrote {output}" + (f", {chart}" if chart else "")
              + (f", {args.json_output}" if args.json_output else ""))
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
