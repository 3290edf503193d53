"""The final paired comparison: did the candidate solve more held-out tasks than the baseline?

Both files are rollout or execution-result JSONL (records with `task_id`, `execution.passed`,
optional `sample_index`, `split`, `reward.reward`). Tasks are paired by `task_id`. Each effect
is one block that holds a quantity, its difference, the interval of that difference and the
test of that same quantity, so no p-value can be read beside an effect it does not test:
the first-sample pass rate with the exact McNemar test (the primary test: only the tasks that
flipped carry information about a difference), the mean pass rate over samples with an exact
paired sign-flip test over tasks, and the mean reward (descriptive). Intervals come from a
paired bootstrap that resamples tasks. The result is a plain dict (the `--json-output`
document, docs/schemas.md, "Final comparison JSON") from which the Markdown report is
rendered (compare_markdown); nothing in it depends on time, so the same inputs and seed give
byte-identical outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from codeself.datasets.splits import natural_key
from codeself.jsonl import iter_jsonl_lines, sha256_file
from codeself.reporting import compare_markdown, power, stats
from codeself.reporting.compare_markdown import p_text, points
from codeself.reporting.records import SampleCount, read_sample

SCHEMA_VERSION = 2
OUTCOME_RULES = ("first", "majority", "any")
# The effects key and the quantity of each binary per-task outcome rule; the rule chosen with
# --outcome is the primary effect, tested by exact McNemar.
RULE_EFFECTS = {"first": "first_sample", "majority": "majority_of_samples", "any": "any_sample"}
RULE_QUANTITIES = {"first": "first-sample pass rate", "majority": "majority-of-samples pass rate",
                   "any": "any-sample pass rate"}
MEAN_QUANTITY = "mean pass rate over samples"
REWARD_QUANTITY = "mean reward"
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


@dataclass(frozen=True)
class CompareOptions:
    split: str = LOCKED_TEST_SPLIT
    outcome: str = "first"
    allow_non_test: bool = False
    seed: int = 0
    bootstrap_resamples: int = 2000
    sign_flip_resamples: int = stats.SIGN_FLIP_MONTE_CARLO_RESAMPLES  # only if the exact test is too large
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


def _interval_fields(base: list[float], cand: list[float], options: CompareOptions) -> dict:
    """Means, their difference and its paired bootstrap intervals (tasks resampled)."""
    intervals = stats.paired_bootstrap_diff_cis(base, cand, seed=options.seed,
                                                n_resamples=options.bootstrap_resamples,
                                                confidence=options.confidence)
    return {"baseline": math.fsum(base) / len(base), "candidate": math.fsum(cand) / len(cand),
            "difference": (math.fsum(cand) - math.fsum(base)) / len(base),
            "ci": list(intervals["percentile"]), "ci_method": "paired_bootstrap_percentile",
            "ci_bca": list(intervals["bca"])}


def _categories(rule: str, baseline: dict[str, TaskSamples], candidate: dict[str, TaskSamples],
                task_ids: list[str]) -> list[str]:
    return [_category(baseline[t].outcome(rule), candidate[t].outcome(rule)) for t in task_ids]


def binary_effect(rule: str, baseline: dict[str, TaskSamples], candidate: dict[str, TaskSamples],
                  task_ids: list[str], options: CompareOptions) -> dict:
    """The pass rate of one binary per-task outcome, its paired intervals and exact McNemar on it."""
    categories = _categories(rule, baseline, candidate, task_ids)
    counts = {name: categories.count(name) for name in ("both_pass", "baseline_only", "candidate_only", "both_fail")}
    n, b, c = len(task_ids), counts["baseline_only"], counts["candidate_only"]
    base_passes, cand_passes = counts["both_pass"] + b, counts["both_pass"] + c
    base = [float(k in ("both_pass", "baseline_only")) for k in categories]
    cand = [float(k in ("both_pass", "candidate_only")) for k in categories]
    statistic, asymptotic_p = stats.mcnemar_asymptotic_cc(b, c)
    return {"quantity": RULE_QUANTITIES[rule], "outcome_rule": rule, **_interval_fields(base, cand, options),
            "baseline_ci": list(stats.wilson_interval(base_passes, n, options.confidence)),
            "candidate_ci": list(stats.wilson_interval(cand_passes, n, options.confidence)),
            "test": "mcnemar_exact", "p_value": stats.mcnemar_exact(b, c), "counts": counts,
            "other_tests": {"mcnemar_midp": {"p_value": stats.mcnemar_midp(b, c)},
                            "mcnemar_asymptotic_cc": {"statistic": statistic, "p_value": asymptotic_p}},
            "mde_80": power.mcnemar_mde(n, (b + c) / n, alpha=options.alpha, power=0.8)}


def mean_over_samples_effect(baseline: dict[str, TaskSamples], candidate: dict[str, TaskSamples],
                             task_ids: list[str], options: CompareOptions) -> dict:
    """Mean per-task pass fraction c/n (unbiased pass@1), its paired intervals and a paired sign-flip test.

    Why its own test: McNemar tests one binary outcome per task, not this mean; the sign-flip
    test permutes exactly this quantity's per-task differences (exact while feasible).
    """
    base = [Fraction(sum(baseline[t].passes), len(baseline[t].passes)) for t in task_ids]
    cand = [Fraction(sum(candidate[t].passes), len(candidate[t].passes)) for t in task_ids]
    diffs = [c - b for b, c in zip(base, cand)]
    test = stats.paired_sign_flip_test(diffs, seed=options.seed, n_resamples=options.sign_flip_resamples)
    block = {"quantity": MEAN_QUANTITY, "outcome_rule": None,
             **_interval_fields([float(x) for x in base], [float(x) for x in cand], options)}
    block["baseline"], block["candidate"] = float(sum(base) / len(base)), float(sum(cand) / len(cand))
    block["difference"] = float(sum(diffs) / len(diffs))
    return {**block, "test": test.pop("test"), "p_value": test.pop("p_value"),
            "counts": {"tasks": len(diffs), "candidate_higher": sum(d > 0 for d in diffs),
                       "baseline_higher": sum(d < 0 for d in diffs), "tied": sum(d == 0 for d in diffs)},
            "test_details": test}


def reward_effect(baseline: dict[str, TaskSamples], candidate: dict[str, TaskSamples], task_ids: list[str],
                  options: CompareOptions) -> dict | None:
    """Mean per-task mean reward with paired intervals; descriptive (no test); None without rewards."""
    if any(baseline[t].rewards is None or candidate[t].rewards is None for t in task_ids):
        return None
    mean = lambda values: math.fsum(values) / len(values)  # noqa: E731
    fields = _interval_fields([mean(baseline[t].rewards) for t in task_ids],
                              [mean(candidate[t].rewards) for t in task_ids], options)
    return {"quantity": REWARD_QUANTITY, "outcome_rule": None, **fields, "test": None, "p_value": None,
            "counts": {"tasks": len(task_ids)}}


def compare(baseline: dict[str, TaskSamples], candidate: dict[str, TaskSamples],
            options: CompareOptions) -> dict:
    """All numbers of the report, as the JSON document described in docs/schemas.md, "Final comparison JSON"."""
    if options.outcome not in OUTCOME_RULES:
        raise ValueError(f"--outcome must be one of {', '.join(OUTCOME_RULES)}, got {options.outcome!r}")
    baseline, ignored_base = select_split(baseline, options.split, "--baseline")
    candidate, ignored_cand = select_split(candidate, options.split, "--candidate")
    warning = check_pairing(baseline, candidate, options)
    task_ids = sorted(baseline, key=natural_key)
    effects = {"first_sample": binary_effect("first", baseline, candidate, task_ids, options),
               "mean_over_samples": mean_over_samples_effect(baseline, candidate, task_ids, options),
               "mean_reward": reward_effect(baseline, candidate, task_ids, options)}
    primary = RULE_EFFECTS[options.outcome]
    if primary not in effects:
        effects[primary] = binary_effect(options.outcome, baseline, candidate, task_ids, options)
    categories = _categories(options.outcome, baseline, candidate, task_ids)
    result = {
        "schema_version": SCHEMA_VERSION, "n": len(task_ids), "split": options.split,
        "split_status": split_status(options.split, any(baseline[t].split is None for t in task_ids)),
        "non_test_warning": warning, "outcome_rule": options.outcome, "primary_effect": primary,
        "other_splits_ignored": {"baseline": ignored_base, "candidate": ignored_cand},
        "alpha": options.alpha, "confidence": options.confidence,
        "seed": options.seed, "bootstrap_resamples": options.bootstrap_resamples,
        "mde_model": ("fixed discordance: the share of flipped tasks (b + c)/n is held at its "
                      "observed value; Connor (1987) normal-approximation sample size, two-sided alpha "
                      "(the exact test's power is a few points lower, so treat it as a lower bound)"),
        "samples_per_task": {"baseline": _sample_counts(baseline), "candidate": _sample_counts(candidate)},
        "effects": effects,
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


def verdict(result: dict) -> str:
    """One plain sentence on the primary effect: its test, its size with interval, what the test could detect.

    It names the quantity and the test, and quotes only that quantity's difference beside that test's p.
    """
    alpha, n = result["alpha"], result["n"]
    block = result["effects"][result["primary_effect"]]
    p, quantity = block["p_value"], block["quantity"]
    low, high = block["ci"]
    size = (f"{points(block['difference'])} points ({result['confidence']:.0%} paired-bootstrap CI "
            f"{points(low)} to {points(high)}, {n} tasks)")
    where = {"locked_test": "",
             "unknown": " on records whose split is not recorded (not confirmed as the locked test split),",
             "non_test": f" on split {result['split']!r} (not the locked test split),"}[result["split_status"]]
    if p < alpha:
        direction = "better" if block["difference"] > 0 else "worse"
        return (f"Significant at α = {alpha:g}{where}: the candidate is {direction} than the baseline "
                f"in {quantity} by {size}; the primary test, exact McNemar on this same quantity: "
                f"p = {p_text(p)}.")
    mde, counts = block["mde_80"], block["counts"]
    detect = ("no task flipped, so the size of a detectable gain cannot be estimated from these data"
              if counts["baseline_only"] + counts["candidate_only"] == 0 else
              "with this many tasks and flips even a change on every flipped task would not reach 80% power"
              if mde is None else
              f"with {n} tasks this test could only reliably detect (80% power) differences of about "
              f"{100 * mde:.1f} points or more")
    return (f"Not significant at α = {alpha:g}{where} by the primary test, exact McNemar on the {quantity} "
            f"(p = {p_text(p)}): the observed "
            f"{quantity} difference of {size} cannot be distinguished from no change by this "
            f"test; {detect}.")


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


render_markdown = compare_markdown.render_markdown
