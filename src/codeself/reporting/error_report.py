"""The Markdown error-analysis report and its trend chart, rendered from `error_analysis.analyse`.

Everything here reads the analysis document (the same numbers as `--json-output`), so the
report cannot disagree with the JSON.
"""

from __future__ import annotations

from typing import Any

from codeself.execution.errors import ERROR_CATEGORIES, PASSED_KEY
from codeself.reporting import svg

TREND_SERIES = 6  # failure categories drawn in the trend chart (the most frequent); the rest summed
REST = "other categories"


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _present(files: list[dict[str, Any]]) -> list[str]:
    """Count keys with at least one sample in some group, in report order."""
    return [key for key in (PASSED_KEY, *ERROR_CATEGORIES) if any(f["counts"][key] for f in files)]


def trend_chart(analysis: dict[str, Any]) -> str:
    """Share of samples per category against the group's position (or training step)."""
    files = analysis["files"]
    xs = [f["step"] if analysis["by_step"] else position for position, f in enumerate(files, start=1)]
    failing = [c for c in ERROR_CATEGORIES if any(f["counts"][c] for f in files)]
    failing.sort(key=lambda c: -sum(f["counts"][c] for f in files))
    shown, rest = failing[:TREND_SERIES], failing[TREND_SERIES:]
    series = {PASSED_KEY: [(x, f["shares"][PASSED_KEY]) for x, f in zip(xs, files)]}
    series.update({c: [(x, f["shares"][c]) for x, f in zip(xs, files)] for c in shown})
    if rest:
        series[REST] = [(x, sum(f["shares"][c] for c in rest)) for x, f in zip(xs, files)]
    return svg.line_chart(series, title="Error categories (share of samples)",
                          x_label="training step" if analysis["by_step"] else "file (order given)",
                          y_label="share of samples", y_min=0.0, y_max=1.0)


def _inputs(analysis: dict[str, Any]) -> list[str]:
    lines = ["| # | group | file | samples | tasks | passing |", "|---:|---|---|---:|---:|---:|"]
    for position, f in enumerate(analysis["files"], start=1):
        lines.append(f"| {position} | {f['label']} | `{f['path']}` | {f['samples']} | {f['tasks']} | "
                     f"{_pct(f['shares'][PASSED_KEY])} |")
    repeated = [f["label"] for f in analysis["files"] if f["duplicate_samples"]]
    if repeated:
        lines += ["", f"{', '.join(repeated)}: some (task_id, sample_index) occur more than once (a training run's "
                  "rollouts, one record per step?); counts include every record; `--by-step` separates the steps."]
    return lines + [""]


def _per_file(analysis: dict[str, Any]) -> list[str]:
    files = analysis["files"]
    keys = _present(files)
    lines = ["## 1. Error categories per group", "",
             "Samples per error category (share of the group's samples); `passed` samples have none. "
             "Categories: docs/schemas.md, \"Error categories\".", "",
             "| group | " + " | ".join(f"`{k}`" for k in keys) + " |", "|---|" + "---:|" * len(keys)]
    for f in files:
        lines.append(f"| {f['label']} | " + " | ".join(f"{f['counts'][k]} ({_pct(f['shares'][k])})" for k in keys)
                     + " |")
    codes = ["-1", "-2", "-3", "-4", "-5", "none"]
    lines += ["", "LiveCodeBench error codes of the failing samples (-1 compilation, -2 wrong answer, "
              "-3 time limit, -4 runtime, -5 test runner; `none`: no code maps):", "",
              "| group | " + " | ".join(codes) + " |", "|---|" + "---:|" * len(codes)]
    lines += [f"| {f['label']} | " + " | ".join(str(f["lcb_error_codes"][c]) for c in codes) + " |" for f in files]
    return lines + [""]


def _trend(analysis: dict[str, Any], figure: str) -> list[str]:
    files = analysis["files"]
    if len(files) < 2:
        return ["## 2. Trend", "", "One group only: nothing to compare.", ""]
    first, last = files[0], files[-1]
    lines = ["## 2. Trend", "",
             f"Share of samples per category from the first group ({first['label']}) to the last "
             f"({last['label']}), in the order given; every group's shares are in section 1.", "",
             "| category | first | last | change (points) | lowest | highest |", "|---|---:|---:|---:|---:|---:|"]
    for key in _present(files):
        values = [f["shares"][key] for f in files]
        lines.append(f"| `{key}` | {_pct(values[0])} | {_pct(values[-1])} | {100 * (values[-1] - values[0]):+.1f} | "
                     f"{_pct(min(values))} | {_pct(max(values))} |")
    what = "training step" if analysis["by_step"] else "position of the file in the order given"
    lines += ["", f"![Figure 1: error categories across groups]({figure})", "",
              f"*Figure 1.* Share of samples per category against the {what}: `passed`, the "
              f"{TREND_SERIES} most frequent failure categories, and the rest summed as \"{REST}\".", ""]
    return lines


