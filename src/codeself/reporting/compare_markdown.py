"""Markdown of the final paired comparison (the result dict of `codeself.reporting.compare`).

Why a module of its own: a reader copies a row of this report into a paper, so every row that
shows a p-value is built from one effect block (quantity, difference, interval, test, p) and
names its test; no row takes its effect from one block and its p from another. The number
formats (`points`, `p_text`) are shared with compare's verdict sentence.
"""

from __future__ import annotations

EFFECT_ORDER = ("first_sample", "majority_of_samples", "any_sample", "mean_over_samples", "mean_reward")
SIGN_FLIP_NOTE = ("exact paired sign-flip (Fisher–Pitman permutation) test over tasks on the per-task "
                  "differences in pass fraction c/n: all 2^m sign patterns of the m tasks that differ are "
                  "counted exactly (not a Wilcoxon rank test)")


def points(value: float) -> str:
    """A rate difference in percentage points with sign, e.g. +8.3."""
    return f"{100 * value:+.1f}"


def p_text(value: float) -> str:
    """A p-value: four decimals, or two significant digits in e-notation below 1e-4."""
    return f"{value:.4f}" if value >= 1e-4 else f"{value:.2e}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _interval(bounds: list[float], as_points: bool = False) -> str:
    show = points if as_points else _pct
    return f"[{show(bounds[0])}, {show(bounds[1])}]"


def shown_effects(result: dict) -> list[tuple[str, dict]]:
    """(key, block) in report order, primary first; the mean over samples is left out when every
    task has one sample in both files (it is then the first-sample rate, and its exact sign-flip
    p equals exact McNemar's)."""
    single = all(result["samples_per_task"][role]["max"] == 1 for role in ("baseline", "candidate"))
    keys = [result["primary_effect"]] + [k for k in EFFECT_ORDER if k != result["primary_effect"]]
    return [(k, result["effects"][k]) for k in keys if result["effects"].get(k) is not None
            and not (single and k == "mean_over_samples")]


def _values(key: str, block: dict) -> tuple[str, str, str, str]:
    """Baseline, candidate, difference and its percentile interval, and the BCa interval, as text."""
    if key == "mean_reward":
        low, high = block["ci"]
        bca = block["ci_bca"]
        return (f"{block['baseline']:.4f}", f"{block['candidate']:.4f}",
                f"{block['difference']:+.4f} [{low:+.4f}, {high:+.4f}]", f"[{bca[0]:+.4f}, {bca[1]:+.4f}]")
    return (_pct(block["baseline"]), _pct(block["candidate"]),
            f"{points(block['difference'])} {_interval(block['ci'], True)}", _interval(block["ci_bca"], True))


def _test_cell(block: dict) -> tuple[str, str]:
    """The test named with its counts, and its p-value, of one block."""
    counts, test = block["counts"], block["test"]
    if test is None:
        return "none (descriptive)", "—"
    if test == "mcnemar_exact":
        name = f"exact McNemar (b = {counts['baseline_only']}, c = {counts['candidate_only']})"
    else:
        split = (f"candidate higher on {counts['candidate_higher']}, lower on {counts['baseline_higher']}, "
                 f"tied on {counts['tied']} tasks")
        details = block["test_details"]
        name = (f"exact paired sign-flip over tasks ({split})" if test == "sign_flip_exact" else
                f"paired sign-flip over tasks, Monte Carlo ({details['resamples']} resamples, "
                f"seed {details['seed']}; {split})")
    return name, p_text(block["p_value"])


def _effect_lines(result: dict) -> list[str]:
    lines = ["## Effects (candidate − baseline), each beside the test of that same quantity", "",
             f"| quantity | baseline | candidate | difference, points [{result['confidence']:.0%} CI] | test | p |",
             "|---|---:|---:|---|---|---:|"]
    for key, block in shown_effects(result):
        base, cand, diff, _ = _values(key, block)
        test, p = _test_cell(block)
        label = block["quantity"] + (" (primary)" if key == result["primary_effect"] else "")
        if key == "mean_reward":
            diff = diff + " (reward units)"
        lines.append(f"| {label} | {base} | {cand} | {diff} | {test} | {p} |")
    primary = result["effects"][result["primary_effect"]]
    lines += ["", f"Each p tests the quantity of its own row. The primary test is exact McNemar on the "
              f"{primary['quantity']}; the other rows are secondary (no multiplicity correction). Mean pass "
              f"rate over samples = the mean over tasks of each task's passing share of its samples (c/n, "
              f"unbiased pass@1); its test is the {SIGN_FLIP_NOTE}. Intervals: paired bootstrap "
              f"percentile, {result['bootstrap_resamples']} resamples of tasks, seed {result['seed']}; at small "
              "n they can be narrower than the exact tests imply, so read them as descriptive."]
    if all(result["samples_per_task"][role]["max"] == 1 for role in ("baseline", "candidate")):
        lines += ["", "One sample per task in both files: the mean pass rate over samples is the first-sample "
                  "pass rate, and its exact sign-flip p equals the exact McNemar p, so it has no row of its own."]
    return lines + [""]


