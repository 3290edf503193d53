"""Calibrate an LLM judge against test verdicts: AUROC, Cohen's kappa, repeat and order consistency.

Reads an executed rollout file (or an execution-results file from execute_samples.py), asks the
judge (any OpenAI-compatible server, e.g. one on 127.0.0.1) to rate every sample's program,
passing or not, then rates some programs a second time and compares a passing with a failing
program of some tasks in both orders. Judge failures (replies outside the closed output) are
counted by reason and never scored. Writes a Markdown table (--output) and, optionally, every
figure as JSON (--json-output); fields in docs/schemas.md, "Judge calibration JSON".

Example:
    python3 scripts/calibrate_judge.py --results outputs/rollouts.jsonl --judge-model smollm2 \\
        --judge-base-url http://127.0.0.1:8080/v1 --output outputs/judge.md --json-output outputs/judge.json
"""

import _bootstrap  # noqa: F401

import argparse

from codeself.cli import Progress, add_dataclass_flags, check_outputs, dataclass_from_args, run_main

PROG = "calibrate_judge.py"
JUDGE_FIELDS = ("model", "base_url", "api_key_env", "output", "rename_identifiers", "temperature",
                "max_tokens", "timeout_s", "max_retries", "concurrency", "seed")


def build_parser() -> argparse.ArgumentParser:
    from codeself.rewards.judge import JudgeConfig

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", required=True,
                        help="executed rollout JSONL or execute_samples.py output (.gz read transparently)")
    parser.add_argument("--tasks", help="task JSONL: the task statement, entry point and starter code "
                                        "(needed for records that carry only 'completion')")
    parser.add_argument("--output", required=True, help="Markdown report to write")
    parser.add_argument("--json-output", help="also write every figure as JSON here")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="score at or above which the judge counts as saying 'passes', for kappa (default 0.5)")
    parser.add_argument("--repeats", type=int, default=20,
                        help="rated samples to rate a second time, for repeat consistency (default 20)")
    parser.add_argument("--pairs", type=int, default=20,
                        help="tasks whose passing and failing programs are compared in both orders (default 20)")
    parser.add_argument("--limit", type=int, help="judge only the first N records")
    parser.add_argument("--seed", type=int, default=0, help="seed choosing the repeated samples and pairs (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    group = parser.add_argument_group("judge")
    add_dataclass_flags(group, JudgeConfig, only=JUDGE_FIELDS,
                        help_overrides={"model": "model name the judge's OpenAI-compatible server serves"})
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.datasets.task import load_tasks
    from codeself.jsonl import require_regular_file, write_json, write_text
    from codeself.reporting.judge_calibration import calibrate, load_items, render_markdown
    from codeself.rewards.judge import JudgeConfig, LLMJudge

    require_regular_file(args.results, "--results")
    inputs = [args.results] + ([args.tasks] if args.tasks else [])
    check_outputs({"--output": args.output, "--json-output": args.json_output}, inputs)
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    config = dataclass_from_args(JudgeConfig, args)
    if not config.model:
        raise ValueError("--judge-model is required: the model name the judge server serves")
    tasks = None
    if args.tasks:
        tasks = {task.task_id: task for task in load_tasks(require_regular_file(args.tasks, "--tasks"))}
    items = load_items(args.results, tasks, args.limit)
    with LLMJudge(config) as judge, Progress("judge", len(items), quiet=args.quiet) as progress:
        summary = calibrate(items, judge, threshold=args.threshold, repeats=args.repeats, pairs=args.pairs,
                            seed=args.seed, progress=progress)
    write_text(args.output, render_markdown(summary))
    if args.json_output:
        write_json(args.json_output, summary)
    agreement, outcomes = summary["agreement"], summary["outcomes"]
    auroc = "n/a" if agreement["auroc"] is None else f"{agreement['auroc']:.3f}"
    print(f"{summary['n_samples']} samples: {outcomes['scored']} rated, {outcomes['failures']} judge failures, "
          f"{outcomes['not_judged']} not shown; AUROC {auroc}; report: {args.output}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
