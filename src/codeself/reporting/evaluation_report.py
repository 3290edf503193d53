"""The Markdown results section and its SVG figures, rendered from an evaluation summary.

Everything here reads the summary dict built by `codeself.reporting.evaluation.summarize`
(the same numbers as `--json-output`), so the report can never disagree with the JSON.
"""

from __future__ import annotations

from typing import Any

from codeself.reporting import svg

PER_TASK_ROWS = 20  # worst tasks shown in the Markdown table; the JSON holds every task
DISTINCT_REWARD_BARS = 12  # up to this many distinct rewards: one bar per value, else bins
REWARD_BINS = 20


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def figures(summary: dict[str, Any]) -> dict[str, str]:
    """File name -> SVG text for each figure of the report."""
    return {"pass_at_k.svg": _pass_at_k_chart(summary), "reward.svg": _reward_chart(summary),
            "status.svg": _status_chart(summary)}


def _pass_at_k_chart(summary: dict[str, Any]) -> str:
    series = {"all tasks": [(int(k), v) for k, v in summary["pass_at_k"].items()]}
    intervals = {"all tasks": [(int(k), lo, hi) for k, (lo, hi) in summary["pass_at_k_ci"].items()]}
    if len(summary["per_split"]) > 1:
        for split, table in summary["per_split"].items():
            series[split] = [(int(k), v) for k, v in table["pass_at_k"].items()]
    return svg.line_chart(series, intervals=intervals, title="pass@k (95 % bootstrap CI over tasks)",
                          x_label="k (samples drawn)", y_label="pass@k", y_min=0.0, y_max=1.0)


def _reward_chart(summary: dict[str, Any]) -> str:
    reward = summary["reward"]
    title = "Reward distribution (all samples)"
    if reward is None:
        return svg.bar_chart([], [], title=title)
    histogram = reward["histogram"]
    if len(histogram) <= DISTINCT_REWARD_BARS:
        return svg.bar_chart([f"{value:g}" for value, _ in histogram], [count for _, count in histogram],
                             title=title, x_label="reward", y_label="samples")
    low, high = reward["min"], reward["max"]
    width = (high - low) / REWARD_BINS
    counts = [0] * REWARD_BINS
    for value, count in histogram:
        counts[min(int((value - low) / width), REWARD_BINS - 1)] += count
    labels = [f"{low + i * width:.2g}" for i in range(REWARD_BINS)]
    return svg.bar_chart(labels, counts, title=title, x_label="reward (bin lower edge)", y_label="samples")


def _status_chart(summary: dict[str, Any]) -> str:
    shown = [(status, count) for status, count in summary["status_counts"].items() if count]
    return svg.bar_chart([s for s, _ in shown], [c for _, c in shown], title="Execution status of samples",
                         x_label="status", y_label="samples")


def _pass_at_k_rows(name: str, table: dict[str, Any]) -> list[str]:
    """Rows for the k that have a CI (1, 2, 5, 10, ... and the largest k); every k is in the JSON."""
    return [f"| {name} | {table['n_tasks']} | {table['n_samples']} | {k} | {_fmt(table['pass_at_k'][k])} | "
            f"[{_fmt(low)}, {_fmt(high)}] |" for k, (low, high) in table["pass_at_k_ci"].items()]


def _results(summary: dict[str, Any], figure_dir: str) -> list[str]:
    p1, ci = summary["pass_at_k"]["1"], summary["pass_at_k_ci"]["1"]
    spt = summary["samples_per_task"]
    per_task = f"{spt['min']}" if spt["min"] == spt["max"] else f"{spt['min']}–{spt['max']}"
    lines = ["## 1. Functional correctness", "",
             f"We evaluate {summary['n_samples']} samples on {summary['n_tasks']} tasks ({per_task} samples per "
             f"task). pass@1 is **{_fmt(p1)}** (95 % bootstrap CI [{_fmt(ci[0])}, {_fmt(ci[1])}], "
             f"{summary['bootstrap_resamples']} resamples of tasks, seed {summary['seed']}).", "",
             "| scope | tasks | samples | k | pass@k | 95 % CI |", "|---|---:|---:|---:|---:|---|"]
    broken = summary["status_counts"].get("sandbox_error", 0)
    if broken:
        lines[4:4] = [f"**Warning:** {broken} samples ended in `sandbox_error` (the sandbox failed, which says "
                      "nothing about the candidate); they count as incorrect here, so pass@k is biased down. "
                      "Re-run them before reporting these numbers.", ""]
    lines += _pass_at_k_rows("all tasks", summary)
    for split, table in summary["per_split"].items():
        lines += _pass_at_k_rows(f"split `{split}`", table)
    for language, table in summary.get("per_language", {}).items():
        lines += _pass_at_k_rows(f"language `{language}`", table)
    lines += ["", f"![Figure 1: pass@k against k]({figure_dir}/pass_at_k.svg)", "",
              "*Figure 1.* pass@k for every k up to the smallest number of samples of any task; whiskers "
              "are 95 % percentile-bootstrap intervals over tasks, computed (like the table rows) at "
              "k = 1, 2, 5, 10, 20, 50, … and the largest k. The JSON output has pass@k for every k.", ""]
    return lines


