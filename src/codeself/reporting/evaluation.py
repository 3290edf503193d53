"""Baseline evaluation of a rollout file: stream once, aggregate per task, summarise.

Memory is O(tasks): each task keeps counters, not samples. The only structure that is not
per task is the reward histogram used for quantiles, keyed by the reward rounded to
`REWARD_QUANTILE_RESOLUTION`, so its size is bounded by the reward's range, not by the number
of samples. Every metric is defined in docs/schemas.md, "Evaluation metrics".
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from codeself.datasets.task import LANGUAGES
from codeself.parsing import PARSE_STATUSES, USABLE_PARSE_STATUSES
from codeself.execution.errors import ERROR_CATEGORIES, PASSED_KEY
from codeself.execution.result import STATUSES
from codeself.jsonl import iter_jsonl_lines, sha256_file
from codeself.reporting import power, stats
from codeself.reporting.records import SampleCount, read_sample, require_counts

SCHEMA_VERSION = 1
# A parser failure is a parse_status outside the parser's usable set: no program that
# compiles was extracted (truncated, syntax_error, no_code).
PARSE_FAILURE_STATUSES = tuple(s for s in PARSE_STATUSES if s not in USABLE_PARSE_STATUSES)
REWARD_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
REWARD_QUANTILE_RESOLUTION = 1e-4
UNASSIGNED_SPLIT = "unassigned"


@dataclass
class TaskTally(SampleCount):
    """Running counts for one task (samples n and passes c, counted by SampleCount, and the
    reward moments); all that is kept per task while streaming."""

    reward_n: int = 0
    reward_mean: float = 0.0  # Welford running mean and sum of squared deviations
    reward_m2: float = 0.0
    reward_min: float = math.inf
    reward_max: float = -math.inf
    language: str = "python"

    def add_reward(self, value: float) -> None:
        self.reward_n += 1
        delta = value - self.reward_mean
        self.reward_mean += delta / self.reward_n
        self.reward_m2 += delta * (value - self.reward_mean)
        self.reward_min = min(self.reward_min, value)
        self.reward_max = max(self.reward_max, value)

    @property
    def reward_std(self) -> float | None:
        """Sample standard deviation (n - 1 denominator, as torch.std); None below 2 rewards."""
        return math.sqrt(max(self.reward_m2, 0.0) / (self.reward_n - 1)) if self.reward_n >= 2 else None


@dataclass
class Aggregate:
    """Everything accumulated over one pass of the rollout file."""

    # (task_id, language) -> its tally: a MultiPL-E id names one task per language
    tasks: dict[tuple[str, str], TaskTally] = field(default_factory=dict)
    samples: int = 0
    status_counts: Counter = field(default_factory=Counter)
    error_category_counts: Counter = field(default_factory=Counter)  # PASSED_KEY for passing samples
    parse_status_counts: Counter = field(default_factory=Counter)
    isolation_counts: Counter = field(default_factory=Counter)
    tests_judged_in_process: int = 0
    samples_judged_in_process: int = 0
    both_tested: int = 0  # samples with >= 1 public and >= 1 hidden test
    public_pass: int = 0  # among both_tested: all public tests passed
    hidden_pass: int = 0  # among both_tested: all hidden tests passed
    public_pass_hidden_fail: int = 0
    public_fail_hidden_pass: int = 0
    reward_histogram: Counter = field(default_factory=Counter)
    reward_n: int = 0
    reward_mean: float = 0.0
    reward_m2: float = 0.0
    # reward component -> [samples with it, sum of its terms], in first-seen order (the breakdown)
    reward_components: dict[str, list[float]] = field(default_factory=dict)
    by_language: dict[str, "Aggregate"] = field(default_factory=dict)  # the same, per language (top level only)

    def add(self, sample: dict[str, Any]) -> None:
        key = (sample["task_id"], sample["language"])
        tally = self.tasks.get(key)
        if tally is None:
            tally = self.tasks[key] = TaskTally(key[0], sample["split"], language=key[1])
        tally.add(sample)
        self.samples += 1
        self.status_counts[sample["status"]] += 1
        self.error_category_counts[sample["error_category"] or PASSED_KEY] += 1
        if sample["parse_status"] is not None:
            self.parse_status_counts[sample["parse_status"]] += 1
        self.isolation_counts[sample["isolation"]] += 1
        self.tests_judged_in_process += sample["in_process"]
        self.samples_judged_in_process += sample["in_process"] > 0
        self._add_public_hidden(sample["public"], sample["hidden"])
        if sample["reward"] is not None:
            self._add_reward(tally, sample["reward"])
        for name, value in sample.get("reward_components", {}).items():
            total = self.reward_components.setdefault(name, [0, 0.0])
            total[0] += 1
            total[1] += value

    def _add_public_hidden(self, public: dict[str, int], hidden: dict[str, int]) -> None:
        if public["total"] <= 0 or hidden["total"] <= 0:
            return
        public_ok = public["passed"] == public["total"]
        hidden_ok = hidden["passed"] == hidden["total"]
        self.both_tested += 1
        self.public_pass += public_ok
        self.hidden_pass += hidden_ok
        self.public_pass_hidden_fail += public_ok and not hidden_ok
        self.public_fail_hidden_pass += hidden_ok and not public_ok

    def _add_reward(self, tally: TaskTally, value: float) -> None:
        tally.add_reward(value)
        self.reward_n += 1
        delta = value - self.reward_mean
        self.reward_mean += delta / self.reward_n
        self.reward_m2 += delta * (value - self.reward_mean)
        self.reward_histogram[round(value / REWARD_QUANTILE_RESOLUTION)] += 1


def aggregate_rollouts(path: str | os.PathLike, progress=None) -> Aggregate:
    """Stream `path` once; errors name the file and line."""
    aggregate = Aggregate()
    for line_number, record in iter_jsonl_lines(path):
        try:
            sample = dict(require_counts(read_sample(record)))
            sample["split"] = sample["split"] or UNASSIGNED_SPLIT
            aggregate.add(sample)
            aggregate.by_language.setdefault(sample["language"], Aggregate()).add(sample)
        except ValueError as error:
            raise ValueError(f"{path}:{line_number}: {error}") from None
        if progress is not None:
            progress.update()
    if not aggregate.samples:
        raise ValueError(f"{path}: no samples to evaluate")
    return aggregate


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def ci_ks(k_max: int) -> list[int]:
    """The k that get a bootstrap CI: 1, 2, 5, 10, 20, 50, ... up to k_max, and k_max itself.

    Each interval costs a full bootstrap over tasks, so intervals for every k would make
    evaluation of many samples per task slow; point estimates are reported for every k.
    """
    ks, base = set(), 1
    while base <= k_max:
        ks.update(k for k in (base, 2 * base, 5 * base) if k <= k_max)
        base *= 10
    return sorted(ks | {k_max})


def pass_at_k_table(tallies: list[TaskTally], *, seed: int, resamples: int) -> dict[str, Any]:
    """pass@k (mean over tasks of the unbiased estimator) for every k from 1 to the smallest
    number of samples any of these tasks has, with bootstrap CIs over tasks at `ci_ks`."""
    k_max = min(t.n for t in tallies)
    point, interval = {}, {}
    for k in range(1, k_max + 1):
        per_task = [stats.pass_at_k(t.n, t.c, k) for t in tallies]
        point[str(k)] = math.fsum(per_task) / len(per_task)
        if k in ci_ks(k_max):
            low, high = stats.bootstrap_mean_ci(per_task, seed=seed, n_resamples=resamples)
            interval[str(k)] = [low, high]
    return {"n_tasks": len(tallies), "n_samples": sum(t.n for t in tallies),
            "samples_per_task": {"min": k_max, "max": max(t.n for t in tallies)},
            "pass_at_k": point, "pass_at_k_ci": interval}


def _histogram_quantile(items: list[tuple[int, int]], total: int, q: float) -> float:
    """Type-7 quantile (numpy's default) of the histogram's values, bins as order statistics."""
    position = (total - 1) * q
    lower, upper = math.floor(position), math.ceil(position)

    def order_statistic(index: int) -> float:
        seen = 0
        for key, count in items:
            seen += count
            if index < seen:
                return key * REWARD_QUANTILE_RESOLUTION
        raise AssertionError("order statistic beyond the histogram")

    low_value = order_statistic(lower)
    return low_value + (position - lower) * (order_statistic(upper) - low_value)


def reward_summary(aggregate: Aggregate) -> dict[str, Any] | None:
    if not aggregate.reward_n:
        return None
    items = sorted(aggregate.reward_histogram.items())
    within = [t.reward_std for t in aggregate.tasks.values() if t.reward_std is not None]
    n = aggregate.reward_n
    return {
        "n": n, "mean": aggregate.reward_mean,
        "std": math.sqrt(max(aggregate.reward_m2, 0.0) / (n - 1)) if n >= 2 else None,
        "min": min(t.reward_min for t in aggregate.tasks.values() if t.reward_n),
        "max": max(t.reward_max for t in aggregate.tasks.values() if t.reward_n),
        "quantiles": {format(q, "g"): round(_histogram_quantile(items, n, q), 10) for q in REWARD_QUANTILES},
        "mean_within_task_std": math.fsum(within) / len(within) if within else None,
        "histogram": [[round(key * REWARD_QUANTILE_RESOLUTION, 10), count] for key, count in items],
        "components": {name: {"n": int(n), "mean": total / n} for name, (n, total) in aggregate.reward_components.items()},
    }


def zero_variance_fraction(aggregate: Aggregate) -> float | None:
    """Share of tasks with >= 2 rewarded samples whose rewards are all equal (GRPO gets no signal)."""
    groups = [t for t in aggregate.tasks.values() if t.reward_n >= 2]
    return _rate(sum(t.reward_min == t.reward_max for t in groups), len(groups))


def public_vs_hidden(aggregate: Aggregate) -> dict[str, Any]:
    a = aggregate
    return {
        "samples": a.both_tested,
        "public_pass_rate": _rate(a.public_pass, a.both_tested),
        "hidden_pass_rate": _rate(a.hidden_pass, a.both_tested),
        "p_public_pass_hidden_fail": _rate(a.public_pass_hidden_fail, a.both_tested),
        "p_hidden_fail_given_public_pass": _rate(a.public_pass_hidden_fail, a.public_pass),
        "p_public_fail_hidden_pass": _rate(a.public_fail_hidden_pass, a.both_tested),
        "p_hidden_pass_given_public_fail": _rate(a.public_fail_hidden_pass, a.both_tested - a.public_pass),
    }


def power_section(aggregate: Aggregate) -> dict[str, Any]:
    """power.power_plan over the test split's per-task pass rates (all tasks if no test split)."""
    tallies = [t for t in aggregate.tasks.values() if t.split == "test"]
    scope = "test"
    if not tallies:
        tallies, scope = list(aggregate.tasks.values()), "all"
    plan = power.power_plan([t.c / t.n for t in _sorted(tallies)], len(tallies))
    return {**plan, "tasks_from": scope}


def _sorted(tallies) -> list[TaskTally]:
    return sorted(tallies, key=lambda t: (t.task_id, t.language))


def per_task_rows(aggregate: Aggregate) -> list[dict[str, Any]]:
    """One row per task, worst first: lowest pass fraction, then lowest mean reward, then id."""
    rows = [{"task_id": t.task_id, **({"language": t.language} if t.language != "python" else {}), "split": t.split,
             "n": t.n, "c": t.c, "pass_fraction": t.c / t.n,
             "reward_mean": t.reward_mean if t.reward_n else None, "reward_std": t.reward_std}
            for t in aggregate.tasks.values()]
    return sorted(rows, key=lambda r: (r["pass_fraction"], math.inf if r["reward_mean"] is None else r["reward_mean"],
                                       r["task_id"], r.get("language", "python")))


def outcome_counts(aggregate: Aggregate) -> dict[str, Any]:
    """Status, error-category and parse-status counts, and the parser failure rate."""
    parsed = sum(aggregate.parse_status_counts.values())
    failures = sum(aggregate.parse_status_counts[s] for s in PARSE_FAILURE_STATUSES)
    return {
        "status_counts": {s: aggregate.status_counts[s] for s in STATUSES},
        "error_category_counts": {c: aggregate.error_category_counts[c] for c in (PASSED_KEY, *ERROR_CATEGORIES)},
        "parse_status_counts": dict(sorted(aggregate.parse_status_counts.items())),
        "parser_failure_rate": _rate(failures, parsed),
    }


def per_language(aggregate: Aggregate, *, seed: int, resamples: int) -> dict[str, Any]:
    """pass@k and outcome counts of each language, in LANGUAGES order; only for a file that
    holds more than one language (a single-language file's summary is its breakdown)."""
    if len(aggregate.by_language) < 2:
        return {}
    breakdown = {}
    for language in sorted(aggregate.by_language, key=LANGUAGES.index):
        part = aggregate.by_language[language]
        table = pass_at_k_table(_sorted(part.tasks.values()), seed=seed, resamples=resamples)
        breakdown[language] = {**table, **outcome_counts(part)}
    return {"per_language": breakdown}


def summarize(aggregate: Aggregate, *, seed: int, resamples: int, source: str | None = None,
              source_sha256: str | None = None) -> dict[str, Any]:
    """The machine-readable metrics (docs/schemas.md, "Evaluation metrics"); deterministic for a seed."""
    tallies = _sorted(aggregate.tasks.values())
    overall = pass_at_k_table(tallies, seed=seed, resamples=resamples)
    splits = sorted({t.split for t in tallies})
    zero_var = zero_variance_fraction(aggregate)
    return {
        "schema_version": SCHEMA_VERSION, "source": source, "source_sha256": source_sha256,
        "seed": seed, "bootstrap_resamples": resamples,
        "n_tasks": overall["n_tasks"], "n_samples": overall["n_samples"],
        "samples_per_task": overall["samples_per_task"],
        "pass_at_k": overall["pass_at_k"], "pass_at_k_ci": overall["pass_at_k_ci"],
        "per_split": {s: overall if len(splits) == 1 else
                      pass_at_k_table([t for t in tallies if t.split == s], seed=seed, resamples=resamples)
                      for s in splits},
        **per_language(aggregate, seed=seed, resamples=resamples),
        "public_vs_hidden": public_vs_hidden(aggregate),
        **outcome_counts(aggregate), "parser_failure_statuses": list(PARSE_FAILURE_STATUSES),
        "reward": reward_summary(aggregate),
        "frac_zero_variance_tasks": zero_var, "frac_reward_zero_std": zero_var,
        "isolation_counts": dict(sorted(aggregate.isolation_counts.items())),
        "tests_judged_in_process": aggregate.tests_judged_in_process,
        "samples_with_tests_judged_in_process": aggregate.samples_judged_in_process,
        "power_plan": power_section(aggregate),
        "per_task": per_task_rows(aggregate),
    }


def evaluate_file(path: str | os.PathLike, *, seed: int = 0, resamples: int = 2000, progress=None) -> dict[str, Any]:
    aggregate = aggregate_rollouts(path, progress)
    return summarize(aggregate, seed=seed, resamples=resamples,
                     source=os.path.basename(os.fspath(path)), source_sha256=sha256_file(path))
