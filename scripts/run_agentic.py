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

from codeself.agents.backends.base import BackendOptions
from codeself.cli import add_dataclass_flags, add_execution_flags, dataclass_from_args, execution_placement, run_main

PROG = "run_agentic.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", required=True, help="canonical task JSONL (from scripts/prepare_datasets.py)")
    parser.add_argument("--trace-output", required=True, help="trace JSONL to write, one record per episode")
    parser.add_argument("--report-output", help="also write the strategy report (Markdown + SVG figures) here")
    parser.add_argument("--backend", required=True, help="who answers: mock, static, openai or hf")
    episode = parser.add_argument_group("episodes")
    episode.add_argument("--mode", default="solve", help="solve (from the prompt) or repair (from a buggy program)")
    episode.add_argument("--max-revisions", type=int, default=1,
                         help="model turns after the first (0 = a single attempt; default 1)")
    episode.add_argument("--stop-when-public-pass", action=argparse.BooleanOptionalAction, default=True,
                         help="end an episode once every public test passes (default on; turn off to measure "
                              "regressions of correct programs)")
    episode.add_argument("--feedback", default="tests",
                         help="tests (public-test report), generic (CoCoS's fixed 'there might be an error' "
                              "instruction, no execution output) or none (the task is asked again)")
    episode.add_argument("--reward", default="cocos", help="episode reward: cocos (progressive) or rlef (terminal +1/-1)")
    episode.add_argument("--gamma", type=float, default=0.5, help="cocos: discount of earlier improvements (default 0.5)")
    episode.add_argument("--no-code-penalty", type=float,
                         help="subtracted for a reply with no code (default 0.2 for rlef, 0 for cocos)")
    episode.add_argument("--step-penalty", type=float, default=0.0, help="subtracted per model turn (default 0)")
    episode.add_argument("--identical-penalty", type=float, default=0.0,
                         help="subtracted for resubmitting the previous program unchanged (default 0)")
    episode.add_argument("--template", default="chat_default", help="chat prompt template (default chat_default)")
    run = parser.add_argument_group("run")
    run.add_argument("--samples-per-task", type=int, help="episodes per task (default 1; static: every recorded one)")
    run.add_argument("--seed", type=int, default=0, help="run seed; every random choice derives from it (default 0)")
    run.add_argument("--workers", type=int, help="sandbox worker processes (default: CPU count)")
    run.add_argument("--split", help="only tasks of this split")
    run.add_argument("--limit", type=int, help="only the first N selected tasks")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run, adding the missing episodes")
    run.add_argument("--overwrite", action="store_true", help="replace an existing trace file instead of refusing")
    run.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    add_execution_flags(run, stop_at_first_failure=False)
    backend = parser.add_argument_group("backend options")
    add_dataclass_flags(backend, BackendOptions, help_overrides={
        "completions": "static: recorded turns to replay (a trace JSONL, or "
                       "{task_id, sample_index, turns: [completion, ...]} lines)",
        "max_tokens": "maximum generated tokens per turn",
        "mock_correct_fraction": "mock: intended fraction of correct first attempts (default 0.5)"})
    backend.add_argument("--mock-fix-rate", type=float, default=0.6,
                         help="mock: probability of repairing after feedback that shows a failure (default 0.6)")
    backend.add_argument("--mock-break-rate", type=float, default=0.2,
                         help="mock: probability of breaking a program told that every public test passed (default 0.2)")
    return parser


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from codeself.agents.agentic.loop import AgenticSettings, env_config_from, format_summary, run_agentic
    from codeself.agents.agentic.mock_reviser import ReviserConfig

    env = env_config_from(args.mode, args.max_revisions, args.stop_when_public_pass, args.feedback, args.reward,
                          args.gamma, args.no_code_penalty, args.step_penalty, args.identical_penalty, args.template)
    options = dataclass_from_args(BackendOptions, args)
    settings = AgenticSettings(
        tasks=args.tasks, trace_output=args.trace_output, backend=args.backend, env=env,
        samples_per_task=args.samples_per_task, seed=args.seed, workers=args.workers, split=args.split,
        limit=args.limit, resume=args.resume, overwrite=args.overwrite, calibration_cache=args.calibration_cache,
        **execution_placement(args), backend_options=options, reviser=ReviserConfig(fix_with_tests=args.mock_fix_rate,
                                                       break_passing=args.mock_break_rate),
        command_line=("scripts/run_agentic.py", *argv))
    if args.report_output:
        from codeself.cli import refuse_overwriting_input

        refuse_overwriting_input([args.trace_output, args.tasks], args.report_output)
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
