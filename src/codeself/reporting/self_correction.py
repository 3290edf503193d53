"""Self-correction, not resampling: paired comparisons of two-turn episode traces.

Input: trace files of `run_agentic.py`, one per (model, feedback mode), every episode two turns
(`--max-revisions 1 --no-stop-when-public-pass`), the same tasks, sample indices and seed. A
turn is *correct* when its program passed every public and hidden test.

What each number measures (the report prints the same words):
* **turn-k pass@1**: share of episodes whose turn-k program is correct (one episode per task:
  the per-task rate), Wilson 95 % interval;
* **fixes / regressions**: episodes wrong at turn 1 and correct at turn 2 (i→c) / correct at
  turn 1 and wrong at turn 2 (c→i); **fix rate** = fixes / wrong at turn 1, **regression rate** =
  regressions / correct at turn 1; **identical resubmissions**: turn-2 programs equal to turn 1's;
* **turn 2 vs turn 1** (within a run): exact McNemar on fixes vs regressions, i.e. the test of
  the turn-2 minus turn-1 pass@1 of that run;
* **feedback vs none** (within a model): turn-2 pass@1 under a feedback mode minus under `none`
  (the task asked again), paired per episode, exact McNemar. Runs that replayed the `tests`
  run's first turns (`--first-turns-from`) share turn 1, so this difference is the feedback's
  effect on the revision alone; the report says whether turn 1 was shared;
* **model vs model** (at turn k, same feedback): pass@1 difference paired per episode, exact
  McNemar;
* **hidden tests in model input**: episodes where the source of a hidden test appears in a
  message the environment wrote for the model (the prompt, the repair start's code and
  feedback, each turn's feedback and the user/system messages shown; not the model's own
  replies) — the canary check of tests/test_agentic_canary.py on real runs. Hidden tests whose
  text is also a public test are not counted (they are public).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codeself.agents.agentic.trace import EpisodeTrace
from codeself.datasets.task import Task
from codeself.reporting.stats import mcnemar_exact, wilson_interval

EpisodeKey = tuple[str, int]


@dataclass(frozen=True)
class Run:
    """One trace file: a model under one feedback mode."""

    model: str
    feedback: str
    turns: dict[EpisodeKey, tuple[bool, bool]]  # (turn 1 correct, turn 2 correct) per episode
    identical: dict[EpisodeKey, bool]  # turn 2's program equals turn 1's
    first_turn_shared: bool  # the first turns were replayed from another run's trace
    leaks: list[str]  # "task_id#sample: where" for each hidden test found in model input

    @property
    def name(self) -> str:
        return f"{self.model}/{self.feedback}"


def load_run(model: str, traces: Iterable[EpisodeTrace], tasks: Mapping[str, Task], *,
             first_turn_shared: bool = False) -> Run:
    turns, identical, leaks, feedback = {}, {}, [], set()
    for trace in traces:
        if len(trace.turns) != 2:
            raise ValueError(f"{trace.task_id} sample {trace.sample_index}: {len(trace.turns)} turn(s); self-correction "
                             "needs two-turn episodes (--max-revisions 1 --no-stop-when-public-pass)")
        key = (trace.task_id, trace.sample_index)
        turns[key] = tuple(turn.execution.get("status") == "passed" for turn in trace.turns)  # type: ignore[assignment]
        identical[key] = bool(trace.turns[1].identical_to_previous)
        feedback.add(trace.env.get("feedback"))
        task = tasks.get(trace.task_id)
        if task is None:
            raise ValueError(f"{trace.task_id}: not in the task file given, so its hidden tests cannot be checked")
        leaks += [f"{trace.task_id}#{trace.sample_index}: {where}"
                  for where in hidden_tests_in_input(trace.to_json(), task)]
    if not turns:
        raise ValueError(f"{model}: no episodes")
    if len(feedback) != 1:
        raise ValueError(f"{model}: episodes with different feedback modes in one file: {sorted(map(str, feedback))}")
    return Run(model, feedback.pop(), turns, identical, first_turn_shared, leaks)


def hidden_tests_in_input(record: Mapping[str, Any], task: Task) -> list[str]:
    """Where a hidden test's source appears in what the environment showed the model, in a trace
    record or a multi-turn practice rollout record (the JSON forms: `prompt`, `start`, `turns`)."""
    public = {test.strip() for test in task.public_tests}
    hidden = [test.strip() for test in task.hidden_tests if test.strip() and test.strip() not in public]
    texts = [("prompt", message.get("content", "")) for message in record.get("prompt") or []
             if isinstance(message, dict)]
    start = record.get("start") or {}
    texts += [("start.code", start.get("code") or ""), ("start.feedback", start.get("feedback") or "")]
    for turn in record.get("turns") or []:
        texts += [(f"turn {turn['turn']} shown", m.get("content", "")) for m in turn["shown"]
                  if m.get("role") != "assistant"]
        texts.append((f"turn {turn['turn']} feedback", turn.get("feedback") or ""))
    return [where for where, text in texts for test in hidden if test in text]


def _rate(successes: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(successes, n) if n else (None, None)
    return {"k": successes, "n": n, "rate": successes / n if n else None, "ci95": [low, high]}


def run_metrics(run: Run) -> dict[str, Any]:
    outcomes = list(run.turns.values())
    n = len(outcomes)
    fixes = sum(1 for a, b in outcomes if not a and b)
    regressions = sum(1 for a, b in outcomes if a and not b)
    first_right = sum(a for a, _ in outcomes)
    return {"run": run.name, "model": run.model, "feedback": run.feedback, "episodes": n,
            "first_turn_shared": run.first_turn_shared,
            "turn1_pass": _rate(first_right, n), "turn2_pass": _rate(sum(b for _, b in outcomes), n),
            "difference": (sum(b for _, b in outcomes) - first_right) / n,
            "fixes": fixes, "regressions": regressions, "mcnemar_p_turn2_vs_turn1": mcnemar_exact(fixes, regressions),
            "fix_rate": _rate(fixes, n - first_right), "regression_rate": _rate(regressions, first_right),
            "identical_resubmissions": _rate(sum(run.identical.values()), n),
            "hidden_tests_in_input": len(run.leaks), "leak_examples": run.leaks[:3]}


def paired(a: Run, b: Run, turn_a: int, turn_b: int) -> dict[str, Any]:
    """b's turn-`turn_b` pass@1 minus a's turn-`turn_a`, paired per episode (both must hold the same episodes)."""
    if set(a.turns) != set(b.turns):
        raise ValueError(f"{a.name} and {b.name} hold different episodes; compare runs on the same tasks and seed")
    only_a = sum(1 for key in a.turns if a.turns[key][turn_a - 1] and not b.turns[key][turn_b - 1])
    only_b = sum(1 for key in a.turns if b.turns[key][turn_b - 1] and not a.turns[key][turn_a - 1])
    n = len(a.turns)
    return {"baseline": f"{a.name} turn {turn_a}", "candidate": f"{b.name} turn {turn_b}", "episodes": n,
            "difference": (only_b - only_a) / n, "baseline_only": only_a, "candidate_only": only_b,
            "mcnemar_p": mcnemar_exact(only_a, only_b)}


def compare_runs(runs: Sequence[Run]) -> dict[str, Any]:
    """Every comparison of the module docstring over the runs given."""
    by_model: dict[str, dict[str, Run]] = {}
    for run in runs:
        if run.feedback in by_model.setdefault(run.model, {}):
            raise ValueError(f"two runs of {run.model} with feedback {run.feedback}")
        by_model[run.model][run.feedback] = run
    feedback_effects = [dict(paired(modes["none"], run, 2, 2), shared_first_turn=(
                            run.first_turn_shared or modes["none"].first_turn_shared))
                        for modes in by_model.values() if "none" in modes
                        for mode, run in sorted(modes.items()) if mode != "none"]
    models = list(by_model)
    between = [paired(by_model[a][mode], by_model[b][mode], turn, turn)
               for i, a in enumerate(models) for b in models[i + 1:]
               for mode in sorted(set(by_model[a]) & set(by_model[b])) for turn in (1, 2)]
    return {"runs": [run_metrics(run) for run in runs], "feedback_vs_none": feedback_effects,
            "between_models": between,
            "hidden_tests_in_input": sum(len(run.leaks) for run in runs)}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _ci(rate: dict[str, Any]) -> str:
    low, high = rate["ci95"]
    interval = "" if low is None else f" [{100 * low:.1f}, {100 * high:.1f}]"
    return f"{_pct(rate['rate'])} ({rate['k']}/{rate['n']}){interval}"


def _p(value: float) -> str:
    return f"{value:.3g}"


def format_markdown(result: dict[str, Any], title: str = "Self-correction") -> str:
    lines = [f"# {title}", "",
             "Two-turn episodes (answer, feedback, revision; no stop on a public pass). A turn is correct when its "
             "program passes every public and hidden test. Intervals: Wilson 95 %. p: exact McNemar, two-sided, "
             "of the difference in the same row.", "",
             "## Each run: turn 2 against turn 1", "",
             "| run | episodes | turn-1 pass@1 | turn-2 pass@1 | turn 2 − turn 1 | fixes i→c | regressions c→i "
             "| p (turn 2 vs 1) | fix rate | regression rate | identical resubmissions |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in result["runs"]:
        lines.append(f"| {m['run']} | {m['episodes']} | {_ci(m['turn1_pass'])} | {_ci(m['turn2_pass'])} | "
                     f"{100 * m['difference']:+.1f} pts | {m['fixes']} | {m['regressions']} | "
                     f"{_p(m['mcnemar_p_turn2_vs_turn1'])} | {_ci(m['fix_rate'])} | {_ci(m['regression_rate'])} | "
                     f"{_ci(m['identical_resubmissions'])} |")
    lines += ["", "## Feedback against a plain re-ask (turn-2 pass@1, same model, paired per episode)", "",
              "| baseline | candidate | episodes | difference | baseline only | candidate only | p | turn 1 shared |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [_pair_row(row) + f" {'yes' if row['shared_first_turn'] else 'no'} |" for row in result["feedback_vs_none"]]
    lines += ["", "## Model against model (same feedback, same turn, paired per episode)", "",
              "| baseline | candidate | episodes | difference | baseline only | candidate only | p |",
              "|---|---|---|---|---|---|---|"]
    lines += [_pair_row(row) for row in result["between_models"]]
    leaks = result["hidden_tests_in_input"]
    lines += ["", f"Hidden tests in model input (canary check on these runs): **{leaks}** "
              f"episode field(s){' — see the JSON for examples' if leaks else ''}.", ""]
    return "\n".join(lines)


def _pair_row(row: dict[str, Any]) -> str:
    return (f"| {row['baseline']} | {row['candidate']} | {row['episodes']} | {100 * row['difference']:+.1f} pts | "
            f"{row['baseline_only']} | {row['candidate_only']} | {_p(row['mcnemar_p'])} |")