def _public_hidden(summary: dict[str, Any]) -> list[str]:
    ph = summary["public_vs_hidden"]
    if not ph["samples"]:
        return ["## 2. Do public tests predict hidden tests?", "",
                "No sample belongs to a task with both public and hidden tests, so this cannot be measured.", ""]
    return ["## 2. Do public tests predict hidden tests?", "",
            f"Over the {ph['samples']} samples of tasks that have both public and hidden tests, "
            f"{_pct(ph['public_pass_rate'])} pass every public test and {_pct(ph['hidden_pass_rate'])} pass "
            f"every hidden test. Public tests **mislead** when a program passes all of them but fails a hidden "
            f"one: P(public pass ∧ hidden fail) = {_fmt(ph['p_public_pass_hidden_fail'])}, i.e. "
            f"{_pct(ph['p_hidden_fail_given_public_pass'])} of public-passing samples fail hidden tests. "
            f"The converse, P(public fail ∧ hidden pass) = {_fmt(ph['p_public_fail_hidden_pass'])} "
            f"({_pct(ph['p_hidden_pass_given_public_fail'])} of public-failing samples).", ""]


def _outcomes(summary: dict[str, Any], figure_dir: str) -> list[str]:
    n = summary["n_samples"]
    lines = ["## 3. Outcomes and parsing", "", "| execution status | samples | share |", "|---|---:|---:|"]
    lines += [f"| `{status}` | {count} | {_pct(count / n)} |" for status, count in summary["status_counts"].items()
              if count]
    lines += ["", f"![Figure 2: execution status]({figure_dir}/status.svg)", "",
              "*Figure 2.* Execution status of every sample (statuses with no sample omitted).", "",
              *_error_categories(summary),
              f"Parser failure rate: **{_pct(summary['parser_failure_rate'])}**"
              + (" (no record has a `parse_status`)" if summary["parser_failure_rate"] is None else "")
              + " — a sample counts as a parser "
              "failure when its `parse_status` is one of "
              + ", ".join(f"`{s}`" for s in summary["parser_failure_statuses"])
              + " (no program that compiles could be extracted).", ""]
    if summary["parse_status_counts"]:
        lines += ["| parse_status | samples |", "|---|---:|"]
        lines += [f"| `{s}` | {c} |" for s, c in summary["parse_status_counts"].items()]
        lines.append("")
    return lines + _languages(summary)


