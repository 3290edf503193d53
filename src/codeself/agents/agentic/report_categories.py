"""Per repair category rows of the strategy report (categories.py: syntax, logic, type_error,
algorithmic, security), from the trace's `start.category`.

Per category: episodes; **start pass rate** (the starting program passes every test: 0 for
every category but algorithmic, whose starts pass by construction); **final pass rate**; **fix
rate** over episodes whose start needed fixing — for algorithmic the start is correct but slow,
so a fix is a submission that passes every test *and* whose efficiency score reaches
`categories.EFFICIENT_SCORE` (starts are screened to score below it); for the others, an
incorrect start → a correct submission; and the mean episode return. Traces without a start
category (solve mode, or written before categories existed) have no row.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from codeself.agents.agentic.categories import EFFICIENT_SCORE, REPAIR_CATEGORIES


def repair_outcome(trace: Any) -> tuple[str, bool] | None:
    """(repair category, fixed) of a trace; None without a start category."""
    start = trace.start or {}
    category = start.get("category")
    if category is None or not trace.turns:
        return None
    final = trace.turns[-1].execution
    passed = final.get("status") == "passed"
    if category == "algorithmic":
        score = (final.get("efficiency") or {}).get("score")
        return category, passed and isinstance(score, (int, float)) and score >= EFFICIENT_SCORE
    return category, passed and start["execution"]["status"] != "passed"


def repair_rows(summaries: list[Any]) -> list[dict[str, Any]]:
    """The rows (module docstring), in REPAIR_CATEGORIES order; [] when no episode has a category."""
    from codeself.agents.agentic.report import _rate

    groups: dict[str, list[Any]] = defaultdict(list)
    for summary in summaries:
        if summary.repair is not None:
            groups[summary.repair[0]].append(summary)
    rows = []
    for category in (name for name in REPAIR_CATEGORIES if name in groups):
        group = groups[category]
        to_fix = group if category == "algorithmic" else [s for s in group if not s.start_correct]
        rows.append({"category": category, "episodes": len(group),
                     "start_pass": _rate(sum(bool(s.start_correct) for s in group), len(group)),
                     "final_pass": _rate(sum(s.correct[-1] for s in group), len(group)),
                     "fix_rate": _rate(sum(s.repair[1] for s in to_fix), len(to_fix)),
                     "mean_return": math.fsum(s.episode_return for s in group) / len(group)})
    return rows


def repair_section(metrics: dict[str, Any]) -> list[str]:
    """Markdown lines of the rows ([] without any)."""
    from codeself.agents.agentic.report_markdown import _rate

    rows = metrics.get("by_repair_category") or []
    if not rows:
        return []
    lines = ["## By repair category", "", "Start → final pass rate (every test passed) and fix rate; an algorithmic "
             f"start passes already, so its fix is a passing submission with efficiency score ≥ {EFFICIENT_SCORE:g}.",
             "", "| category | episodes | start pass rate | final pass rate | fix rate | mean return |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {row['category']} | {row['episodes']} | {_rate(row['start_pass'])} | {_rate(row['final_pass'])} | "
              f"{_rate(row['fix_rate'])} | {row['mean_return']:.3f} |" for row in rows]
    return lines + [""]
