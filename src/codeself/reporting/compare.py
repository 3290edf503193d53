"""The final paired comparison: did the candidate solve more held-out tasks than the baseline?

Both files are rollout or execution-result JSONL (records with `task_id`, `execution.passed`,
optional `sample_index`, `split`, `reward.reward`). Tasks are paired by `task_id`; the primary
test is the exact McNemar test on the tasks that flipped, because only they carry information
about a difference, and intervals come from a paired bootstrap that resamples tasks. The
result is a plain dict (the `--json-output` document, docs/schemas.md, "Final comparison JSON") from which the
Markdown report is rendered; nothing in it depends on time, so the same inputs and seed give
byte-identical outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from codeself.datasets.splits import natural_key
from codeself.jsonl import iter_jsonl_lines, sha256_file
from codeself.reporting import power, stats
from codeself.reporting.records import SampleCount, read_sample

SCHEMA_VERSION = 1
OUTCOME_RULES = ("first", "majority", "any")
LOCKED_TEST_SPLIT = "test"
# Splits evaluated once per compared model at the end, never practised or selected on: the test
# split and the generated distribution's held-out families (docs/generated_tasks.md).
LOCKED_TEST_SPLITS = (LOCKED_TEST_SPLIT, "test_heldout_families")


@dataclass(frozen=True)
class TaskSamples:
    """All samples of one task in one file, ordered by sample_index (file order if absent)."""

    task_id: str
    split: str | None
    passes: tuple[bool, ...]
    rewards: tuple[float, ...] | None  # None when any sample lacks reward.reward

    def outcome(self, rule: str) -> bool:
        """The task's binary outcome: `first` sample, strict `majority` (ties fail), or `any`."""
        if rule == "first":
            return self.passes[0]
        if rule == "majority":
            return 2 * sum(self.passes) > len(self.passes)
        if rule == "any":
            return any(self.passes)
        raise ValueError(f"unknown outcome rule {rule!r}; choose one of {', '.join(OUTCOME_RULES)}")

    @property
    def pass_at_1(self) -> float:
        """Unbiased pass@1 estimate c/n (Chen et al. 2021 with k = 1)."""
        return stats.pass_at_k(len(self.passes), sum(self.passes), 1)


@dataclass(frozen=True)
class CompareOptions:
    split: str = LOCKED_TEST_SPLIT
    outcome: str = "first"
    allow_non_test: bool = False
    seed: int = 0
    bootstrap_resamples: int = 2000
    alpha: float = 0.05
    confidence: float = 0.95


def load_task_samples(path: str | Path) -> dict[str, TaskSamples]:
    """Group a rollout / execution-result file by task; refuse duplicates and mixed splits.

    Records are read and counted as evaluation reads and counts them (`read_sample`,
    `SampleCount`), so both refuse the same files with the same messages.
    """
    path = Path(path)
    grouped: dict[str, list[tuple[int, bool, float | None]]] = {}
    counts: dict[str, SampleCount] = {}
    for line, record in iter_jsonl_lines(path):
        try:
            sample = read_sample(record)
            count = counts.setdefault(sample["task_id"], SampleCount(sample["task_id"], sample["split"]))
            index = count.add(sample)
        except ValueError as error:
            raise ValueError(f"{path}:{line}: {error}") from None
        grouped.setdefault(sample["task_id"], []).append((index, sample["passed"], sample["reward"]))
    if not grouped:
        raise ValueError(f"{path}: no records; nothing to compare")
    result = {}
    for task_id, samples in grouped.items():
        samples.sort(key=lambda item: item[0])
        rewards = [r for _, _, r in samples]
        result[task_id] = TaskSamples(task_id, counts[task_id].split, tuple(p for _, p, _ in samples),
                                      None if None in rewards else tuple(rewards))
    return result


