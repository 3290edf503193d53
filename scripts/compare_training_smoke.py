#!/usr/bin/env python3
"""Compare training runs (GRPO vs PPO, optionally RLOO) from their per-step metrics.

    python3 scripts/compare_training_smoke.py --grpo-metrics outputs/train/grpo/metrics.jsonl \\
        --ppo-metrics outputs/train/ppo/metrics.jsonl --output outputs/reports/ppo_vs_grpo_report.md \\
        [--baseline-eval base.jsonl --grpo-eval grpo.jsonl --ppo-eval ppo.jsonl]

Writes the Markdown report, its SVG figures in `<report stem>_figures/` beside it, and
optionally every number as JSON. Given held-out rollout files on the locked test split, adds
the paired comparisons (exact McNemar, paired bootstrap): each policy against the untrained
baseline and the practised policies head to head. The same inputs give byte-identical outputs.
"""

import argparse
from pathlib import Path

import _bootstrap  # noqa: F401

from codeself.cli import check_outputs, run_main
from codeself.reporting import compare

PROG = "compare_training_smoke.py"
ALGORITHMS = ("grpo", "ppo", "rloo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    for name in ALGORITHMS:
        parser.add_argument(f"--{name}-metrics", metavar="FILE",
                            help=f"metrics.jsonl of the {name.upper()} run (config.json beside it is read too)")
    parser.add_argument("--run", action="append", default=[], metavar="NAME=FILE",
                        help="another run's metrics.jsonl under a name of your choice (repeatable), e.g. a "
                             "real-model TRL run")
    parser.add_argument("--output", required=True, help="Markdown report to write")
    parser.add_argument("--json-output", help="also write every number (and the curves) as JSON here")
    parser.add_argument("--baseline-eval", metavar="FILE",
                        help="rollouts of the untrained policy on the locked test split")
    for name in ALGORITHMS:
        parser.add_argument(f"--{name}-eval", metavar="FILE",
                            help=f"rollouts of the practised {name.upper()} policy on the locked test split")
    parser.add_argument("--eval", action="append", default=[], metavar="NAME=FILE",
                        help="held-out rollouts of a run named with --run (repeatable)")
    parser.add_argument("--split", default=compare.LOCKED_TEST_SPLIT,
                        help="split every held-out file must be in (default: test, the locked test split)")
    parser.add_argument("--allow-non-test", action="store_true",
                        help="allow held-out files of another split, or without a split; the report says so")
    parser.add_argument("--seed", type=int, default=0, help="seed of the paired bootstrap (default 0)")
    parser.add_argument("--bootstrap-resamples", type=int, default=2000,
                        help="bootstrap resamples over tasks (default 2000)")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    return parser


def _named(values: list[str], flag: str) -> list[tuple[str, str]]:
    """`NAME=FILE` pairs; names become figure file names, so they are kept plain."""
    pairs = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not path or not name or not all(ch.isalnum() or ch in "_.-" for ch in name):
            raise ValueError(f"{flag} {value!r}: expected NAME=FILE with NAME of letters, digits, '_', '.', '-'")
        pairs.append((name, path))
    return pairs


def _inputs(args: argparse.Namespace) -> tuple[list[tuple[str, str, str | None]], dict[str, str]]:
    """(name, metrics file, expected algorithm) per run in report order, and held-out files by run name."""
    runs = [(name, getattr(args, f"{name}_metrics"), name) for name in ALGORITHMS
            if getattr(args, f"{name}_metrics")]
    runs += [(name, path, None) for name, path in _named(args.run, "--run")]
    evals = [(name, getattr(args, f"{name}_eval")) for name in ALGORITHMS if getattr(args, f"{name}_eval")]
    evals += _named(args.eval, "--eval")
    names = [name for name, _, _ in runs]
    for kind, listed in (("run", names), ("evaluation", [n for n, _ in evals])):
        duplicates = sorted({n for n in listed if listed.count(n) > 1})
        if duplicates:
            raise ValueError(f"{kind} name(s) {duplicates} given twice")
    if not runs:
        raise ValueError("need the metrics of at least one run (--grpo-metrics, --ppo-metrics, --rloo-metrics, "
                         "--run NAME=FILE); with one, the report shows its curves and compares nothing")
    return runs, dict(evals)


def _check_outputs(args: argparse.Namespace, inputs: list[str]) -> tuple[Path, Path]:
    report = Path(args.output)
    figure_dir = report.with_name(f"{report.stem}_figures")
    check_outputs({"--output": args.output, "--json-output": args.json_output}, inputs)
    if args.bootstrap_resamples < 1:
        raise ValueError("--bootstrap-resamples must be at least 1")
    return report, figure_dir


def _run(args: argparse.Namespace) -> int:
    from codeself.jsonl import write_json, write_text
    from codeself.reporting import training_report
    from codeself.reporting.training_metrics import load_run

    runs, evals = _inputs(args)
    inputs = [path for _, path, _ in runs] + list(evals.values()) + [p for p in [args.baseline_eval] if p]
    report_path, figure_dir = _check_outputs(args, inputs)
    options = compare.CompareOptions(split=args.split, allow_non_test=args.allow_non_test, seed=args.seed,
                                     bootstrap_resamples=args.bootstrap_resamples)
    loaded = [load_run(name, path, expected) for name, path, expected in runs]
    report = training_report.build_report(loaded, evals, args.baseline_eval, options)
    # Everything is computed before the first write, so bad input leaves nothing behind.
    for name, text in training_report.figures(report).items():
        write_text(figure_dir / name, text)
    write_text(report_path, training_report.render_markdown(report, figure_dir.name))
    if args.json_output:
        write_json(args.json_output, report)
    if not args.quiet:
        for comparison in report["comparisons"]:
            print(f"{PROG}: {comparison['label']}: {comparison['result']['verdict']}")
        print(f"{PROG}: wrote {report_path} and {figure_dir}/"
              + (f", {args.json_output}" if args.json_output else ""))
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