def _languages(summary: dict[str, Any]) -> list[str]:
    """Outcomes per language, for a file holding more than one (`per_language` in the JSON)."""
    breakdown = summary.get("per_language")
    if not breakdown:
        return []
    statuses = [s for s in summary["status_counts"] if any(t["status_counts"][s] for t in breakdown.values())]
    categories = [c for c in summary["error_category_counts"]
                  if c != "passed" and any(t["error_category_counts"][c] for t in breakdown.values())]
    headers = ["language", "tasks", "samples", *(f"status `{s}`" for s in statuses),
               *(f"error `{c}`" for c in categories), "parser failures"]
    lines = ["Per language: samples by execution status, failing samples by error category, and the parser "
             "failure rate.", "", "| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    for language, table in breakdown.items():
        cells = [f"`{language}`", str(table["n_tasks"]), str(table["n_samples"]),
                 *(str(table["status_counts"][s]) for s in statuses),
                 *(str(table["error_category_counts"][c]) for c in categories), _pct(table["parser_failure_rate"])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def _error_categories(summary: dict[str, Any]) -> list[str]:
    """Why the failing samples failed (docs/schemas.md, "Error categories")."""
    counts = summary["error_category_counts"]
    failing = summary["n_samples"] - counts["passed"]
    if not failing:
        return ["No sample failed, so there are no error categories to report.", ""]
    lines = [f"Why the {failing} failing samples failed (error categories; `scripts/analyze_errors.py` "
             "compares them across runs and lists the most frequent messages):", "",
             "| error category | samples | share of failing samples |", "|---|---:|---:|"]
    lines += [f"| `{category}` | {count} | {_pct(count / failing)} |" for category, count in counts.items()
              if count and category != "passed"]
    return lines + [""]


def _reward(summary: dict[str, Any], figure_dir: str) -> list[str]:
    reward = summary["reward"]
    if reward is None:
        return ["## 4. Reward", "", "The input has no reward records.", ""]
    q = reward["quantiles"]
    return ["## 4. Reward", "",
            f"Mean reward {_fmt(reward['mean'])} (std {_fmt(reward['std'])}, n = {reward['n']}); quantiles "
            + ", ".join(f"q{key} = {_fmt(value)}" for key, value in q.items()) + ". "
            f"In **{_pct(summary['frac_zero_variance_tasks'])}** of the tasks every sample got the same reward "
            "(`frac_reward_zero_std`): GRPO's group-relative advantage is zero there, so those tasks give no "
            f"learning signal. Mean within-task reward std: {_fmt(reward['mean_within_task_std'])}.", "",
            *_reward_terms(reward.get("components") or {}),
            f"![Figure 3: reward distribution]({figure_dir}/reward.svg)", "",
            "*Figure 3.* Distribution of the scalar reward over all samples.", ""]


def _reward_terms(components: dict[str, Any]) -> list[str]:
    """The reward's breakdown: the mean of each component's term (their sum is the mean reward
    when every sample has every component)."""
    if not components:
        return []
    return ["Mean term of each reward component (`reward.components`; codeself.rewards.registry): "
            + ", ".join(f"`{name}` {_fmt(item['mean'])} (n = {item['n']})" for name, item in components.items())
            + ".", ""]


def _sandbox_and_power(summary: dict[str, Any]) -> list[str]:
    isolation = ", ".join(f"`{level}` ({count})" for level, count in summary["isolation_counts"].items())
    plan = summary["power_plan"]
    scope = "test split" if plan["tasks_from"] == "test" else "all tasks (the input has no test split)"
    lines = ["## 5. Sandbox", "", f"Isolation levels used: {isolation}. Tests judged inside the candidate's "
             f"process (assertion fallback): {summary['tests_judged_in_process']} tests in "
             f"{summary['samples_with_tests_judged_in_process']} samples.", "",
             "## 6. Statistical power for a follow-up comparison", "",
             f"Planned from the measured per-task pass rates of the {scope} ({plan['n_available']} tasks), "
             f"for the two-sided McNemar test at α = {plan['alpha']:g} and power {plan['power']:g}. Sample "
             "sizes use Connor (1987): n = [z_{α/2} √ψ + z_β √(ψ − δ²)]² / δ², with ψ = p₁₀ + p₀₁ the share of "
             "discordant tasks and δ = p₀₁ − p₁₀ the pass@1 difference. Assumption: " + plan["assumption"] + ".",
             "", "| pass@1 gain | paired tasks needed |", "|---:|---:|"]
    lines += [f"| {gain} | {'n/a' if n is None else n} |" for gain, n in plan["required_n"].items()]
    mde = "not detectable" if plan["mde"] is None else f"{plan['mde']:.3f}"
    lines += ["", f"Minimum detectable pass@1 gain with the {plan['n_available']} available tasks: **{mde}**.", ""]
    return lines


def _per_task(summary: dict[str, Any]) -> list[str]:
    rows = summary["per_task"][:PER_TASK_ROWS]
    lines = ["## 7. Per-task results (worst first)", "",
             f"The {len(rows)} tasks with the lowest pass fraction (ties: lowest mean reward); all "
             f"{summary['n_tasks']} are in the JSON output (`per_task`).", "",
             "| task | split | samples | passing | pass fraction | mean reward | reward std |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| `{r['task_id']}`{_language_note(r)} | {r['split']} | {r['n']} | {r['c']} | {_fmt(r['pass_fraction'])} | "
              f"{_fmt(r['reward_mean'])} | {_fmt(r['reward_std'])} |" for r in rows]
    return lines + [""]


def _language_note(row: dict[str, Any]) -> str:
    return f" ({row['language']})" if "language" in row else ""


def render_markdown(summary: dict[str, Any], figure_dir: str) -> str:
    """The report; figures are referenced relative to the report as `figure_dir/<name>.svg`."""
    head = ["# Baseline evaluation", "",
            f"Input: `{summary['source']}` (sha256 `{summary['source_sha256']}`). pass@k uses the unbiased "
            "estimator of Chen et al. (2021), pass@k = 1 − C(n−c, k) / C(n, k) per task (1 when n − c < k), "
            "averaged over tasks; a sample is correct only when every public and hidden test passed.", ""]
    body = (head + _results(summary, figure_dir) + _public_hidden(summary) + _outcomes(summary, figure_dir)
            + _reward(summary, figure_dir) + _sandbox_and_power(summary) + _per_task(summary))
    return "\n".join(body).rstrip("\n") + "\n"
