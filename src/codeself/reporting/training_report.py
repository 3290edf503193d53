"""The training comparison report (GRPO vs PPO vs RLOO): numbers, curves and held-out tests.

`build_report` turns loaded runs (`codeself.reporting.training_metrics`) and, optionally,
held-out rollout files into one JSON-ready dict; `figures` and `render_markdown` read only
that dict, so the Markdown can never disagree with `--json-output`. Held-out comparisons go
through `codeself.reporting.compare.run_comparison` (exact McNemar on paired test tasks, paired
bootstrap interval of the difference): each practised policy against the untrained baseline,
and every pair of practised policies head to head — never by comparing two p-values.
Nothing depends on time or on the machine, so the same inputs give byte-identical outputs.

Document keys: schema_version, runs (per-run summaries), curves ({figure: {run: [[x, y], ...]}}),
sample_efficiency, protocol (config fields that differ), inputs (metrics paths and sha256),
comparisons ([{label, candidate, baseline, result}], result = the compare JSON), seed,
bootstrap_resamples.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from codeself.reporting import compare, svg
from codeself.reporting.training_metrics import TrainingRun, clip_key, sample_efficiency, summarize_run

SCHEMA_VERSION = 1
BASELINE = "base"  # name of the untrained policy in comparisons
# Config fields the protocol holds equal across runs (methodology.md, "Training comparison protocol").
PROTOCOL_FIELDS = ("model", "tasks", "train_split", "validation_split", "reward", "reward_config", "template",
                   "seed", "max_steps", "max_completion_tokens", "sandbox")
# figure file -> (title, y metric, x metric, x label, y label, y range or None)
CURVES = {
    "reward_vs_step.svg": ("Mean reward per step (practice tasks)", "reward", "step", "optimiser step",
                           "mean reward", None),
    "pass_rate_vs_step.svg": ("Pass rate per step (practice tasks)", "pass_rate", "step", "optimiser step",
                              "pass rate", (0.0, 1.0)),
    "validation_pass_rate.svg": ("Validation pass rate", "validation/pass_rate", "step", "optimiser step",
                                 "validation pass rate", (0.0, 1.0)),
    "reward_vs_samples.svg": ("Reward against completions sampled (sample efficiency)", "reward", "samples",
                              "completions sampled (cumulative)", "mean reward", None),
    "reward_vs_seconds.svg": ("Reward against wall time (machine-dependent)", "reward", "timing.elapsed_s",
                              "wall time (s)", "mean reward", None),
    "kl.svg": ("KL to the initial policy", "kl", "step", "optimiser step", "KL", None),
    "clip_fraction.svg": ("Clipped fraction (clip_ratio/region_mean)", "clip", "step", "optimiser step",
                          "clipped fraction", None),
    "entropy.svg": ("Policy entropy", "entropy", "step", "optimiser step", "entropy", None),
    "completion_length.svg": ("Mean completion length", "completions/mean_length", "step", "optimiser step",
                              "tokens", None),
    "informative.svg": ("Informative-prompt fraction", "informative/frac_tasks", "step", "optimiser step",
                        "fraction of tasks with reward variance", (0.0, 1.0)),
}


def _curve(run: TrainingRun, y: str, x: str) -> tuple[str, list[list[float]]]:
    """Legend name and points; the clip curve falls back to the run's own clip key (CLIP_KEYS)."""
    if y != "clip":
        return run.name, [[a, b] for a, b in run.series(y, x)]
    key = clip_key(run)
    name = run.name if key in (None, "clip_ratio/region_mean") else f"{run.name} ({key})"
    return name, [[a, b] for a, b in run.series(key, x)] if key else []


def curves(runs: list[TrainingRun]) -> dict[str, dict[str, list[list[float]]]]:
    out: dict[str, dict[str, list[list[float]]]] = {}
    for figure, (_, y, x, *_rest) in CURVES.items():
        out[figure] = {name: points for name, points in (_curve(run, y, x) for run in runs) if points}
    return out


def protocol_check(runs: list[TrainingRun]) -> dict[str, Any]:
    """Protocol fields whose values differ between runs, and runs without a config.json."""
    configs = {run.name: run.config for run in runs if run.config is not None}
    differing = {}
    for field in PROTOCOL_FIELDS:
        values = {name: config[field] for name, config in configs.items() if field in config}
        if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
            differing[field] = values
    return {"fields": list(PROTOCOL_FIELDS), "differing": differing,
            "without_config": [run.name for run in runs if run.config is None]}