def _table_lines(result: dict) -> list[str]:
    block = result["effects"][result["primary_effect"]]
    t, n, quantity = block["counts"], result["n"], block["quantity"]
    base_pass, cand_pass = t["both_pass"] + t["baseline_only"], t["both_pass"] + t["candidate_only"]
    return [f"## 2×2 table (tasks; {quantity})", "",
            "| | candidate passes | candidate fails | total |", "|---|---:|---:|---:|",
            f"| **baseline passes** | {t['both_pass']} | {t['baseline_only']} | {base_pass} |",
            f"| **baseline fails** | {t['candidate_only']} | {t['both_fail']} | {n - base_pass} |",
            f"| **total** | {cand_pass} | {n - cand_pass} | {n} |",
            "", f"## Pass rates ({quantity})", "",
            f"| model | tasks passed | rate | {result['confidence']:.0%} Wilson interval |", "|---|---:|---:|---|",
            f"| baseline | {base_pass} | {_pct(block['baseline'])} | {_interval(block['baseline_ci'])} |",
            f"| candidate | {cand_pass} | {_pct(block['candidate'])} | {_interval(block['candidate_ci'])} |", ""]


def _interval_lines(result: dict) -> list[str]:
    lines = ["## Interval methods (descriptive, no tests)", "",
             "| quantity | difference [percentile CI] | BCa CI |", "|---|---|---|"]
    for key, block in shown_effects(result):
        _, _, diff, bca = _values(key, block)
        lines.append(f"| {block['quantity']} | {diff} | {bca} |")
    return lines + [""]


def _test_lines(result: dict) -> list[str]:
    lines = ["## Tests, each on the quantity named in its row", "",
             "| quantity tested | test (two-sided) | statistic | p-value |", "|---|---|---|---:|"]
    for key, block in shown_effects(result):
        quantity, counts = block["quantity"], block["counts"]
        if block["test"] == "mcnemar_exact":
            role = "primary" if key == result["primary_effect"] else "secondary"
            asymptotic = block["other_tests"]["mcnemar_asymptotic_cc"]
            lines += [f"| {quantity} | exact McNemar ({role}) | b = {counts['baseline_only']}, "
                      f"c = {counts['candidate_only']} | {p_text(block['p_value'])} |",
                      f"| {quantity} | mid-p McNemar | | {p_text(block['other_tests']['mcnemar_midp']['p_value'])} |",
                      f"| {quantity} | asymptotic χ² with continuity correction (reference only) | "
                      f"{asymptotic['statistic']:.3f} | {p_text(asymptotic['p_value'])} |"]
        elif block["test"] is not None:
            name, p = _test_cell(block)
            lines.append(f"| {quantity} | {name} | mean difference {points(block['difference'])} points | {p} |")
    return lines + [""]


def _mde_sentence(result: dict) -> str:
    block = result["effects"][result["primary_effect"]]
    flips = block["counts"]["baseline_only"] + block["counts"]["candidate_only"]
    share = f"{flips} of {result['n']} tasks flipped ({_pct(flips / result['n'])}, {block['quantity']})"
    if block["mde_80"] is None:
        return (f"{share}; under the model below no difference is detectable with 80% power at "
                f"this n. Model: {result['mde_model']}.")
    return (f"{share}. Minimum detectable difference of the primary test at 80% power for n = {result['n']}: "
            f"{100 * block['mde_80']:.1f} points. Model: {result['mde_model']}. Differences "
            "smaller than this can be real yet fail to reach significance.")


def _flip_lines(result: dict) -> list[str]:
    lines = []
    for key, heading in (("candidate_only", "Tasks only the candidate solves"),
                         ("baseline_only", "Tasks only the baseline solves")):
        ids = result["flipped"][key]
        lines += [f"## {heading} ({len(ids)}; {result['effects'][result['primary_effect']]['quantity']})", ""]
        lines += [", ".join(f"`{task_id}`" for task_id in ids) if ids else "(none)", ""]
    return lines


def _ignored_note(result: dict) -> str:
    ignored = result["other_splits_ignored"]["baseline"]
    if not ignored:
        return ""
    parts = ", ".join(f"{count} {name}" for name, count in ignored.items())
    return f" Tasks of other splits in the inputs were left out ({parts} in --baseline)."


def render_markdown(result: dict, chart_name: str | None) -> str:
    """The human-readable report; `chart_name` is the SVG file written next to it."""
    lines = [f"**{result['non_test_warning']}**", ""] if result["non_test_warning"] else []
    lines += ["# Final paired comparison: candidate vs baseline", "",
              f"**Verdict.** {result['verdict']}", "",
              f"Split `{result['split']}`, {result['n']} paired tasks; primary per-task outcome = "
              f"`{result['outcome_rule']}` sample rule; α = {result['alpha']:g}."
              + _ignored_note(result), ""]
    lines += _effect_lines(result) + _table_lines(result) + _interval_lines(result) + _test_lines(result)
    lines += ["## Sensitivity", "", _mde_sentence(result), ""]
    lines += _flip_lines(result)
    if chart_name:
        lines += ["## Per-task outcomes", "", f"![Per-task outcomes: one cell per task]({chart_name})", ""]
    lines += ["## Inputs", "", "| role | path | sha256 | tasks | samples |", "|---|---|---|---:|---:|"]
    for role, info in sorted(result.get("inputs", {}).items()):
        lines.append(f"| {role} | `{info['path']}` | `{info['sha256'][:16]}…` "
                     f"| {info['tasks']} | {info['samples']} |")
    return "\n".join(lines) + "\n"
