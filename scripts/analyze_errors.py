#!/usr/bin/env python3
"""Error-pattern analysis of rollout files: why samples fail, how often, and how that changes.

Reads one or more rollout (or execution-result) JSONL files in the order given — a baseline,
then later checkpoints — or a training run's rollouts.jsonl with --by-step (each step is one
group). Writes a Markdown report (ERRORS.md) with the trend chart in ERRORS_figures/ beside it:
error-category counts and shares per group, the trend across groups, the paired transition
table between the first and the last group when they cover the same tasks, the most frequent
failure messages per category (numbers and names masked) with an example task each, and a
per-split breakdown. --json-output writes the same numbers as JSON (docs/schemas.md,
"Error analysis JSON"); the categories are those of docs/schemas.md, "Error categories".

Example:
    python3 scripts/analyze_errors.py --rollouts outputs/base/rollouts.jsonl \\
        outputs/trained/rollouts.jsonl --output outputs/errors.md --json-output outputs/errors.json
"""

import _bootstrap  # noqa: F401

import argparse
from pathlib import Path

from codeself.cli import Progress, check_outputs, run_main

PROG = "analyze_errors.py"
FIGURE = "error_trend.svg"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollouts", nargs="+", required=True, metavar="FILE",
                        help="rollout or execution-result JSONL files, in order (first = baseline); .gz is read "
                             "transparently")
    parser.add_argument("--output", required=True, help="Markdown report to write (the chart goes to <stem>_figures/)")
    parser.add_argument("--json-output", help="also write every number as JSON here")
    parser.add_argument("--by-step", action="store_true",
                        help="treat each training step of the files (records with `step`, as in a training run's "
                             "rollouts.jsonl) as its own group, in step order")
    parser.add_argument("--messages-per-category", type=int, default=5,
                        help="most frequent failure messages listed per category (default %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.jsonl import require_regular_file, write_json, write_text
    from codeself.reporting.error_analysis import analyse
    from codeself.reporting.error_report import render_markdown, trend_chart

    for path in args.rollouts:
        require_regular_file(path, "--rollouts")
    if args.messages_per_category < 0:
        raise ValueError("--messages-per-category must be >= 0")
    check_outputs({"--output": args.output, "--json-output": args.json_output}, args.rollouts)
    with Progress("analyse", quiet=args.quiet) as progress:
        analysis = analyse(args.rollouts, by_step=args.by_step, messages_per_category=args.messages_per_category,
                           progress=progress)
    report = Path(args.output)
    figure_dir = report.with_name(f"{report.stem}_figures")
    write_text(figure_dir / FIGURE, trend_chart(analysis))
    write_text(report, render_markdown(analysis, f"{figure_dir.name}/{FIGURE}"))
    if args.json_output:
        write_json(args.json_output, analysis)
    groups = analysis["files"]
    failing = sum(g["failing"] for g in groups)
    print(f"{len(groups)} group(s), {sum(g['samples'] for g in groups)} samples, {failing} failing; report: {report}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
