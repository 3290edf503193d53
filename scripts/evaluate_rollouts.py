"""Evaluate a rollout file: pass@k with bootstrap CIs, public-vs-hidden agreement, status and
parser breakdowns, reward statistics, GRPO zero-variance groups and a power plan.

Streams the rollouts once (memory grows with the number of tasks, not samples). Writes a
Markdown results section (REPORT.md) with SVG figures in REPORT_figures/ beside it, and
optionally the metrics as JSON (--json-output) and the power plan alone (--power-output).
Every metric is defined in docs/schemas.md, "Evaluation metrics".

Example:
    python3 scripts/evaluate_rollouts.py --rollouts outputs/rollouts.jsonl \\
        --output outputs/report.md --json-output outputs/metrics.json
"""

import _bootstrap  # noqa: F401

import argparse
from pathlib import Path

from codeself.cli import Progress, check_outputs, run_main

PROG = "evaluate_rollouts.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollouts", required=True,
                        help="rollout JSONL (or an execution-results JSONL); .gz is read transparently")
    parser.add_argument("--output", required=True, help="Markdown report to write (figures go to <stem>_figures/)")
    parser.add_argument("--json-output", help="also write every metric as JSON here")
    parser.add_argument("--power-output", help="also write the power plan alone as JSON here")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling (default 0)")
    parser.add_argument("--bootstrap-resamples", type=int, default=2000,
                        help="bootstrap resamples of tasks for each confidence interval (default 2000)")
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.jsonl import require_regular_file, write_json, write_text
    from codeself.reporting.evaluation import evaluate_file
    from codeself.reporting.evaluation_report import figures, render_markdown

    require_regular_file(args.rollouts, "--rollouts")
    if args.bootstrap_resamples < 1:
        raise ValueError("--bootstrap-resamples must be at least 1")
    check_outputs({"--output": args.output, "--json-output": args.json_output, "--power-output": args.power_output},
                  [args.rollouts])
    with Progress("evaluate", quiet=args.quiet) as progress:
        summary = evaluate_file(args.rollouts, seed=args.seed, resamples=args.bootstrap_resamples,
                                progress=progress)
    report = Path(args.output)
    figure_dir = report.with_name(f"{report.stem}_figures")
    for name, text in figures(summary).items():
        write_text(figure_dir / name, text)
    write_text(report, render_markdown(summary, figure_dir.name))
    if args.json_output:
        write_json(args.json_output, summary)
    if args.power_output:
        write_json(args.power_output, summary["power_plan"])
    ci = summary["pass_at_k_ci"]["1"]
    print(f"{summary['n_tasks']} tasks, {summary['n_samples']} samples: pass@1 = "
          f"{summary['pass_at_k']['1']:.4f} (95% CI {ci[0]:.4f}-{ci[1]:.4f}); report: {report}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
