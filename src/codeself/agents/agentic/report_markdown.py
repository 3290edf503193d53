"""The strategy report: Markdown with SVG figures, from `report.strategy_metrics`.

Figures go to `<report stem>_figures/` beside the report and are linked relatively, as the
evaluation report does; the same metrics give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codeself.agents.agentic.report import TRANSITIONS
from codeself.agents.agentic.report_categories import repair_section
from codeself.jsonl import write_text
from codeself.reporting import svg


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _rate(rate: dict[str, Any]) -> str:
    if rate["rate"] is None:
        return "n/a (n = 0)"
    low, high = rate["ci"]
    return f"{_pct(rate['rate'])} [{_pct(low)}, {_pct(high)}] ({rate['successes']}/{rate['n']})"


def _mean(entry: dict[str, Any], digits: int = 3) -> str:
    if entry["mean"] is None:
        return "n/a"
    low, high = entry["ci"]
    return f"{entry['mean']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _no_public(metrics: dict[str, Any]) -> str:
    counts = metrics.get("no_public_tests", {"episodes": 0, "tasks": 0})
    return f"{counts['episodes']} of {metrics['n_episodes']} ({counts['tasks']} task(s))"


def figures(metrics: dict[str, Any]) -> dict[str, str]:
    turns = metrics["pass_at_1_by_turn"]
    pass_chart = svg.line_chart({"pass@1": [(t["turn"], t["mean"]) for t in turns]},
                                intervals={"pass@1": [(t["turn"], *t["ci"]) for t in turns]},
                                title="pass@1 after each turn (95 % bootstrap CI over tasks)",
                                x_label="turn", y_label="pass@1", y_min=0.0, y_max=1.0)
    first_final = metrics["first_final"]
    transitions = svg.bar_chart(list(TRANSITIONS), [first_final[name] for name in TRANSITIONS],
                                title="first attempt → final submission", y_label="episodes")
    counts = metrics["turns_used"]["counts"]
    turns_used = svg.bar_chart(list(counts), list(counts.values()), title="turns used", x_label="turns",
                               y_label="episodes")
    sizes = metrics["revision_size"]["values"]
    revision = svg.histogram(sizes, title="revision size (lines added + removed)", bins=10, x_label="lines")
    categories = metrics["by_first_category"]
    by_category = svg.bar_chart([row["category"] for row in categories],
                                [row["final_pass"]["rate"] or 0.0 for row in categories],
                                title="final pass rate by first-attempt error category", y_label="pass rate",
                                value_format="{:.2f}")
    charts = {"pass_by_turn.svg": pass_chart, "transitions.svg": transitions, "turns_used.svg": turns_used,
              "revision_size.svg": revision, "by_first_category.svg": by_category}
    return {**charts, **_practice_figures(metrics)}


def _practice_figures(metrics: dict[str, Any]) -> dict[str, str]:
    """Reward by category; the efficiency distributions when there are records; memory hits when on."""
    rows = metrics.get("reward_by_category", [])
    charts = {"reward_by_category.svg": svg.bar_chart(
        [row["category"] for row in rows], [row["return"]["mean"] for row in rows],
        title="mean episode return by category", y_label="return", value_format="{:.2f}")} if rows else {}
    efficiency = metrics.get("efficiency") or {}
    for name, title in (("score", "efficiency score of the submission"), ("exponent", "growth exponent of the submission")):
        shape = efficiency.get(name)
        if shape and shape["n"]:
            edges = shape["histogram"]["edges"]
            labels = [f"{low:g}–{high:g}" for low, high in zip(edges, edges[1:])]
            charts[f"efficiency_{name}.svg"] = svg.bar_chart(labels, shape["histogram"]["counts"], title=title,
                                                             x_label=name, y_label="episodes")
    memory = metrics.get("memory")
    if memory:
        rates = [memory["pass_shown"]["rate"], memory["pass_not_shown"]["rate"]]
        charts["memory.svg"] = svg.bar_chart(["memory shown", "not shown"], [rate or 0.0 for rate in rates],
                                             title="final pass rate with and without a memory entry",
                                             y_label="pass rate", value_format="{:.2f}")
    return charts


def _practice_section(metrics: dict[str, Any], figure_dir: str) -> list[str]:
    rows = metrics.get("reward_by_category", [])
    if not rows:
        return []
    lines = ["## Reward by category", "", "Category: the repair category of the episode's start, else the task's "
             "(trace metadata with a curriculum or memory on; else the family in the task id).", "", "| category | episodes | mean return [95 % CI] | "
             "final pass rate |", "|---|---|---|---|"]
    lines += [f"| {row['category']} | {row['episodes']} | {_mean(row['return'])} | {_rate(row['final_pass'])} |"
              for row in rows]
    lines += ["", f"![reward by category]({figure_dir}/reward_by_category.svg)", ""]
    efficiency = metrics.get("efficiency") or {}
    if any((efficiency.get(name) or {}).get("n") for name in ("score", "exponent")):
        lines += ["## Efficiency of the submissions", "", "Passing submissions measured with `--efficiency` "
                  "(executed bytecode instructions at the task's scale inputs against the reference).", "",
                  "| measure | n | mean | p10 | p50 | p90 | p99 |", "|---|---|---|---|---|---|---|"]
        for name in ("score", "exponent"):
            shape = efficiency[name]
            if shape["n"]:
                cells = [shape["mean"], *(shape["percentiles"][q] for q in ("p10", "p50", "p90", "p99"))]
                lines.append(f"| {name} | {shape['n']} | " + " | ".join(f"{value:.3f}" for value in cells) + " |")
        lines += ["", " ".join(f"![efficiency {name}]({figure_dir}/efficiency_{name}.svg)"
                               for name in ("score", "exponent") if efficiency[name]["n"]), ""]
    memory = metrics.get("memory")
    if memory:
        lines += ["## Memory", "", f"- episodes with memory on: {memory['episodes']}; shown an entry (hits): "
                  f"{_rate(memory['hits'])}", f"- final pass rate when shown: {_rate(memory['pass_shown'])}; "
                  f"when not: {_rate(memory['pass_not_shown'])}", "", f"![memory]({figure_dir}/memory.svg)", ""]
    return lines


def render_markdown(metrics: dict[str, Any], figure_dir: str, source: str = "") -> str:
    lines = ["# Agentic strategy report", ""]
    if source:
        lines += [f"Traces: `{source}` — {metrics['n_episodes']} episodes over {metrics['n_tasks']} tasks, "
                  f"at most {metrics['max_turns']} turns.", ""]
    for setting in metrics.get("settings", []):
        lines.append(f"- mode `{setting['mode']}`, backend `{setting['backend']}`, feedback `{setting['feedback']}`, "
                     f"max revisions {setting['max_revisions']}, stop when public tests pass "
                     f"{setting['stop_when_public_pass']}, reward `{setting['reward']}`: {setting['episodes']} episodes")
    lines += ["", "Correct = every public and hidden test passed. Intervals are 95 %: Wilson over episodes for "
              "rates, percentile bootstrap over tasks for pass@1 and over episodes for means.", "",
              "## pass@1 after each turn", "", "| turn | pass@1 | 95 % CI |", "|---|---|---|"]
    for turn in metrics["pass_at_1_by_turn"]:
        low, high = turn["ci"]
        lines.append(f"| {turn['turn']} | {turn['mean']:.3f} | [{low:.3f}, {high:.3f}] |")
    lines += ["", f"![pass@1 by turn]({figure_dir}/pass_by_turn.svg)", "", "## Fixes and regressions", "",
              f"- fix rate (incorrect first attempt → correct submission): {_rate(metrics['fix_rate'])}",
              f"- regression rate (correct first attempt → incorrect submission): {_rate(metrics['regression_rate'])}",
              f"- turn to turn (every consecutive pair of turns): fix {_rate(metrics['turn_fix_rate'])}, "
              f"regression {_rate(metrics['turn_regression_rate'])}",
              f"- public tests pass but hidden fail at submission (episodes with public tests): "
              f"{_rate(metrics['public_pass_hidden_fail'])}",
              f"- episodes on tasks with no public test (no stop on a public pass, feedback says nothing was "
              f"checked): {_no_public(metrics)}",
              f"- identical resubmissions (of revision turns): {_rate(metrics['identical_resubmission'])}",
              f"- revision size, lines changed per revision: mean {_mean(metrics['revision_size'], 2)}, "
              f"median {metrics['revision_size']['median'] if metrics['revision_size']['median'] is not None else 'n/a'}",
              f"- turns used: mean {_mean(metrics['turns_used'], 2)}; "
              + ", ".join(f"{k}: {v}" for k, v in metrics["turns_used"]["counts"].items()),
              f"- episode return: mean {_mean(metrics['episode_return'])}", "",
              "Regressions can only appear when an episode may continue after its public tests pass "
              "(`--no-stop-when-public-pass`).", "", "### Transition table", "",
              "| turns | " + " | ".join(TRANSITIONS) + " |", "|---|" + "---|" * len(TRANSITIONS)]
    first_final = metrics["first_final"]
    lines.append("| first → final | " + " | ".join(str(first_final[name]) for name in TRANSITIONS) + " |")
    for row in metrics["transitions"]:
        lines.append(f"| {row['pair']} | " + " | ".join(str(row[name]) for name in TRANSITIONS) + " |")
    lines += ["", f"![transitions]({figure_dir}/transitions.svg) ![turns used]({figure_dir}/turns_used.svg)",
              f"![revision size]({figure_dir}/revision_size.svg)", "", "## By error category of the first attempt", "",
              "| category | episodes | final pass rate | fix rate |", "|---|---|---|---|"]
    for row in metrics["by_first_category"]:
        lines.append(f"| {row['category']} | {row['episodes']} | {_rate(row['final_pass'])} | {_rate(row['fix_rate'])} |")
    lines += ["", f"![by category]({figure_dir}/by_first_category.svg)", ""]
    lines += repair_section(metrics)
    lines += _practice_section(metrics, figure_dir)
    if metrics["mock_intents"]:
        lines += ["## Mock reviser: intended vs achieved", "",
                  "| intent | intended outcome | achieved |", "|---|---|---|"]
        lines += [f"| {row['intent']} | {row['intended']} | {_rate(row)} |" for row in metrics["mock_intents"]]
        lines += ["", "What the reviser read in the feedback, and what it chose (compare with its configured "
                  "probabilities, recorded in the trace file's sidecar):", "", "| read | turns | chosen |", "|---|---|---|"]
        lines += [f"| {row['read']} | {row['n']} | " + ", ".join(f"{name} {count} ({count / row['n']:.2f})"
                                                            for name, count in row["intents"].items()) + " |"
                  for row in metrics["mock_readings"]]
        lines.append("")
    return "\n".join(lines)


def write_report(metrics: dict[str, Any], output: str | Path, source: str = "") -> list[Path]:
    """Write the Markdown report and its figures; return every path written."""
    output = Path(output)
    figure_dir = output.parent / f"{output.stem}_figures"
    written = []
    for name, text in figures(metrics).items():
        write_text(figure_dir / name, text)
        written.append(figure_dir / name)
    write_text(output, render_markdown(metrics, figure_dir.name, source))
    return [output, *written]
