"""How far an LLM judge agrees with the tests, and with itself (scripts/calibrate_judge.py).

Every sample of an executed rollout (or execution-results) file is rated once, passing or not:
AUROC of the score against the test verdict, Cohen's kappa of "score >= threshold" against it,
and the mean score of each class. Then two self-consistency checks, on samples chosen with a
seed: the same program rated a second time (repeat consistency), and a passing and a failing
program of one task compared in both orders (order consistency: the judge names the same
program both times; and how often that program is the passing one). Judge failures (replies
outside the closed output, cut-off replies, failed requests) are counted by reason and left out
of every rate; programs the judge cannot be shown (no code, not Python, does not parse) are
counted apart. Field meanings: docs/schemas.md, "Judge calibration JSON".
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from codeself.jsonl import iter_jsonl_lines
from codeself.reporting.agreement import auroc, cohen_kappa
from codeself.reporting.records import read_sample
from codeself.rewards.judge import JudgeItem, JudgeOutcome, LLMJudge

CHUNK = 32  # items submitted together between progress updates


def _record_prompt(record: dict[str, Any]) -> str:
    prompt = record.get("prompt")
    if isinstance(prompt, list):
        return "\n".join(str(m.get("content", "")) for m in prompt if isinstance(m, dict) and m.get("role") == "user")
    return prompt if isinstance(prompt, str) else ""


def _record_program(record: dict[str, Any], task: Any | None) -> str | None:
    """The executed program: `code` (rollouts), else `solution`, else starter code + `completion`."""
    for key in ("code", "solution"):
        if key in record:
            value = record[key]
            if value is not None and not isinstance(value, str):
                raise ValueError(f"'{key}' must be a string or null")
            return value
    if isinstance(record.get("completion"), str):
        if task is None:
            raise ValueError("the record has only 'completion' (a continuation of the starter code); "
                             "pass --tasks so the starter code can be prepended")
        return task.starter_code + record["completion"]
    raise ValueError("the record has no 'code', 'solution' or 'completion'")


def load_items(path: str, tasks: dict[str, Any] | None = None, limit: int | None = None) -> list[JudgeItem]:
    """One JudgeItem per record of `path` (first `limit` records); `tasks` by task_id, when given,
    supply the task statement, entry point and starter code. Bad records: `path:line: reason`."""
    items = []
    for line, record in iter_jsonl_lines(path):
        if limit is not None and len(items) >= limit:
            break
        try:
            sample = read_sample(record)
            task = (tasks or {}).get(sample["task_id"])
            if tasks is not None and task is None:
                raise ValueError(f"task {sample['task_id']} is not in --tasks")
            program = _record_program(record, task)
        except ValueError as error:
            raise ValueError(f"{path}:{line}: {error}") from None
        statement = task.prompt if task is not None else _record_prompt(record)
        keep = (task.entry_point,) if task is not None and task.entry_point else ()
        language = task.language if task is not None else str(record.get("language") or "python")
        items.append(JudgeItem(sample["task_id"], program, statement, keep, bool(sample["passed"]), language))
    return items


def _tally(outcomes: Iterable[JudgeOutcome]) -> dict[str, Any]:
    statuses, reasons = Counter(), defaultdict(Counter)
    for outcome in outcomes:
        statuses[outcome.status] += 1
        if outcome.reason:
            reasons[outcome.status][outcome.reason] += 1
    return {"scored": statuses["scored"], "failures": statuses["failure"], "not_judged": statuses["not_judged"],
            "failure_reasons": dict(sorted(reasons["failure"].items())),
            "not_judged_reasons": dict(sorted(reasons["not_judged"].items()))}


def verdict_agreement(scores: Sequence[float], passed: Sequence[bool], threshold: float) -> dict[str, Any]:
    """AUROC, kappa at `threshold`, the confusion counts and each class's mean score."""
    predicted = [score >= threshold for score in scores]
    pairs = list(zip(predicted, passed))

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    return {"auroc": auroc(scores, passed), "threshold": threshold,
            "cohen_kappa": cohen_kappa(predicted, list(passed)),
            "confusion": {"true_pass": pairs.count((True, True)), "false_pass": pairs.count((True, False)),
                          "false_fail": pairs.count((False, True)), "true_fail": pairs.count((False, False))},
            "mean_score_passed": mean([s for s, p in zip(scores, passed) if p]),
            "mean_score_failed": mean([s for s, p in zip(scores, passed) if not p])}


def _judge_in_chunks(judge: LLMJudge, items: Sequence[JudgeItem], progress: Any | None) -> list[JudgeOutcome]:
    outcomes: list[JudgeOutcome] = []
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        outcomes += judge.judge_many(chunk, require_pass=False)
        if progress is not None:
            progress.update(len(chunk))
    return outcomes


