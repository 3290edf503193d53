#!/usr/bin/env python3
"""Render agentic traces for reading: Markdown for a few episodes, or one self-contained HTML page.

    python3 scripts/view_agent_trace.py --traces outputs/reports/agentic_traces.jsonl --output outputs/reports/agent_trace.md
    python3 scripts/view_agent_trace.py --traces outputs/reports/agentic_traces.jsonl --output outputs/reports/agent_traces.html

The format follows the output's extension (.md or .html) unless --format says otherwise. The HTML
page opens from file:// with no network and filters episodes by final status, first -> final
transition, first-attempt error category and task.
"""

import argparse

import _bootstrap  # noqa: F401

from codeself.cli import run_main

PROG = "view_agent_trace.py"
FORMATS = ("markdown", "html")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", required=True, help="trace JSONL written by scripts/run_agentic.py")
    parser.add_argument("--output", required=True, help="file to write (.md or .html)")
    parser.add_argument("--format", help="markdown or html (default: from the output's extension)")
    parser.add_argument("--task-id", action="append", default=[],
                        help="only episodes of this task (repeatable; default all)")
    parser.add_argument("--limit", type=int,
                        help="at most N episodes (default: 5 for Markdown, all for HTML)")
    parser.add_argument("--title", default="Agent traces", help="page title (HTML)")
    return parser


def _format(args: argparse.Namespace) -> str:
    if args.format:
        if args.format not in FORMATS:
            raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {args.format!r}")
        return args.format
    if args.output.endswith(".md"):
        return "markdown"
    if args.output.endswith((".html", ".htm")):
        return "html"
    raise ValueError(f"cannot tell the format of {args.output!r}; end it in .md or .html, or pass --format")


def _run(args: argparse.Namespace) -> int:
    from codeself.agents.agentic.trace import read_traces
    from codeself.agents.agentic.viewer import render_html, render_markdown, select
    from codeself.cli import refuse_overwriting_input
    from codeself.jsonl import write_text

    kind = _format(args)
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    refuse_overwriting_input([args.traces], args.output)
    limit = args.limit if args.limit is not None or kind == "html" else 5
    traces = select(read_traces(args.traces), args.task_id, limit)
    if not traces:
        wanted = f" for task(s) {', '.join(args.task_id)}" if args.task_id else ""
        raise ValueError(f"{args.traces}: no episodes{wanted}")
    write_text(args.output, render_markdown(traces) if kind == "markdown" else render_html(traces, args.title))
    print(f"wrote {len(traces)} episode(s) to {args.output} ({kind})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
