#!/usr/bin/env python3
"""Several models on several evaluation sets in one Markdown table (pass rates with their CIs, answer form).

    python3 scripts/results_table.py --cell base:test=outputs/base.test.jsonl \\
        --cell base:heldout=outputs/base.heldout.jsonl --cell sft:test=outputs/sft.test.jsonl \\
        --output reports/results.md --json-output reports/results.json

Rows and columns appear in the order first given. Each cell: first-sample pass rate with a Wilson
95% interval and mean pass rate over samples with a bootstrap 95% interval (both over tasks), mean
completion tokens and the share of samples cut at the token budget. No p-values: a test belongs
beside the effect it tests, in compare_final.py's paired report of the two rows it compares.
"""

import argparse

import _bootstrap  # noqa: F401

from codeself.cli import check_outputs, run_main
from codeself.jsonl import write_json, write_text
from codeself.reporting import results_table

PROG = "results_table.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--cell", action="append", required=True, metavar="ROW:COLUMN=ROLLOUTS",
                        help="one rollout file and where it goes: model name, evaluation-set name, path "
                             "(repeat for every cell)")
    parser.add_argument("--output", required=True, help="Markdown table to write")
    parser.add_argument("--json-output", help="also write every number as JSON")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals (default 0)")
    parser.add_argument("--bootstrap-resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    return parser


def parse_cell(text: str) -> tuple[str, str, str]:
    place, sep, path = text.partition("=")
    row, colon, column = place.partition(":")
    if not (sep and colon and row and column and path):
        raise ValueError(f"--cell {text!r}: expected ROW:COLUMN=ROLLOUTS, e.g. base:test=outputs/base.test.jsonl")
    return row, column, path


def _run(args: argparse.Namespace) -> int:
    cells = [parse_cell(text) for text in args.cell]
    check_outputs({"--output": args.output, "--json-output": args.json_output}, [path for _, _, path in cells])
    if args.bootstrap_resamples < 1:
        raise ValueError("--bootstrap-resamples must be at least 1")
    table = results_table.build_table(cells, seed=args.seed, resamples=args.bootstrap_resamples)
    write_text(args.output, results_table.render_markdown(table))
    if args.json_output:
        write_json(args.json_output, table)
    if not args.quiet:
        print(f"{PROG}: {len(table['rows'])} models x {len(table['columns'])} sets -> {args.output}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