def _transitions(analysis: dict[str, Any]) -> list[str]:
    t = analysis["transitions"]
    head = ["## 3. Paired transitions (first group → last group)", ""]
    if t is None:
        return head + ["One group only: nothing to pair.", ""]
    if t["note"]:
        return head + [f"{t['from']} → {t['to']}: {t['note']}.", ""]
    rows = [k for k in t["table"] if any(t["table"][k].values())]
    cols = [k for k in t["table"] if any(t["table"][r][k] for r in t["table"])]
    lines = head + [f"{t['paired']} samples paired by (task_id, sample_index) between {t['from']} (rows) and "
                    f"{t['to']} (columns); {t['unpaired']['from_only']} only in the first, "
                    f"{t['unpaired']['to_only']} only in the last. {t['changed']} changed category. With several "
                    "samples per task, sample i of one group meets sample i of the other.", "",
                    "| from \\ to | " + " | ".join(f"`{c}`" for c in cols) + " |", "|---|" + "---:|" * len(cols)]
    lines += [f"| `{r}` | " + " | ".join(str(t["table"][r][c]) for c in cols) + " |" for r in rows]
    fixed = ", ".join(f"`{c}` {n}" for c, n in t["fixed"].items() if n) or "none"
    appeared = ", ".join(f"`{c}` {n}" for c, n in t["appeared"].items() if n) or "none"
    return lines + ["", f"Fixed (failing first, passing last), by the first category: {fixed}.",
                    f"Appeared (passing first, failing last), by the new category: {appeared}.", ""]


def _messages(analysis: dict[str, Any]) -> list[str]:
    lines = ["## 4. Most frequent failure messages", "",
             "Per category, over all groups: the failure's error type and message with numbers masked as "
             "`<n>`, names as `<name>`, other quoted text as `<str>` and compared values as `<value>` "
             "(builtin type names kept), with one example.", ""]
    if not analysis["messages"]:
        return lines + ["No sample failed.", ""]
    for category, rows in analysis["messages"].items():
        lines += [f"**`{category}`**", "", "| samples | error type | message | example |", "|---:|---|---|---|"]
        for row in rows:
            message = row["message"].replace("|", "\\|") or "(no message)"
            lines.append(f"| {row['count']} | {row['error_type'] or ''} | {message} | "
                         f"`{row['example_task_id']}` ({row['example_file']}) |")
        lines.append("")
    return lines


def _breakdown(analysis: dict[str, Any], title: str, name: str, field: str) -> list[str]:
    """Counts per split or per language (`field` of each group that has it)."""
    keys = _present(analysis["files"])
    lines = [title, "", f"| group | {name} | samples | " + " | ".join(f"`{k}`" for k in keys) + " |",
             "|---|---|---:|" + "---:|" * len(keys)]
    for f in analysis["files"]:
        for value, counts in f.get(field, {}).items():
            lines.append(f"| {f['label']} | {value} | {sum(counts.values())} | "
                         + " | ".join(str(counts[k]) for k in keys) + " |")
    return lines + [""]


def _per_split(analysis: dict[str, Any]) -> list[str]:
    return _breakdown(analysis, "## 5. Per split", "split", "per_split")


def _per_language(analysis: dict[str, Any]) -> list[str]:
    """Only when some group holds more than one language (`per_language` in the JSON)."""
    if not any(f.get("per_language") for f in analysis["files"]):
        return []
    return _breakdown(analysis, "## 6. Per language", "language", "per_language")


def render_markdown(analysis: dict[str, Any], figure: str) -> str:
    """The report; `figure` is the trend chart's path relative to the report."""
    head = ["# Error analysis", "",
            "Why samples fail, per input group (a file, or a training step with `--by-step`), in the order given.",
            ""]
    body = (head + _inputs(analysis) + _per_file(analysis) + _trend(analysis, figure) + _transitions(analysis)
            + _messages(analysis) + _per_split(analysis) + _per_language(analysis))
    return "\n".join(body).rstrip("\n") + "\n"