def select_split(samples: dict[str, TaskSamples], split: str,
                 label: str) -> tuple[dict[str, TaskSamples], dict[str, int]]:
    """The tasks of `split` in one file, and how many tasks of each other split were set aside.

    A file whose records carry no split at all is returned whole (its split is unknown); a
    file mixing records with and without a split is refused, as is one with no `split` task.
    """
    found = {s.split for s in samples.values()}
    if found == {None}:
        return samples, {}
    if None in found:
        raise ValueError(f"{label} mixes records with and without a split; give every record a split")
    selected = {t: s for t, s in samples.items() if s.split == split}
    if not selected:
        raise ValueError(f"{label} has no records in split {split!r} (it has {sorted(found)}); pass "
                         "--split NAME (and --allow-non-test if it is not the locked test split)")
    ignored: dict[str, int] = {}
    for task in samples.values():
        if task.split != split:
            ignored[task.split] = ignored.get(task.split, 0) + 1
    return selected, dict(sorted(ignored.items()))


def check_pairing(baseline: dict[str, TaskSamples], candidate: dict[str, TaskSamples],
                  options: CompareOptions) -> str | None:
    """Refuse unpaired task sets or split mismatches; return the non-test warning, if any."""
    base_unknown = any(s.split is None for s in baseline.values())
    if base_unknown != any(s.split is None for s in candidate.values()):
        raise ValueError("the files' splits differ: one file records a split for its tasks and the "
                         "other does not; compare files made from the same task file")
    only_base = sorted(set(baseline) - set(candidate), key=natural_key)
    only_cand = sorted(set(candidate) - set(baseline), key=natural_key)
    if only_base or only_cand:
        raise ValueError(
            f"the files cover different tasks ({len(only_base)} only in --baseline, e.g. "
            f"{only_base[:3]}; {len(only_cand)} only in --candidate, e.g. {only_cand[:3]}); "
            "a paired comparison needs the same tasks in both")
    if split_status(options.split, base_unknown) == "locked_test":
        return None
    reason = ("the records carry no split, so they cannot be confirmed to be the locked test split"
              if base_unknown else f"the compared split is {options.split!r}, not the locked test split")
    if not options.allow_non_test:
        raise ValueError(f"{reason}; refusing to compare (pass --allow-non-test to compare "
                         "anyway; the report will say so in its first line)")
    return f"NOT A LOCKED-TEST RESULT: {reason} (--allow-non-test)."


def split_status(split: str, unknown: bool) -> str:
    """`locked_test`, `unknown` (records without a split) or `non_test`."""
    if unknown:
        return "unknown"
    return "locked_test" if split in LOCKED_TEST_SPLITS else "non_test"


def _bootstrap_block(base: list[float], cand: list[float], options: CompareOptions) -> dict:
    intervals = stats.paired_bootstrap_diff_cis(base, cand, seed=options.seed,
                                                n_resamples=options.bootstrap_resamples,
                                                confidence=options.confidence)
    return {"baseline": math.fsum(base) / len(base), "candidate": math.fsum(cand) / len(cand),
            "diff": (math.fsum(cand) - math.fsum(base)) / len(base),
            "diff_ci": list(intervals["percentile"]), "diff_ci_bca": list(intervals["bca"])}


