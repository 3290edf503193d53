"""Read a training run's per-step metrics and reduce each run to the numbers of the comparison report.

A run directory holds `metrics.jsonl` (one record per optimiser step, the shared schema of the
GRPO / PPO / RLOO trainers: `step`, `algorithm`, `samples`, `reward`, `kl`, `entropy`,
`clip_ratio/region_mean`, `informative/frac_tasks`, `validation/pass_rate`, `timing`, ...;
values may be null where an algorithm does not produce them) and `config.json`
(`{"algorithm", "config", "config_hash"}`) beside it. Wall-time figures live only under
`timing` and are addressed here as `timing.<name>` (no flat metric name contains a dot).

Every check of a metrics file is in `load_metrics`, so a file that is not one is refused the
same way everywhere: `path:line: what is wrong`.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeself.jsonl import iter_jsonl_lines, sha256_file

ALGORITHMS = ("grpo", "ppo", "rloo")
NUMERIC_KEYS = (
    "samples", "num_samples", "reward", "reward_std", "frac_reward_zero_std", "kl", "entropy",
    "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "clip_ratio/low_min",
    "clip_ratio/high_max", "completions/mean_length", "loss", "learning_rate", "pass_rate",
    "parse_failure_rate", "advantages/mean", "advantages/std", "advantages/min", "advantages/max",
    "informative/frac_tasks", "informative/never_count", "loss/policy_avg", "loss/value_avg",
    "val/clipfrac_avg", "policy/approxkl_avg", "policy/clipfrac_avg", "val/explained_variance",
    "validation/pass_rate", "validation/reward",
)
TIMING_PREFIX = "timing."
# GRPO/RLOO log the clipped share of tokens as clip_ratio/region_mean; TRL's PPO logs the
# clipped share of its policy ratio as policy/clipfrac_avg. The first key a run fills is used.
CLIP_KEYS = ("clip_ratio/region_mean", "policy/clipfrac_avg")
# Rewards are means of a few samples, so a midpoint threshold can equal a logged reward up to
# rounding in the last bit; count such a step as reaching it.
THRESHOLD_TOLERANCE = 1e-12


@dataclass(frozen=True)
class TrainingRun:
    """One run's metrics (in step order) and where they came from."""

    name: str
    metrics_path: str
    metrics_sha256: str
    algorithm: str | None
    config_path: str | None  # None when no config.json sits beside the metrics
    config_hash: str | None
    config: dict[str, Any] | None
    records: tuple[dict[str, Any], ...]

    def series(self, y: str, x: str = "step") -> list[tuple[float, float]]:
        """(x, y) for every step where both are logged (null values are skipped)."""
        points = ((metric(r, x), metric(r, y)) for r in self.records)
        return [(a, b) for a, b in points if a is not None and b is not None]


def metric(record: dict[str, Any], key: str) -> float | None:
    """A record's value for `key`; `timing.<name>` reads the nested timing object."""
    if key.startswith(TIMING_PREFIX):
        return (record.get("timing") or {}).get(key[len(TIMING_PREFIX):])
    return record.get(key)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _check_record(where: str, record: dict[str, Any]) -> None:
    """Types of one record: integer step >= 1, finite numbers or null, a timing object."""
    step = record.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ValueError(f"{where}: record has no integer `step` >= 1 (got {step!r}); "
                         "is this a training metrics.jsonl?")
    for key in NUMERIC_KEYS:
        value = record.get(key)
        if value is not None and not _is_number(value):
            raise ValueError(f"{where}: `{key}` must be a finite number or null, got {value!r}")
    timing = record.get("timing")
    if timing is not None and not isinstance(timing, dict):
        raise ValueError(f"{where}: `timing` must be an object of seconds, got {timing!r}")
    for key, value in (timing or {}).items():
        if value is not None and not _is_number(value):
            raise ValueError(f"{where}: `timing.{key}` must be a finite number or null, got {value!r}")
    algorithm = record.get("algorithm")
    if algorithm is not None and not isinstance(algorithm, str):
        raise ValueError(f"{where}: `algorithm` must be a string, got {algorithm!r}")


