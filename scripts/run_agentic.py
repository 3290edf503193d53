#!/usr/bin/env python3
"""Run multi-turn self-debugging episodes (write, read public-test feedback, revise, submit) and write traces.

    python3 scripts/run_agentic.py --tasks configs/datasets/tasks.example.jsonl \\
        --trace-output outputs/reports/agentic_traces.jsonl \\
        --report-output outputs/reports/agentic_strategy_report.md --backend mock --max-revisions 1

A client of `codeself.agents.agentic.env.CodeRepairEnv`: each episode is reset/act/step until it
ends; hidden tests judge the final submission and are recorded per turn, never shown. Traces are
appended as produced (docs/schemas.md, "Agentic traces"); --resume continues an interrupted run.
"""

import argparse
import sys

import _bootstrap  # noqa: F401

from codeself.cli import (add_dataclass_flags, add_episode_flags, add_run_flags, check_outputs, dataclass_from_args,
                          episode_config, run_main, run_settings_from_args)

PROG = "run_agentic.py"
# the sandbox settings this script lets users set (others: ExecutionConfig's defaults)
EXECUTION_FIELDS = ("workers", "timeout_floor_s", "calibration_cache", "executor", "ray_address", "efficiency")


def build_parser() -> argparse.ArgumentParser:
    from codeself.agents.agentic.loop import AgenticSettings
    from codeself.agents.agentic.mock_reviser import ReviserConfig

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    episodes = parser.add_argument_group("episodes")  # groups are listed in the order they are made
    backend = add_run_flags(parser, AgenticSettings, EXECUTION_FIELDS, exclude=("env", "reviser"), backend_help={
        "completions": "static: recorded turns to replay (a trace JSONL, or "
                       "{task_id, sample_index, turns: [completion, ...]} lines)",
        "max_tokens": "maximum generated tokens per turn",
        "mock_correct_fraction": "mock: intended fraction of correct first attempts (default 0.5)"})
    add_dataclass_flags(backend, ReviserConfig, only=("fix_with_tests", "break_passing"))
    # curriculum and memory need episodes in sequence with the environment choosing tasks; this loop runs a
    # fixed list of (task, sample) episodes in parallel: serve_env.py and CodeRepairEnv offer them
    add_episode_flags(episodes, exclude=("curriculum", "memory"))
    parser.add_argument("--report-output", help="also write the strategy report (Markdown + SVG figures) here")
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    return parser


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from codeself.agents.agentic.loop import AgenticSettings, format_summary, run_agentic
    from codeself.agents.agentic.mock_reviser import ReviserConfig

    settings = run_settings_from_args(AgenticSettings, args, ("scripts/run_agentic.py", *argv),
                                      env=episode_config(args), reviser=dataclass_from_args(ReviserConfig, args))
    check_outputs({"--trace-output": args.trace_output, "--report-output": args.report_output}, [args.tasks])
    summary = run_agentic(settings, quiet=args.quiet)
    print(format_summary(summary, args.trace_output))
    if args.report_output:
        from codeself.agents.agentic.report import metrics_from_file
        from codeself.agents.agentic.report_markdown import write_report

        write_report(metrics_from_file(args.trace_output, seed=args.seed), args.report_output, args.trace_output)
        print(f"wrote the strategy report to {args.report_output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args, argv), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