def comparison_pairs(names: list[str], has_baseline: bool) -> list[tuple[str, str]]:
    """(candidate, baseline) pairs: each run against the base policy, then every pair of runs.

    Head-to-head pairs keep the order given, so the difference reads first minus second:
    names [grpo, ppo, rloo] -> (grpo, base), (ppo, base), (rloo, base), (grpo, ppo), (grpo, rloo), (ppo, rloo).
    """
    pairs = [(name, BASELINE) for name in names] if has_baseline else []
    return pairs + list(itertools.combinations(names, 2))


def paired_comparisons(evals: dict[str, str], baseline: str | None,
                       options: compare.CompareOptions) -> list[dict[str, Any]]:
    """Every comparison of `comparison_pairs`, each through compare.run_comparison."""
    paths = dict(evals, **({BASELINE: baseline} if baseline else {}))
    out = []
    for candidate, reference in comparison_pairs(list(evals), baseline is not None):
        try:
            result = compare.run_comparison(paths[reference], paths[candidate], options)
        except ValueError as error:  # compare's messages say --baseline / --candidate: name the pair
            raise ValueError(f"held-out comparison {candidate} vs {reference} (--candidate = "
                             f"{paths[candidate]}, --baseline = {paths[reference]}): {error}") from None
        out.append({"label": f"{candidate} vs {reference}", "candidate": candidate, "baseline": reference,
                    "result": result})
    return out


def build_report(runs: list[TrainingRun], evals: dict[str, str] | None = None, baseline: str | None = None,
                 options: compare.CompareOptions | None = None) -> dict[str, Any]:
    """All numbers of the report. `evals` maps run names to held-out rollout files (in run order)."""
    if not runs:
        raise ValueError("a training report needs the metrics of at least one run")
    names = [run.name for run in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"run names must be unique, got {names}")
    evals = evals or {}
    unknown = sorted(set(evals) - set(names))
    if unknown:
        raise ValueError(f"held-out evaluation given for {unknown}, which have no metrics; runs are {names}")
    if BASELINE in names:
        raise ValueError(f"{BASELINE!r} names the untrained policy (--baseline-eval); choose another run name")
    if baseline and not evals:
        raise ValueError("--baseline-eval needs at least one practised policy's evaluation (--<alg>-eval)")
    if not baseline and len(evals) == 1:
        raise ValueError("one held-out evaluation alone compares with nothing; add --baseline-eval or "
                         "another run's evaluation")
    options = options or compare.CompareOptions()
    ordered = {name: evals[name] for name in names if name in evals}
    summaries = [summarize_run(run) for run in runs]
    return {"schema_version": SCHEMA_VERSION, "runs": summaries, "curves": curves(runs),
            "sample_efficiency": sample_efficiency(runs, summaries), "protocol": protocol_check(runs),
            "inputs": [{"run": run.name, "metrics": run.metrics_path, "sha256": run.metrics_sha256,
                        "config": run.config_path} for run in runs],
            "comparisons": paired_comparisons(ordered, baseline, options),
            "seed": options.seed, "bootstrap_resamples": options.bootstrap_resamples}


def outcome_figure_name(comparison: dict[str, Any]) -> str:
    return f"outcomes_{comparison['candidate']}_vs_{comparison['baseline']}.svg"


def figures(report: dict[str, Any]) -> dict[str, str]:
    """File name -> SVG text: the curves, then one per-task outcome grid per held-out comparison."""
    out = {}
    for figure, (title, _, _, x_label, y_label, y_range) in CURVES.items():
        series = {name: [tuple(p) for p in points] for name, points in report["curves"][figure].items()}
        low, high = y_range or (None, None)
        out[figure] = svg.line_chart(series, title=title, x_label=x_label, y_label=y_label, y_min=low, y_max=high)
    for comparison in report["comparisons"]:
        out[outcome_figure_name(comparison)] = compare.outcome_chart(comparison["result"])
    return out