def load_metrics(path: str | Path) -> tuple[list[dict[str, Any]], str | None]:
    """The records of a metrics file and its algorithm, after every check.

    Refused, naming the file and line: a line that is not a JSON object, a record without an
    integer `step`, steps that do not increase, cumulative `samples` that decrease, a
    non-numeric metric, records of two algorithms, and a file without records.
    """
    records: list[dict[str, Any]] = []
    algorithms: set[str] = set()
    last_step, last_samples = 0, None
    for line, record in iter_jsonl_lines(path):
        where = f"{path}:{line}"
        _check_record(where, record)
        if record["step"] <= last_step:
            raise ValueError(f"{where}: step {record['step']} does not increase (previous step {last_step}); "
                             "one metrics file holds one run in step order")
        samples = record.get("samples")
        if samples is not None and last_samples is not None and samples < last_samples:
            raise ValueError(f"{where}: cumulative `samples` decreases ({last_samples} -> {samples})")
        if record.get("algorithm") is not None:
            algorithms.add(record["algorithm"])
            if len(algorithms) > 1:
                raise ValueError(f"{where}: records of several algorithms ({', '.join(sorted(algorithms))}) "
                                 "in one metrics file")
        last_step, last_samples = record["step"], samples if samples is not None else last_samples
        records.append(record)
    if not records:
        raise ValueError(f"{path}: no records; not a training metrics file")
    return records, next(iter(algorithms), None)