def compare(baseline: dict[str, TaskSamples], candidate: dict[str, TaskSamples],
            options: CompareOptions) -> dict:
    """All numbers of the report, as the JSON document described in docs/schemas.md, "Final comparison JSON"."""
    if options.outcome not in OUTCOME_RULES:
        raise ValueError(f"--outcome must be one of {', '.join(OUTCOME_RULES)}, got {options.outcome!r}")
    baseline, ignored_base = select_split(baseline, options.split, "--baseline")
    candidate, ignored_cand = select_split(candidate, options.split, "--candidate")
    warning = check_pairing(baseline, candidate, options)
    task_ids = sorted(baseline, key=natural_key)
    base = [baseline[t].outcome(options.outcome) for t in task_ids]
    cand = [candidate[t].outcome(options.outcome) for t in task_ids]
    categories = [_category(b, c) for b, c in zip(base, cand)]
    table = {name: categories.count(name) for name in ("both_pass", "baseline_only",
                                                        "candidate_only", "both_fail")}
    n, b, c = len(task_ids), table["baseline_only"], table["candidate_only"]
    statistic, asymptotic_p = stats.mcnemar_asymptotic_cc(b, c)
    outcome = _bootstrap_block([float(x) for x in base], [float(x) for x in cand], options)
    result = {
        "schema_version": SCHEMA_VERSION, "n": n, "table": table, "split": options.split,
        "split_status": split_status(options.split, any(baseline[t].split is None for t in task_ids)),
        "non_test_warning": warning, "outcome_rule": options.outcome,
        "other_splits_ignored": {"baseline": ignored_base, "candidate": ignored_cand},
        "alpha": options.alpha, "confidence": options.confidence,
        "seed": options.seed, "bootstrap_resamples": options.bootstrap_resamples,
        "baseline_rate": outcome["baseline"], "candidate_rate": outcome["candidate"],
        "baseline_ci": list(stats.wilson_interval(sum(base), n, options.confidence)),
        "candidate_ci": list(stats.wilson_interval(sum(cand), n, options.confidence)),
        "diff": outcome["diff"], "diff_ci": outcome["diff_ci"], "diff_ci_bca": outcome["diff_ci_bca"],
        "mcnemar_exact_p": stats.mcnemar_exact(b, c), "mcnemar_midp": stats.mcnemar_midp(b, c),
        "mcnemar_asymptotic": {"statistic": statistic, "p": asymptotic_p},
        "mde_80": power.mcnemar_mde(n, (b + c) / n, alpha=options.alpha, power=0.8),
        "mde_model": ("fixed discordance: the share of flipped tasks (b + c)/n is held at its "
                      "observed value; Connor (1987) normal-approximation sample size, two-sided alpha "
                      "(the exact test's power is a few points lower, so treat it as a lower bound)"),
        "samples_per_task": {"baseline": _sample_counts(baseline), "candidate": _sample_counts(candidate)},
        "pass_at_1": _bootstrap_block([baseline[t].pass_at_1 for t in task_ids],
                                      [candidate[t].pass_at_1 for t in task_ids], options),
        "reward": _reward_block(baseline, candidate, task_ids, options),
        "flipped": {"candidate_only": [t for t, k in zip(task_ids, categories) if k == "candidate_only"],
                    "baseline_only": [t for t, k in zip(task_ids, categories) if k == "baseline_only"]},
        "tasks": [{"task_id": t, "category": k} for t, k in zip(task_ids, categories)],
    }
    result["verdict"] = verdict(result)
    return result


def _category(base_pass: bool, cand_pass: bool) -> str:
    if base_pass:
        return "both_pass" if cand_pass else "baseline_only"
    return "candidate_only" if cand_pass else "both_fail"


def _sample_counts(samples: dict[str, TaskSamples]) -> dict[str, int]:
    counts = [len(s.passes) for s in samples.values()]
    return {"min": min(counts), "max": max(counts), "total": sum(counts)}


def _reward_block(baseline, candidate, task_ids, options) -> dict | None:
    if any(baseline[t].rewards is None or candidate[t].rewards is None for t in task_ids):
        return None
    mean = lambda values: math.fsum(values) / len(values)  # noqa: E731
    return _bootstrap_block([mean(baseline[t].rewards) for t in task_ids],
                            [mean(candidate[t].rewards) for t in task_ids], options)


def _points(value: float) -> str:
    """A rate difference in percentage points with sign, e.g. +8.3."""
    return f"{100 * value:+.1f}"


def verdict(result: dict) -> str:
    """One plain sentence: significance, size with interval, and what the test could detect."""
    alpha, p, n = result["alpha"], result["mcnemar_exact_p"], result["n"]
    low, high = result["diff_ci"]
    size = (f"{_points(result['diff'])} points ({result['confidence']:.0%} paired-bootstrap CI "
            f"{_points(low)} to {_points(high)}, {n} tasks)")
    where = {"locked_test": "",
             "unknown": " on records whose split is not recorded (not confirmed as the locked test split),",
             "non_test": f" on split {result['split']!r} (not the locked test split),"}[result["split_status"]]
    if p < alpha:
        direction = "better" if result["diff"] > 0 else "worse"
        return (f"Significant at α = {alpha:g}{where}: the candidate is {direction} than the baseline "
                f"by {size}, exact McNemar p = {_p(p)}.")
    mde = result["mde_80"]
    detect = ("no task flipped, so the size of a detectable gain cannot be estimated from these data"
              if result["table"]["baseline_only"] + result["table"]["candidate_only"] == 0 else
              "with this many tasks and flips even a change on every flipped task would not reach 80% power"
              if mde is None else
              f"with {n} tasks this test could only reliably detect (80% power) differences of about "
              f"{100 * mde:.1f} points or more")
    return (f"Not significant at α = {alpha:g}{where} by the exact McNemar test (p = {_p(p)}): "
            f"the observed difference of {size} cannot be distinguished from no change by this "
            f"test; {detect}.")


