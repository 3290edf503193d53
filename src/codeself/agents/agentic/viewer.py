"""Human views of agentic traces: Markdown for a few episodes, one self-contained HTML file for all.

The HTML page is a single file that opens from `file://` with no network: inline CSS and
JavaScript, and the episodes as JSON in a `<script type="application/json">` element. That JSON
is made safe for the HTML parser by escaping `<`, `>` and `&` as `\\u003c`-style escapes (so no
`</script>` can close the element early) and U+2028 / U+2029 (line terminators for older
JavaScript parsers); the page puts every trace string into the DOM with `textContent`, never as
markup, so a completion holding HTML or script shows as text.

Per episode the page shows the prompt, each turn's reply, program and diff, the feedback, and a
grid of test outcomes (public and hidden); the list can be filtered by final status, first →
final transition, first-attempt error category and task id (viewer_page.py holds the page).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from codeself.agents.agentic.trace import EpisodeTrace

_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def select(traces: Iterable[EpisodeTrace], task_ids: list[str] | None = None, limit: int | None = None) -> list[EpisodeTrace]:
    """The episodes of `task_ids` (all when empty), at most `limit` of them, in file order."""
    chosen = []
    for trace in traces:
        if task_ids and trace.task_id not in task_ids:
            continue
        chosen.append(trace)
        if limit is not None and len(chosen) >= limit:
            break
    return chosen


def transition(trace: EpisodeTrace) -> str:
    """First attempt → submission, as c/i (correct: every test passed); repair starts are incorrect."""
    first = trace.start["execution"]["status"] == "passed" if trace.start else trace.turns[0].execution.get("status") == "passed"
    return f"{'c' if first else 'i'}→{'c' if trace.final['passed'] else 'i'}"


def _fence(text: str, language: str = "") -> list[str]:
    """A fenced block that its content cannot close: the fence is longer than any run of backticks inside."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return [fence + language, text.rstrip("\n"), fence]


def _test_grid(turn: Any) -> list[str]:
    mark = lambda ok: "✅" if ok else "❌"  # noqa: E731
    cells = [f"P{t['index'] + 1} {mark(t['passed'])}" for t in turn.public_tests]
    cells += [f"H{t['index'] + 1} {mark(t['passed'])}" for t in turn.hidden_tests]
    return ["| " + " | ".join(cells) + " |", "|" + "---|" * len(cells)] if cells else ["(no test ran)"]


def render_markdown(traces: list[EpisodeTrace]) -> str:
    lines = ["# Agent traces", "", f"{len(traces)} episode(s).", ""]
    for trace in traces:
        lines += [f"## {trace.task_id} — sample {trace.sample_index} ({trace.mode})", "",
                  f"Final: **{'passed' if trace.final['passed'] else 'failed'}** ({trace.final['status']}) after "
                  f"{trace.turns_used} turn(s), stopped by `{trace.stop_reason}`; transition {transition(trace)}; "
                  f"first-attempt category `{trace.first_error_category}`; return {trace.reward['return']:.3f} "
                  f"(`{trace.reward['name']}`); backend `{trace.backend}`.", "", "### Prompt", ""]
        for message in trace.prompt:
            lines += [f"**{message['role']}**:", "", *_fence(message["content"], "text"), ""]
        if trace.start:
            lines += ["### Starting program", "", f"Mutation: {trace.start['mutation']}", "",
                      *_fence(trace.start["code"], "python"), ""]
        for turn in trace.turns:
            lines += [f"### Turn {turn.turn}", "", f"Parse: `{turn.parse_status}`; execution "
                      f"`{turn.execution.get('status')}` (public {_counts(turn.execution.get('public'))}, hidden "
                      f"{_counts(turn.execution.get('hidden'))}); r_t {turn.progress:.3f}; reward {turn.reward:.3f}"
                      + ("; identical to the previous program" if turn.identical_to_previous else "")
                      + (f"; mock intent `{turn.metadata['mock_intent']}`" if "mock_intent" in turn.metadata else ""), ""]
            if turn.code is not None:
                lines += ["Program:", "", *_fence(turn.code, "python"), ""]
            else:
                lines += ["Reply (no code):", "", *_fence(turn.completion, "text"), ""]
            if turn.diff:
                lines += ["Diff from the previous program:", "", *_fence(turn.diff, "diff"), ""]
            lines += ["Tests (P = public, H = hidden):", "", *_test_grid(turn), ""]
            if turn.feedback:
                lines += ["Feedback:", "", *_fence(turn.feedback, "text"), ""]
    return "\n".join(lines)


def _counts(counts: dict | None) -> str:
    return "–" if not counts else f"{counts['passed']}/{counts['total']}"


def script_json(value: Any) -> str:
    """JSON that can sit inside a <script> element: see the module docstring."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def page_data(traces: list[EpisodeTrace]) -> list[dict[str, Any]]:
    """What the page needs of each episode (timing and bulky duplicates dropped)."""
    data = []
    for trace in traces:
        record = trace.to_json()
        record.pop("timing", None)
        record.pop("env", None)
        record["transition"] = transition(trace)
        for turn in record["turns"]:
            turn.pop("timing", None)
        data.append(record)
    return data


def render_html(traces: list[EpisodeTrace], title: str = "Agent traces") -> str:
    from html import escape

    from codeself.agents.agentic.viewer_page import PAGE

    head, tail = PAGE.split("__DATA__")  # the data goes in last, so nothing inside it is ever substituted
    return head.replace("__TITLE__", escape(title)) + script_json(page_data(traces)) + tail