def _load_config(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a JSON run config: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ValueError(f"{path}: expected {{\"algorithm\", \"config\": {{...}}, \"config_hash\"}}")
    return document


def load_run(name: str, metrics_path: str | Path, expected_algorithm: str | None = None) -> TrainingRun:
    """Read `metrics_path` and the `config.json` beside it (optional); check the algorithm agrees."""
    records, algorithm = load_metrics(metrics_path)
    config_path = Path(metrics_path).with_name("config.json")
    document = _load_config(config_path) if config_path.is_file() else None
    if document is not None and document.get("algorithm") is not None:
        if algorithm is not None and document["algorithm"] != algorithm:
            raise ValueError(f"{config_path}: algorithm {document['algorithm']!r} but the metrics beside it "
                             f"are {algorithm!r}")
        algorithm = document["algorithm"]
    if expected_algorithm is not None and algorithm not in (None, expected_algorithm):
        raise ValueError(f"--{expected_algorithm}-metrics {metrics_path}: this run is {algorithm!r}; "
                         f"pass it as --{algorithm}-metrics or --run NAME=FILE")
    return TrainingRun(name=name, metrics_path=str(metrics_path), metrics_sha256=sha256_file(metrics_path),
                       algorithm=algorithm or expected_algorithm,
                       config_path=str(config_path) if document is not None else None,
                       config_hash=None if document is None else document.get("config_hash"),
                       config=None if document is None else document.get("config"),
                       records=tuple(records))


def _point(step: float, value: float) -> dict[str, float]:
    return {"step": step, "value": value}


def _best(points: list[tuple[float, float]]) -> dict[str, float] | None:
    """The first step reaching the largest value."""
    if not points:
        return None
    step, value = max(points, key=lambda p: (p[1], -p[0]))
    return _point(step, value)


def _last(points: list[tuple[float, float]]) -> dict[str, float] | None:
    return _point(*points[-1]) if points else None


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def clip_key(run: TrainingRun) -> str | None:
    """The clip-fraction metric this run logs (see CLIP_KEYS), or None."""
    return next((key for key in CLIP_KEYS if run.series(key)), None)


def _wall_time(run: TrainingRun) -> tuple[float | None, str | None]:
    """Seconds for the whole run: the last `timing.elapsed_s`, else the sum of `timing.step_s`."""
    elapsed = run.series("timing.elapsed_s")
    if elapsed:
        return elapsed[-1][1], "timing.elapsed_s at the last step"
    steps = [v for _, v in run.series("timing.step_s")]
    return (math.fsum(steps), "sum of timing.step_s") if steps else (None, None)


def _timing_totals(run: TrainingRun) -> dict[str, float | None]:
    """Seconds per phase summed over steps; real-model runs log reward_s where the sandbox logs execution_s."""
    def total(*names: str) -> float | None:
        values = [v for name in names for _, v in run.series(TIMING_PREFIX + name)]
        return math.fsum(values) if values else None
    return {"generation_s": total("generation_s"), "execution_s": total("execution_s", "reward_s"),
            "update_s": total("update_s")}


def summarize_run(run: TrainingRun) -> dict[str, Any]:
    """Per-run numbers of the report (JSON-ready; None where the run did not log a metric)."""
    reward = run.series("reward")
    entropy = [v for _, v in run.series("entropy")]
    key = clip_key(run)
    clip = [v for _, v in run.series(key)] if key else []
    wall, wall_source = _wall_time(run)
    samples = run.series("samples")
    return {
        "name": run.name, "algorithm": run.algorithm, "config_hash": run.config_hash,
        "steps": len(run.records), "last_step": run.records[-1]["step"],
        "samples": samples[-1][1] if samples else None,
        "reward": {"first": _point(*reward[0]) if reward else None, "last": _last(reward), "best": _best(reward),
                   "std_across_steps": statistics.pstdev([v for _, v in reward]) if reward else None},
        "pass_rate_final": _last(run.series("pass_rate")),
        "validation": {"final": _last(run.series("validation/pass_rate")),
                       "best": _best(run.series("validation/pass_rate")),
                       "count": len(run.series("validation/pass_rate"))},
        "wall_time_s": wall, "wall_time_source": wall_source, "timing_totals": _timing_totals(run),
        "stability": {"kl_max": _best(run.series("kl")), "clip_key": key,
                      "clip_mean": _mean(clip), "clip_max": max(clip) if clip else None,
                      "entropy_first": entropy[0] if entropy else None,
                      "entropy_last": entropy[-1] if entropy else None,
                      "entropy_drop": entropy[0] - entropy[-1] if entropy else None},
        "informative": {"mean_frac_tasks": _mean([v for _, v in run.series("informative/frac_tasks")]),
                        "final_never_count": _last(run.series("informative/never_count")),
                        "mean_frac_reward_zero_std": _mean([v for _, v in run.series("frac_reward_zero_std")])},
        "critic": {"final_explained_variance": _last(run.series("val/explained_variance")),
                   "mean_value_clipfrac": _mean([v for _, v in run.series("val/clipfrac_avg")])},
    }


def area_under(points: list[tuple[float, float]], low: float, high: float) -> float:
    """Trapezoid area under a piecewise-linear curve between x = low and x = high.

    The curve must cover [low, high]; the ends are interpolated linearly. Example:
    points [(0, 0), (10, 1)], low 5, high 10 -> the curve runs from 0.5 to 1 over 5 units,
    area = 5 * (0.5 + 1) / 2 = 3.75.
    """
    if not points or points[0][0] > low or points[-1][0] < high:
        raise ValueError(f"curve does not cover [{low}, {high}]")

    def at(x: float) -> float:
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            if x0 <= x <= x1:
                return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        return points[-1][1]

    xs = [low] + [x for x, _ in points if low < x < high] + [high]
    return math.fsum((b - a) * (at(a) + at(b)) / 2 for a, b in zip(xs, xs[1:]))


def sample_efficiency(runs: list[TrainingRun], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Samples to a common reward threshold, and the area under reward-vs-samples on a common range.

    Threshold: the midpoint between the first and the best reward of the worst run (the run
    whose best reward is lowest; the first such run on ties), so every run reaches it and the
    question is how soon. Area: over the samples range every run covers, so runs of different
    length are compared on the same budget; `mean_reward` is the area divided by its width.
    """
    rated = [s for s in summaries if s["reward"]["best"] is not None]
    if not rated:
        return {"threshold": None, "worst_run": None, "range": None, "runs": {}}
    worst = min(rated, key=lambda s: s["reward"]["best"]["value"])
    threshold = (worst["reward"]["first"]["value"] + worst["reward"]["best"]["value"]) / 2
    curves = {run.name: run.series("reward", x="samples") for run in runs}
    covered = [c for c in curves.values() if c]
    low = max(c[0][0] for c in covered) if covered else None
    high = min(c[-1][0] for c in covered) if covered else None
    span = None if low is None or high <= low else (low, high)
    result = {"threshold": threshold, "worst_run": worst["name"], "range": list(span) if span else None,
              "runs": {}}
    for run in runs:
        reached = next((r for r in run.records if metric(r, "reward") is not None
                        and metric(r, "reward") >= threshold - THRESHOLD_TOLERANCE), None)
        area = area_under(curves[run.name], *span) if span and curves[run.name] else None
        result["runs"][run.name] = {
            "threshold_step": None if reached is None else reached["step"],
            "threshold_samples": None if reached is None else reached.get("samples"),
            "area": area, "mean_reward": None if area is None else area / (span[1] - span[0])}
    return result
