"""One reader for rollout and execution-result records, shared by evaluation and compare.

Both reports read the same files, so they refuse the same bad records with the same
messages: a record needs a string `task_id`, an `execution` object with a boolean `passed`
agreeing with a known `status`, and, when present, valid `public` / `hidden` counts, an
integer `sample_index` in [0, MAX_SAMPLE_INDEX), a string `split`, a known `parse_status` and a
finite `reward.reward`. Counts may be absent (training evaluations write only status and
passed, which is all a comparison needs); evaluation requires them (`require_counts`). A bad reward is an error, never silently dropped: a comparison of rewards
that quietly lost some would compare different samples.

Both also count each task's samples (n) and passes (c) the same way, with `SampleCount`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from codeself.parsing import PARSE_STATUSES
from codeself.execution.errors import category_of
from codeself.execution.result import STATUSES

MAX_SAMPLE_INDEX = 1_000_000


def _counts(value: Any, what: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"execution.{what} must be an object {{passed, total}}")
    passed, total = value.get("passed"), value.get("total")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (passed, total)) or not 0 <= passed <= total:
        raise ValueError(f"execution.{what} must hold integers 0 <= passed <= total, got {value}")
    return {"passed": passed, "total": total}


def _reward_value(record: dict[str, Any]) -> float | None:
    reward = record.get("reward")
    if reward is None:
        return None
    value = reward.get("reward") if isinstance(reward, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("reward.reward must be a finite number")
    return float(value)


def _reward_components(record: dict[str, Any]) -> dict[str, float]:
    """The numeric terms of the reward record (`reward.components`); other entries (an episode
    record's progress list, say) are not terms and are left out."""
    reward = record.get("reward")
    components = reward.get("components") if isinstance(reward, dict) else None
    if not isinstance(components, dict):
        return {}
    return {str(name): float(value) for name, value in components.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)}


def _sample_index(record: dict[str, Any]) -> int | None:
    index = record.get("sample_index")
    if index is None:
        return None
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < MAX_SAMPLE_INDEX:
        raise ValueError(f"sample_index must be an integer in [0, {MAX_SAMPLE_INDEX}), got {index!r}")
    return index


def _split(record: dict[str, Any]) -> str | None:
    """The record's split, or None when it has none (absent, null or "")."""
    split = record.get("split")
    if split is not None and not isinstance(split, str):
        raise ValueError(f"split must be a string or null, got {split!r}")
    return split or None


def _execution(record: dict[str, Any]) -> dict[str, Any]:
    execution = record.get("execution")
    if not isinstance(execution, dict):
        raise ValueError("missing 'execution' object (run the samples through execution first)")
    status, passed = execution.get("status"), execution.get("passed")
    if not isinstance(passed, bool):
        raise ValueError("record has no boolean execution.passed; give rollout or execution-result "
                         "files (scripts/execute_samples.py output)")
    if status not in STATUSES:
        raise ValueError(f"execution.status {status!r} is not one of {', '.join(STATUSES)}")
    if passed is not (status == "passed"):
        raise ValueError(f"execution.passed = {passed!r} contradicts execution.status = {status!r}")
    return execution


def record_language(record: dict[str, Any]) -> str:
    """The language of a record's task: its `language` (execution results and rollouts of
    non-Python tasks carry it; MultiPL-E's "rs" is rust), else its execution's
    `extra.language`, else python (records from before languages); ValueError if unknown."""
    from codeself.datasets.task_ids import sample_language

    execution = record.get("execution")
    extra = execution.get("extra") if isinstance(execution, dict) else None
    value = record.get("language", extra.get("language") if isinstance(extra, dict) else None)
    return sample_language(value) or "python"


def read_sample(record: dict[str, Any]) -> dict[str, Any]:
    """The checked fields of one rollout (or execution-result) record; ValueError if bad.
    `split` is None when the record has none (each report decides what that means)."""
    task_id = record.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("record has no string task_id")
    execution = _execution(record)
    parse_status = record.get("parse_status")
    if parse_status is not None and parse_status not in PARSE_STATUSES:
        raise ValueError(f"parse_status {parse_status!r} is not one of {', '.join(PARSE_STATUSES)}")
    in_process = execution.get("tests_judged_in_process", 0)
    if isinstance(in_process, bool) or not isinstance(in_process, int) or in_process < 0:
        raise ValueError("execution.tests_judged_in_process must be a non-negative integer")
    return {
        "task_id": task_id, "sample_index": _sample_index(record), "passed": execution["passed"],
        "split": _split(record), "status": execution["status"], "parse_status": parse_status,
        "error_category": category_of(execution),
        "public": _counts(execution.get("public"), "public"), "hidden": _counts(execution.get("hidden"), "hidden"),
        "isolation": str(execution.get("isolation") or "unknown"), "in_process": in_process,
        "reward": _reward_value(record), "reward_components": _reward_components(record),
        "language": record_language(record),
    }


def require_counts(sample: dict[str, Any]) -> dict[str, Any]:
    """`sample` (from read_sample) when it has public and hidden counts; ValueError if not."""
    for what in ("public", "hidden"):
        if sample[what] is None:
            raise ValueError(f"execution.{what} must be an object {{passed, total}}")
    return sample


@dataclass
class SampleCount:
    """One task's samples `n` and passing samples `c` (pass@k's n and c), counted one record at a time.

    `add` refuses a record that would make them wrong: its task seen before in another split,
    or its sample_index seen before (a resumed run written twice). A record without a
    sample_index takes the next index in file order: after samples 0 and 1 of a task, an
    index-less record of that task is sample 2.
    """

    task_id: str
    split: str | None
    n: int = 0  # samples
    c: int = 0  # samples with execution.passed
    seen: int = 0  # bit set of the sample indices counted; sample_index < MAX_SAMPLE_INDEX bounds it

    def add(self, sample: dict[str, Any]) -> int:
        """Count one `read_sample` result of this task; return its sample index."""
        if sample["split"] != self.split:
            raise ValueError(f"task {self.task_id} appears in two splits: {self.split} and {sample['split']}")
        index = self.n if sample["sample_index"] is None else sample["sample_index"]
        if self.seen >> index & 1:
            raise ValueError(f"task {self.task_id} sample_index {index} appears twice "
                             "(a resumed run written twice?); deduplicate the file first")
        self.seen |= 1 << index
        self.n += 1
        self.c += sample["passed"]
        return index