def _p(value: float) -> str:
    return f"{value:.4f}" if value >= 1e-4 else f"{value:.2e}"


def input_summary(path: str | Path, samples: dict[str, TaskSamples]) -> dict:
    """Provenance of one input: the path as given, its sha256 and what it holds."""
    return {"path": str(path), "sha256": sha256_file(path), "tasks": len(samples),
            "samples": sum(len(s.passes) for s in samples.values())}


def run_comparison(baseline_path: str | Path, candidate_path: str | Path,
                   options: CompareOptions) -> dict:
    """Load both files, compare them and record where the numbers came from."""
    baseline = load_task_samples(baseline_path)
    candidate = load_task_samples(candidate_path)
    result = compare(baseline, candidate, options)
    result["inputs"] = {"baseline": input_summary(baseline_path, baseline),
                        "candidate": input_summary(candidate_path, candidate)}
    return result


def outcome_chart(result: dict) -> str:
    """SVG grid of per-task outcomes, grouped by category so the flips stand out."""
    from codeself.reporting import svg

    order = {name: i for i, name in enumerate(svg.OUTCOME_CATEGORIES)}
    cells = sorted(((t["task_id"], t["category"]) for t in result["tasks"]),
                   key=lambda cell: (order[cell[1]], natural_key(cell[0])))
    return svg.outcome_grid(cells, title=f"Per-task outcomes ({result['n']} tasks)")


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _interval(bounds: list[float], points: bool = False) -> str:
    show = _points if points else _pct
    return f"[{show(bounds[0])}, {show(bounds[1])}]"


def render_markdown(result: dict, chart_name: str | None) -> str:
    """The human-readable report; `chart_name` is the SVG file written next to it."""
    lines = [f"**{result['non_test_warning']}**", ""] if result["non_test_warning"] else []
    lines += ["# Final paired comparison: candidate vs baseline", "",
              f"**Verdict.** {result['verdict']}", "",
              f"Split `{result['split']}`, {result['n']} paired tasks; per-task outcome = "
              f"`{result['outcome_rule']}` sample rule; α = {result['alpha']:g}; bootstrap: "
              f"{result['bootstrap_resamples']} resamples of tasks, seed {result['seed']}."
              + _ignored_note(result), ""]
    lines += _table_lines(result)
    lines += ["", "## Difference (candidate − baseline)", "",
              "| measure | difference (points) | percentile CI | BCa CI |", "|---|---:|---|---|"]
    lines += _difference_rows(result)
    lines += ["", "The exact McNemar test below is the pre-specified primary test; at small n the "
              "percentile and BCa bootstrap intervals can be narrower than it implies, so read "
              "them as descriptive.", ""]
    lines += _test_lines(result)
    lines += ["", "## Sensitivity", "", _mde_sentence(result), ""]
    lines += _flip_lines(result)
    if chart_name:
        lines += ["## Per-task outcomes", "", f"![Per-task outcomes: one cell per task]({chart_name})", ""]
    lines += ["## Inputs", "", "| role | path | sha256 | tasks | samples |", "|---|---|---|---:|---:|"]
    for role, info in sorted(result.get("inputs", {}).items()):
        lines.append(f"| {role} | `{info['path']}` | `{info['sha256'][:16]}…` "
                     f"| {info['tasks']} | {info['samples']} |")
    return "\n".join(lines) + "\n"