def repeat_consistency(judge: LLMJudge, items: Sequence[JudgeItem], first: Sequence[JudgeOutcome],
                       count: int, rng: random.Random) -> dict[str, Any]:
    """Rate `count` scored samples again; agreement = the same rating both times."""
    scored = [i for i, outcome in enumerate(first) if outcome.status == "scored"]
    chosen = sorted(rng.sample(scored, min(count, len(scored))))
    again = judge.judge_many([items[i] for i in chosen], require_pass=False)
    both = [(first[i], second) for i, second in zip(chosen, again) if second.status == "scored"]
    agree = sum(1 for a, b in both if a.rating == b.rating)
    return {"n": len(both), "agree": agree, "rate": agree / len(both) if both else None, **_failures(again)}


def order_consistency(judge: LLMJudge, items: Sequence[JudgeItem], first: Sequence[JudgeOutcome],
                      count: int, rng: random.Random) -> dict[str, Any]:
    """Compare a passing and a failing program of `count` tasks in both orders."""
    by_task: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for i, (item, outcome) in enumerate(zip(items, first)):
        if outcome.status != "not_judged":  # the judge can be shown it
            by_task[item.task_id][0 if item.passed else 1].append(i)
    eligible = sorted(task for task, (good, bad) in by_task.items() if good and bad)
    pairs = []
    for task in sorted(rng.sample(eligible, min(count, len(eligible)))):
        good, bad = by_task[task]
        pairs.append((items[rng.choice(good)], items[rng.choice(bad)]))
    forward = judge.compare_many(pairs)
    backward = judge.compare_many([(bad, good) for good, bad in pairs])
    both = [(a.rating, b.rating) for a, b in zip(forward, backward) if a.status == b.status == "scored"]
    consistent = [a for a, b in both if a != b]  # "A" then "B": the same program both times
    picks = sum(1 for a in consistent if a == "A")
    return {"n_pairs": len(both), "consistent": len(consistent),
            "rate": len(consistent) / len(both) if both else None, "picks_passing": picks,
            "picks_passing_rate": picks / len(consistent) if consistent else None,
            "eligible_tasks": len(eligible), **_failures(forward + backward)}


def _failures(outcomes: Sequence[JudgeOutcome]) -> dict[str, int]:
    return {"failures": sum(1 for outcome in outcomes if outcome.status == "failure")}


def calibrate(items: Sequence[JudgeItem], judge: LLMJudge, *, threshold: float = 0.5, repeats: int = 20,
              pairs: int = 20, seed: int = 0, progress: Any | None = None) -> dict[str, Any]:
    """The calibration summary of `items` (see the module docstring)."""
    if not 0 <= threshold <= 1:
        raise ValueError(f"--threshold must be in [0, 1], got {threshold}")
    if repeats < 0 or pairs < 0:
        raise ValueError("--repeats and --pairs must be >= 0")
    rng = random.Random(seed)
    first = _judge_in_chunks(judge, items, progress)
    scored = [(outcome.score, item.passed) for item, outcome in zip(items, first) if outcome.status == "scored"]
    return {
        "n_samples": len(items), "n_passed": sum(1 for item in items if item.passed),
        "seed": seed, "judge": {k: v for k, v in judge.config.to_json().items() if k not in ("enabled", "weight")},
        "outcomes": _tally(first),
        "agreement": verdict_agreement([s for s, _ in scored], [p for _, p in scored], threshold),
        "repeat_consistency": repeat_consistency(judge, items, first, repeats, rng),
        "order_consistency": order_consistency(judge, items, first, pairs, rng),
    }


def _figure(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def render_markdown(summary: dict[str, Any]) -> str:
    """A short Markdown section with every figure of `summary`."""
    outcomes, agreement = summary["outcomes"], summary["agreement"]
    repeat, order = summary["repeat_consistency"], summary["order_consistency"]
    judge = summary["judge"]
    reasons = ", ".join(f"{k} {v}" for k, v in {**outcomes["failure_reasons"], **outcomes["not_judged_reasons"]}.items())
    rows = [
        ("samples (passing)", f"{summary['n_samples']} ({summary['n_passed']})"),
        ("rated / judge failures / not shown", f"{outcomes['scored']} / {outcomes['failures']} / {outcomes['not_judged']}"),
        ("reasons", reasons or "none"),
        ("AUROC (score vs test verdict)", _figure(agreement["auroc"])),
        (f"Cohen's kappa (score >= {agreement['threshold']:g})", _figure(agreement["cohen_kappa"])),
        ("mean score: passing / failing",
         f"{_figure(agreement['mean_score_passed'])} / {_figure(agreement['mean_score_failed'])}"),
        ("repeat consistency", f"{_figure(repeat['rate'])} ({repeat['agree']}/{repeat['n']}, "
                               f"{repeat['failures']} failures)"),
        ("order consistency", f"{_figure(order['rate'])} ({order['consistent']}/{order['n_pairs']} pairs, "
                              f"{order['failures']} failures)"),
        ("consistent pairs naming the passing program", f"{_figure(order['picks_passing_rate'])} "
                                                         f"({order['picks_passing']}/{order['consistent']})"),
    ]
    lines = [f"# Judge calibration: {judge['model']}", "",
             f"Judge at {judge['base_url']}, output `{judge['output']}`, identifiers "
             f"{'renamed' if judge['rename_identifiers'] else 'kept'}, seed {summary['seed']}.", "",
             "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) + "\n"
