"""Strategy metrics of a trace file: how episodes change programs from turn to turn.

One streaming pass reduces each episode to an `EpisodeSummary` (a few numbers), then
`strategy_metrics` aggregates. Definitions (c = correct: every public and hidden test passed):

* **first attempt**: turn 1 in solve mode, the starting program in repair mode (always incorrect:
  it is screened to fail a public test); **final**: the submission, i.e. the last turn.
* **pass@1 after turn k** (k = 1 .. max turns): the program standing after turn k — the last
  one for an episode that stopped earlier — averaged per task, then over tasks; 95 % percentile
  bootstrap interval over tasks (samples of one task are not independent).
* **fix rate** = #(i→c) / #(first incorrect); **regression rate** = #(c→i) / #(first correct),
  first → final; Wilson intervals over episodes. With `stop_when_public_pass` (the default) a
  correct first attempt ends the episode, so regressions can only be observed without it.
* **transition table**: i→c, c→i, i→i, c→c for each consecutive pair of turns (over episodes
  that reached the later turn) and for first → final; the **turn-to-turn** fix and regression
  rates pool every consecutive pair (repair: the start → turn 1 pair included).
* **public pass, hidden fail at submission**: the final program passes every public test and
  fails a hidden one (the public tests misled the stop rule); over episodes whose task has public
  tests. **No public tests**: episodes (and tasks) with none — they cannot stop on a public pass,
  their feedback says nothing checked the answers, and they are counted here apart.
* **identical resubmission rate**: revision turns (a turn with a previous program) whose
  program equals the previous one; **revision size**: lines added + removed per revision turn
  with code (`trace.revision_size`).
* **by first-attempt error category**: `feedback.error_category` of the first attempt.
* **by repair category** (report_categories.py): start → final pass rate and fix rate per category.
* **mock intents** (mock reviser only): per intent, how often the reply reached its intended
  outcome (`repair`/`rewrite` → passes, `break`/`new_mutant` → fails, `resubmit`/`keep` → identical).
* **reward by category**: episode return (bootstrap interval over episodes) and final pass rate
  per category — the trace's `metadata.category` (environments with a curriculum or memory),
  else the start's repair category, else the family part of the task id (curriculum.id_category).
* **efficiency**: the final submission's efficiency record (`execution.efficiency`, runs with
  `--efficiency`): the distribution of scores and of growth exponents (`status` ok), percentiles
  and histogram as GET /stats computes them (practice.distribution).
* **memory**: over episodes run with memory on (`metadata.memory` present), how many were shown
  an entry (hits) and the final pass rate with and without one.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from codeself.agents.agentic.curriculum import id_category
from codeself.agents.agentic.practice import EXPONENT_EDGES, SCORE_EDGES, distribution, efficiency_values
from codeself.agents.agentic.report_categories import repair_outcome, repair_rows
from codeself.agents.agentic.trace import EpisodeTrace, read_traces, revision_size
from codeself.reporting.stats import bootstrap_mean_ci, wilson_interval

TRANSITIONS = ("i→c", "c→i", "i→i", "c→c")
INTENDED = {"repair": "passes", "rewrite": "passes", "break": "fails", "new_mutant": "fails",
            "resubmit": "identical", "keep": "identical"}


@dataclass
class EpisodeSummary:
    task_id: str
    correct: list[bool]  # after each model turn
    start_correct: bool | None  # repair: the starting program (None in solve mode)
    final_public: bool | None  # None: the task has no public test (nothing to pass)
    final_hidden: bool
    first_category: str
    identical: list[bool] = field(default_factory=list)  # per revision turn
    sizes: list[int] = field(default_factory=list)  # per revision turn with code
    episode_return: float = 0.0
    intents: list[tuple[str, bool, bool]] = field(default_factory=list)  # (intent, passed, identical)
    readings: list[tuple[str, str]] = field(default_factory=list)  # mock: (what it read, what it did)
    repair: tuple[str, bool] | None = None  # (repair category, fixed): report_categories.py
    category: str = ""
    efficiency: tuple[float | None, float | None] = (None, None)  # the submission's (score, exponent)
    memory_shown: bool | None = None  # None: memory off

    @property
    def first(self) -> bool:
        return self.start_correct if self.start_correct is not None else self.correct[0]


def summarise(trace: EpisodeTrace) -> EpisodeSummary:
    start = trace.start
    correct = [turn.execution.get("status") == "passed" for turn in trace.turns]
    summary = EpisodeSummary(trace.task_id, correct,
                             None if start is None else start["execution"]["status"] == "passed",
                             _final_public(trace.final), bool(trace.final["hidden_passed"]),
                             trace.first_error_category, episode_return=float(trace.reward["return"]),
                             category=trace.metadata.get("category") or (start or {}).get("category")
                             or id_category(trace.task_id),
                             efficiency=efficiency_values(trace.turns[-1].execution.get("efficiency")
                                                          if trace.turns else None),
                             memory_shown=(trace.metadata["memory"] is not None) if "memory" in trace.metadata else None)
    summary.repair = repair_outcome(trace)
    has_previous = start is not None
    for turn in trace.turns:
        if has_previous:
            summary.identical.append(bool(turn.identical_to_previous))
            if turn.code is not None:
                summary.sizes.append(revision_size(turn.diff))
        has_previous = has_previous or turn.code is not None
        intent, reading = turn.metadata.get("mock_intent"), turn.metadata.get("mock_read")
        if reading is not None:
            summary.readings.append((reading, intent))
        if intent in INTENDED:
            summary.intents.append((intent, turn.execution.get("status") == "passed", bool(turn.identical_to_previous)))
    if not trace.turns:
        raise ValueError(f"episode {trace.episode_id} of {trace.task_id} has no turns")
    return summary


def _final_public(final: dict[str, Any]) -> bool | None:
    """`public_passed` of a submission; traces written before `public_total` existed said True
    for a task with no public test, and cannot be told apart (they count as tested)."""
    if final.get("public_total", 1) == 0 or final["public_passed"] is None:
        return None
    return bool(final["public_passed"])


def _rate(successes: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"rate": None, "ci": None, "successes": 0, "n": 0}
    return {"rate": successes / n, "ci": list(wilson_interval(successes, n)), "successes": successes, "n": n}


def _mean_ci(values: list[float], seed: int, resamples: int) -> dict[str, Any]:
    if not values:
        return {"mean": None, "ci": None, "n": 0}
    return {"mean": math.fsum(values) / len(values), "ci": list(bootstrap_mean_ci(values, seed=seed,
                                                                                     n_resamples=resamples)),
            "n": len(values)}


def _transition(before: bool, after: bool) -> str:
    return f"{'c' if before else 'i'}→{'c' if after else 'i'}"


def strategy_metrics(summaries: list[EpisodeSummary], *, seed: int = 0, resamples: int = 1000) -> dict[str, Any]:
    """Every number of the strategy report (module docstring), from per-episode summaries."""
    if not summaries:
        raise ValueError("no episodes to report on")
    max_turns = max(len(s.correct) for s in summaries)
    by_task: dict[str, list[EpisodeSummary]] = defaultdict(list)
    for summary in summaries:
        by_task[summary.task_id].append(summary)
    pass_at_turn = []
    for k in range(1, max_turns + 1):
        per_task = [sum(s.correct[min(k, len(s.correct)) - 1] for s in group) / len(group) for group in by_task.values()]
        pass_at_turn.append({"turn": k, **_mean_ci(per_task, seed, resamples)})
    first_final = Counter(_transition(s.first, s.correct[-1]) for s in summaries)
    pairs = []
    if any(s.start_correct is not None for s in summaries):
        pairs.append(("start→1", Counter(_transition(s.start_correct, s.correct[0]) for s in summaries
                                         if s.start_correct is not None)))
    for k in range(1, max_turns):
        pairs.append((f"{k}→{k + 1}", Counter(_transition(s.correct[k - 1], s.correct[k])
                                              for s in summaries if len(s.correct) > k)))
    pooled = Counter()
    for _, counts in pairs:
        pooled.update(counts)
    identical = [flag for s in summaries for flag in s.identical]
    sizes = [float(size) for s in summaries for size in s.sizes]
    turns_used = Counter(len(s.correct) for s in summaries)
    tested = [s for s in summaries if s.final_public is not None]
    untested = [s for s in summaries if s.final_public is None]
    return {
        "n_episodes": len(summaries), "n_tasks": len(by_task), "max_turns": max_turns,
        "pass_at_1_by_turn": pass_at_turn,
        "first_final": {name: first_final.get(name, 0) for name in TRANSITIONS},
        "fix_rate": _rate(first_final["i→c"], first_final["i→c"] + first_final["i→i"]),
        "regression_rate": _rate(first_final["c→i"], first_final["c→i"] + first_final["c→c"]),
        "turn_fix_rate": _rate(pooled["i→c"], pooled["i→c"] + pooled["i→i"]),
        "turn_regression_rate": _rate(pooled["c→i"], pooled["c→i"] + pooled["c→c"]),
        "transitions": [{"pair": pair, **{name: counts.get(name, 0) for name in TRANSITIONS}} for pair, counts in pairs],
        "public_pass_hidden_fail": _rate(sum(s.final_public and not s.final_hidden for s in tested), len(tested)),
        "no_public_tests": {"episodes": len(untested), "tasks": len({s.task_id for s in untested})},
        "identical_resubmission": _rate(sum(identical), len(identical)),
        "revision_size": {**_mean_ci(sizes, seed, resamples), "median": _median(sizes), "values": sizes},
        "turns_used": {"counts": {str(k): turns_used[k] for k in sorted(turns_used)},
                       **_mean_ci([float(len(s.correct)) for s in summaries], seed, resamples)},
        "by_first_category": _by_category(summaries),
        "episode_return": _mean_ci([s.episode_return for s in summaries], seed, resamples),
        "mock_intents": _intent_check(summaries),
        "by_repair_category": repair_rows(summaries),
        "mock_readings": _reading_shares(summaries),
        **_practice_metrics(summaries, seed, resamples),
    }


def _practice_metrics(summaries: list[EpisodeSummary], seed: int, resamples: int) -> dict[str, Any]:
    """Reward by category, the efficiency distributions and memory hits (module docstring)."""
    groups: dict[str, list[EpisodeSummary]] = defaultdict(list)
    for summary in summaries:
        groups[summary.category].append(summary)
    by_category = [{"category": name, "episodes": len(group),
                    "return": _mean_ci([s.episode_return for s in group], seed, resamples),
                    "final_pass": _rate(sum(s.correct[-1] for s in group), len(group))}
                   for name, group in sorted(groups.items())]
    remembered = [s for s in summaries if s.memory_shown is not None]
    shown = [s for s in remembered if s.memory_shown]
    memory = None if not remembered else {
        "episodes": len(remembered), "hits": _rate(len(shown), len(remembered)),
        "pass_shown": _rate(sum(s.correct[-1] for s in shown), len(shown)),
        "pass_not_shown": _rate(sum(s.correct[-1] for s in remembered if not s.memory_shown),
                                len(remembered) - len(shown))}
    return {"reward_by_category": by_category,
            "efficiency": {"score": distribution([s.efficiency[0] for s in summaries if s.efficiency[0] is not None],
                                                 SCORE_EDGES),
                           "exponent": distribution([s.efficiency[1] for s in summaries
                                                     if s.efficiency[1] is not None], EXPONENT_EDGES)},
            "memory": memory}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _by_category(summaries: list[EpisodeSummary]) -> list[dict[str, Any]]:
    groups: dict[str, list[EpisodeSummary]] = defaultdict(list)
    for summary in summaries:
        groups[summary.first_category].append(summary)
    rows = []
    for category, group in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        wrong_first = [s for s in group if not s.first]
        rows.append({"category": category, "episodes": len(group),
                     "final_pass": _rate(sum(s.correct[-1] for s in group), len(group)),
                     "fix_rate": _rate(sum(s.correct[-1] for s in wrong_first), len(wrong_first))})
    return rows


def _intent_check(summaries: list[EpisodeSummary]) -> list[dict[str, Any]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for summary in summaries:
        for intent, passed, identical in summary.intents:
            expected = INTENDED[intent]
            achieved = passed if expected == "passes" else (not passed if expected == "fails" else identical)
            counts[intent][0] += achieved
            counts[intent][1] += 1
    return [{"intent": intent, "intended": INTENDED[intent], **_rate(done, n)}
            for intent, (done, n) in sorted(counts.items())]


def _reading_shares(summaries: list[EpisodeSummary]) -> list[dict[str, Any]]:
    """Mock reviser: per kind of feedback read, how often each intent was chosen (compare with
    mock_reviser.ReviserConfig's probabilities)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for summary in summaries:
        for reading, intent in summary.readings:
            counts[reading][intent] += 1
    return [{"read": reading, "n": sum(intents.values()),
             "intents": {name: intents[name] for name in sorted(intents)}} for reading, intents in sorted(counts.items())]


def metrics_from_file(path: str | os.PathLike, *, seed: int = 0, resamples: int = 1000) -> dict[str, Any]:
    """Stream a trace file into `strategy_metrics`, adding what the file's episodes share."""
    summaries, settings = [], Counter()
    for trace in read_traces(path):
        summaries.append(summarise(trace))
        settings[(trace.mode, trace.backend, trace.env.get("feedback"), trace.env.get("max_revisions"),
                  trace.env.get("stop_when_public_pass"), trace.reward.get("name"))] += 1
    if not summaries:
        raise ValueError(f"{path}: no episodes (an empty trace file)")
    metrics = strategy_metrics(summaries, seed=seed, resamples=resamples)
    keys = ("mode", "backend", "feedback", "max_revisions", "stop_when_public_pass", "reward")
    metrics["settings"] = [dict(zip(keys, values), episodes=count) for values, count in settings.most_common()]
    return metrics


def iter_summaries(traces: Iterable[EpisodeTrace]) -> list[EpisodeSummary]:
    return [summarise(trace) for trace in traces]