CAPTIONS = {
    "reward_vs_step.svg": "Mean reward of each step's completions on the practice (`train`) tasks.",
    "pass_rate_vs_step.svg": "Share of each step's completions that pass every test.",
    "validation_pass_rate.svg": "Pass rate on the `validation` split at the validation steps (checkpoints "
                                "are selected on this split only).",
    "reward_vs_samples.svg": "Reward against the cumulative number of completions sampled: the curve that "
                             "rises first learned from fewer samples.",
    "reward_vs_seconds.svg": "Reward against `timing.elapsed_s`. Wall time depends on the machine, its load "
                             "and the sandbox level: compare it only between runs made on the same machine.",
    "kl.svg": "KL divergence from the initial policy as each trainer logs it (`kl`).",
    "clip_fraction.svg": "Share of tokens whose probability ratio was clipped (`clip_ratio/region_mean`); a run "
                         "that logs only `policy/clipfrac_avg` (TRL's PPO) shows that, named in the legend.",
    "entropy.svg": "Mean per-token entropy of the sampled completions.",
    "completion_length.svg": "Mean length of each step's completions (`completions/mean_length`, tokens); a "
                             "falling curve often means the policy learned to stop rather than to solve.",
    "informative.svg": "Share of each step's tasks whose completions got different rewards "
                       "(`informative/frac_tasks`); only these give GRPO a non-zero advantage.",
}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _p(value: float) -> str:
    """A p-value as the final comparison report prints it."""
    return f"{value:.4f}" if value >= 1e-4 else f"{value:.2e}"