def _ignored_note(result: dict) -> str:
    ignored = result["other_splits_ignored"]["baseline"]
    if not ignored:
        return ""
    parts = ", ".join(f"{count} {name}" for name, count in ignored.items())
    return f" Tasks of other splits in the inputs were left out ({parts} in --baseline)."


def _table_lines(result: dict) -> list[str]:
    t, n = result["table"], result["n"]
    base_pass, cand_pass = t["both_pass"] + t["baseline_only"], t["both_pass"] + t["candidate_only"]
    level = f"{result['confidence']:.0%}"
    return ["## 2×2 table (tasks)", "",
            "| | candidate passes | candidate fails | total |", "|---|---:|---:|---:|",
            f"| **baseline passes** | {t['both_pass']} | {t['baseline_only']} | {base_pass} |",
            f"| **baseline fails** | {t['candidate_only']} | {t['both_fail']} | {n - base_pass} |",
            f"| **total** | {cand_pass} | {n - cand_pass} | {n} |",
            "", "## Pass rates", "",
            f"| model | tasks passed | rate | {level} Wilson interval |", "|---|---:|---:|---|",
            f"| baseline | {base_pass} | {_pct(result['baseline_rate'])} | {_interval(result['baseline_ci'])} |",
            f"| candidate | {cand_pass} | {_pct(result['candidate_rate'])} | "
            f"{_interval(result['candidate_ci'])} |"]


def _test_lines(result: dict) -> list[str]:
    t, asymptotic = result["table"], result["mcnemar_asymptotic"]
    return ["## Significance", "", "| test | statistic | p-value |", "|---|---:|---:|",
            f"| exact McNemar (primary, two-sided) | b = {t['baseline_only']}, c = {t['candidate_only']} "
            f"| {_p(result['mcnemar_exact_p'])} |",
            f"| mid-p McNemar | | {_p(result['mcnemar_midp'])} |",
            f"| asymptotic χ² with continuity correction (reference only) | {asymptotic['statistic']:.3f} "
            f"| {_p(asymptotic['p'])} |"]


def _difference_rows(result: dict) -> list[str]:
    """Rate rows in percentage points; the reward row in the reward's own units."""
    rows = [_rate_row("task pass rate", result)]
    if max(result["samples_per_task"][role]["max"] for role in ("baseline", "candidate")) > 1:
        rows.append(_rate_row("mean pass@1 (unbiased, all samples)", result["pass_at_1"]))
    reward = result["reward"]
    if reward is not None:
        ci, bca = reward["diff_ci"], reward["diff_ci_bca"]
        rows.append(f"| mean reward (per-task mean, reward units) | {reward['diff']:+.4f} | "
                    f"[{ci[0]:+.4f}, {ci[1]:+.4f}] | [{bca[0]:+.4f}, {bca[1]:+.4f}] |")
    return rows


def _rate_row(label: str, block: dict) -> str:
    return (f"| {label} | {_points(block['diff'])} | {_interval(block['diff_ci'], True)} "
            f"| {_interval(block['diff_ci_bca'], True)} |")


def _mde_sentence(result: dict) -> str:
    flips = result["table"]["baseline_only"] + result["table"]["candidate_only"]
    share = f"{flips} of {result['n']} tasks flipped ({_pct(flips / result['n'])})"
    if result["mde_80"] is None:
        return (f"{share}; under the model below no difference is detectable with 80% power at "
                f"this n. Model: {result['mde_model']}.")
    return (f"{share}. Minimum detectable difference at 80% power for n = {result['n']}: "
            f"{100 * result['mde_80']:.1f} points. Model: {result['mde_model']}. Differences "
            "smaller than this can be real yet fail to reach significance.")


def _flip_lines(result: dict) -> list[str]:
    lines = []
    for key, heading in (("candidate_only", "Tasks only the candidate solves"),
                         ("baseline_only", "Tasks only the baseline solves")):
        ids = result["flipped"][key]
        lines += [f"## {heading} ({len(ids)})", ""]
        lines += [", ".join(f"`{task_id}`" for task_id in ids) if ids else "(none)", ""]
    return lines