def _count(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{int(value)}" if float(value).is_integer() else f"{value:.4g}"


def _at(point: dict[str, float] | None, show=_fmt) -> str:
    """`value (step N)`, or n/a."""
    return "n/a" if point is None else f"{show(point['value'])} (step {_count(point['step'])})"


def _figure(figure_dir: str, name: str) -> list[str]:
    number = list(CURVES).index(name) + 1
    return [f"![Figure {number}: {CURVES[name][0]}]({figure_dir}/{name})", "",
            f"*Figure {number}.* {CAPTIONS[name]}", ""]


def _intro(report: dict[str, Any]) -> list[str]:
    names = [s["name"] for s in report["runs"]]
    lines = [f"# Training comparison: {' vs '.join(names)}", "",
             "Runs compared under methodology.md, \"Training comparison protocol\": the same base model, "
             "`train` tasks, reward, sandbox, prompt template, completion budget, number of optimiser steps "
             "and seed. Sections 1–5 describe how each run practised (practice tasks; validation pass rate on "
             "the `validation` split); they are descriptive, not tests. Claims about held-out performance "
             "come only from section 6, the paired comparisons on the locked test split.", ""]
    protocol = report["protocol"]
    for field, values in protocol["differing"].items():
        shown = ", ".join(f"{name} = `{json.dumps(v)}`" for name, v in values.items())
        lines += [f"**Protocol warning:** `{field}` differs between runs ({shown}).", ""]
    if protocol["without_config"]:
        lines += ["No `config.json` beside the metrics of " + ", ".join(f"`{n}`" for n in protocol["without_config"])
                  + ": the protocol fields of those runs could not be checked.", ""]
    return lines


def _runs(report: dict[str, Any], figure_dir: str) -> list[str]:
    lines = ["## 1. Runs", "", "| run | algorithm | config hash | steps | completions sampled | wall time (s) |",
             "|---|---|---|---:|---:|---:|"]
    lines += [f"| {s['name']} | {s['algorithm'] or 'n/a'} | `{s['config_hash'] or 'n/a'}` | {s['steps']} | "
              f"{_count(s['samples'])} | {_fmt(s['wall_time_s'], 2)} |" for s in report["runs"]]
    lines += ["", "| run | first reward | last reward | best reward | final pass rate | final validation pass rate "
              "| best validation pass rate |", "|---|---:|---:|---:|---:|---:|---:|"]
    for s in report["runs"]:
        r, v = s["reward"], s["validation"]
        lines.append(f"| {s['name']} | {_at(r['first'])} | {_at(r['last'])} | {_at(r['best'])} | "
                     f"{_at(s['pass_rate_final'], _pct)} | {_at(v['final'], _pct)} | {_at(v['best'], _pct)} |")
    sources = sorted({s["wall_time_source"] for s in report["runs"] if s["wall_time_source"]})
    lines += ["", "Wall time is " + (" or ".join(sources) if sources else "not logged") + ". It is "
              "**machine-dependent** (hardware, load, sandbox level, model size): compare it only between runs "
              "made on the same machine, and prefer the sample counts for efficiency. Seconds per phase, "
              "summed over steps (execution = sandbox verdicts, or reward computation for real-model runs):", "",
              "| run | generation (s) | execution (s) | update (s) |", "|---|---:|---:|---:|"]
    lines += [f"| {s['name']} | {_fmt(t['generation_s'], 2)} | {_fmt(t['execution_s'], 2)} | "
              f"{_fmt(t['update_s'], 2)} |" for s in report["runs"] for t in [s["timing_totals"]]]
    lines += ["", "## 2. Learning curves", ""]
    for name in ("reward_vs_step.svg", "pass_rate_vs_step.svg", "validation_pass_rate.svg",
                 "reward_vs_samples.svg", "reward_vs_seconds.svg"):
        lines += _figure(figure_dir, name)
    return lines


def _efficiency(report: dict[str, Any]) -> list[str]:
    eff = report["sample_efficiency"]
    lines = ["## 3. Sample efficiency", ""]
    if eff["threshold"] is None:
        return lines + ["No run logged a reward, so sample efficiency cannot be measured.", ""]
    worst = next(s for s in report["runs"] if s["name"] == eff["worst_run"])["reward"]
    low, high = eff["range"] or (None, None)
    lines += [f"Threshold: reward **{_fmt(eff['threshold'])}**, the midpoint between the first "
              f"({_fmt(worst['first']['value'])}) and the best ({_fmt(worst['best']['value'])}) reward of "
              f"`{eff['worst_run']}`, the run with the lowest best reward, so every run reaches it. Samples are "
              "completions sampled for practice, counted at the first step whose mean reward reaches the "
              "threshold. The area under reward-vs-samples (trapezoids) is taken over the range every run "
              + (f"covers, {_count(low)} to {_count(high)} completions, so runs of different length are compared "
                 "on the same budget; mean reward = area / range width." if eff["range"] else
                 "covers; the runs share no such range, so it is n/a."), "",
              "| run | first step at threshold | completions sampled then | area under reward vs samples | "
              "mean reward over the range |", "|---|---:|---:|---:|---:|"]
    for name, row in eff["runs"].items():
        step = "not reached" if row["threshold_step"] is None else _count(row["threshold_step"])
        lines.append(f"| {name} | {step} | {_count(row['threshold_samples'])} | {_fmt(row['area'])} | "
                     f"{_fmt(row['mean_reward'])} |")
    return lines + [""]


def _stability(report: dict[str, Any], figure_dir: str) -> list[str]:
    lines = ["## 4. Stability", "", "| run | max KL | clip metric | mean clipped fraction | max clipped fraction "
             "| entropy first → last | entropy drop | reward std across steps |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for s in report["runs"]:
        st = s["stability"]
        lines.append(f"| {s['name']} | {_at(st['kl_max'], lambda v: _fmt(v, 4))} | "
                     f"{'`' + st['clip_key'] + '`' if st['clip_key'] else 'n/a'} | {_fmt(st['clip_mean'], 4)} | "
                     f"{_fmt(st['clip_max'], 4)} | {_fmt(st['entropy_first'])} → {_fmt(st['entropy_last'])} | "
                     f"{_fmt(st['entropy_drop'])} | {_fmt(s['reward']['std_across_steps'])} |")
    lines += ["", "Entropy drop = first − last logged entropy (positive: the policy became more certain). Reward std "
              "across steps is the population standard deviation of the per-step mean reward; it mixes learning "
              "progress with noise, so read it beside Figure 1.", ""]
    critics = [s for s in report["runs"] if s["critic"]["final_explained_variance"] is not None]
    for s in critics:
        lines += [f"Critic of `{s['name']}`: final explained variance "
                  f"{_at(s['critic']['final_explained_variance'])}, mean value clip fraction "
                  f"{_fmt(s['critic']['mean_value_clipfrac'], 4)}.", ""]
    for name in ("kl.svg", "clip_fraction.svg", "entropy.svg", "completion_length.svg"):
        lines += _figure(figure_dir, name)
    return lines


def _informative(report: dict[str, Any], figure_dir: str) -> list[str]:
    lines = ["## 5. Informative prompts", "",
             "A task is informative at a step when its completions got different rewards; never-informative "
             "tasks gave no group-relative signal at any step so far.", "",
             "| run | mean informative fraction | never-informative tasks at the end | mean frac_reward_zero_std |",
             "|---|---:|---:|---:|"]
    lines += [f"| {s['name']} | {_fmt(i['mean_frac_tasks'])} | {_at(i['final_never_count'], _count)} | "
              f"{_fmt(i['mean_frac_reward_zero_std'])} |" for s in report["runs"] for i in [s["informative"]]]
    return lines + [""] + _figure(figure_dir, "informative.svg")


def _held_out(report: dict[str, Any], figure_dir: str) -> list[str]:
    lines = ["## 6. Held-out paired comparisons (locked test split)", ""]
    comparisons = report["comparisons"]
    if not comparisons:
        return lines + ["No held-out evaluation files were given (`--baseline-eval`, `--<alg>-eval`); this report "
                        "makes no claim about performance on the locked test split.", ""]
    first = comparisons[0]["result"]
    lines += [f"Each policy's rollouts on split `{first['split']}` are paired task by task "
              f"(`codeself.reporting.compare`, per-task outcome = `{first['outcome_rule']}` sample): exact McNemar "
              f"test on the tasks that flipped, difference with a {first['confidence']:.0%} paired-bootstrap "
              f"interval ({report['bootstrap_resamples']} resamples of tasks, seed {report['seed']}). "
              "In `A vs B`, A is the candidate and B the baseline, and the difference is A − B. **The algorithms "
              "are compared with each other by their own paired test on the same tasks, never by comparing "
              "their p-values against the base policy**: one p-value below α and one above say nothing about "
              f"the difference between the two. {len(comparisons)} tests are reported without multiplicity "
              "correction; unless one was pre-registered as the study's primary comparison, all are secondary.", "",
              "| A vs B | tasks | A passes | B passes | A − B (points) | percentile CI | only B passes (b) "
              "| only A passes (c) | exact McNemar p |", "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for comparison in comparisons:
        r = comparison["result"]
        effect = r["effects"][r["primary_effect"]]  # the difference and the p of the same quantity
        t, (low, high) = effect["counts"], effect["ci"]
        lines.append(f"| {comparison['label']} | {r['n']} | {t['both_pass'] + t['candidate_only']} | "
                     f"{t['both_pass'] + t['baseline_only']} | {100 * effect['difference']:+.1f} | "
                     f"[{100 * low:+.1f}, {100 * high:+.1f}] | {t['baseline_only']} | {t['candidate_only']} | "
                     f"{_p(effect['p_value'])} |")
    lines.append("")
    for comparison in comparisons:
        r = comparison["result"]
        warning = f"**{r['non_test_warning']}** " if r["non_test_warning"] else ""
        lines += [f"- **{comparison['label']}** (candidate `{comparison['candidate']}`, baseline "
                  f"`{comparison['baseline']}`): {warning}{r['verdict']}"]
    lines.append("")
    for number, comparison in enumerate(comparisons, start=len(CURVES) + 1):
        lines += [f"![Figure {number}: per-task outcomes, {comparison['label']}]"
                  f"({figure_dir}/{outcome_figure_name(comparison)})", "",
                  f"*Figure {number}.* Per-task outcomes of {comparison['label']} (candidate "
                  f"`{comparison['candidate']}`, baseline `{comparison['baseline']}`).", ""]
    return lines


def _inputs(report: dict[str, Any]) -> list[str]:
    lines = ["## Inputs", "", "| run | metrics | sha256 | config |", "|---|---|---|---|"]
    lines += [f"| {i['run']} | `{i['metrics']}` | `{i['sha256'][:16]}…` | "
              f"{'`' + i['config'] + '`' if i['config'] else 'none'} |" for i in report["inputs"]]
    evaluations = {}
    for comparison in report["comparisons"]:
        for role in ("candidate", "baseline"):
            evaluations.setdefault(comparison[role], comparison["result"]["inputs"][role])
    if evaluations:
        lines += ["", "| policy | held-out rollouts | sha256 | tasks | samples |", "|---|---|---|---:|---:|"]
        lines += [f"| {name} | `{info['path']}` | `{info['sha256'][:16]}…` | {info['tasks']} | {info['samples']} |"
                  for name, info in evaluations.items()]
    return lines + [""]


def render_markdown(report: dict[str, Any], figure_dir: str) -> str:
    """The report; figures are referenced relative to it as `figure_dir/<name>.svg`."""
    body = (_intro(report) + _runs(report, figure_dir) + _efficiency(report) + _stability(report, figure_dir)
            + _informative(report, figure_dir) + _held_out(report, figure_dir) + _inputs(report))
    return "\n".join(body).rstrip("\n") + "\n"
