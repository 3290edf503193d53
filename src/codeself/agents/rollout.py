"""The rollout record: one generated, executed and scored sample (docs/schemas.md, "Rollouts").

Everything that varies between two runs of the same command — generation time, the
execution result's own timing fields, and the timeout limits measured by calibrating against
the reference solution (`execution.extra.test_timeout_s` / `program_timeout_s`), and the host
that ran the program under `--executor ray` (`execution.extra.host` / `ray_node`) — is kept
under `timing`, so two rollout files from the
same inputs and seed are byte-identical once `timing` is dropped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from codeself.execution.result import ExecutionResult

# ExecutionResult fields moved from `execution` into `timing` (as "execution_<name>").
_EXECUTION_TIMING = {"duration_s": "execution_s", "cpu_time_s": "execution_cpu_s",
                     "peak_rss_kb": "execution_peak_rss_kb"}
# Measured timeout limits, and where a Ray executor ran the program (docs/scaling.md), moved
# from `execution.extra` into `timing` under the same names; so is the record of a timeout re-run
# under re-measured limits (execution/rerun.py) and the waits for a CPU added to the limits
# (execution/supervise.py), which happen or not with the load.
_EXTRA_TIMING = ("test_timeout_s", "program_timeout_s", "host", "ray_node", "timeout_rerun",
                 "waited_for_cpu_s")


def rollout_id(task_id: str, sample_index: int, config_hash: str, seed: int) -> str:
    """Deterministic id: the same sample of the same configuration and seed has the same id."""
    key = json.dumps([task_id, sample_index, config_hash, seed], separators=(",", ":"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Rollout:
    rollout_id: str
    task_id: str
    sample_index: int
    split: str | None
    backend: str
    model: str
    template: str
    config_hash: str
    prompt: str | list[dict[str, str]]
    completion: str
    code: str | None
    parse_status: str
    execution: ExecutionResult
    reward: dict[str, Any]  # RewardRecord.to_json(): {"name", "reward", "components", "diagnostics"}
    seed: int
    metadata: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)  # generation_s, execution_s, ...
    language: str = "python"  # the task's; written only when not python (Python files stay byte-identical)

    def to_json(self) -> dict[str, Any]:
        execution = self.execution.to_json()
        timing = dict(self.timing)
        for name, timing_name in _EXECUTION_TIMING.items():
            timing[timing_name] = execution.pop(name)
        extra = execution["extra"] = dict(execution["extra"])
        for name in _EXTRA_TIMING:
            if name in extra:
                timing[name] = extra.pop(name)
        return {
            "rollout_id": self.rollout_id, "task_id": self.task_id,
            **({"language": self.language} if self.language != "python" else {}), "sample_index": self.sample_index,
            "split": self.split, "backend": self.backend, "model": self.model,
            "template": self.template, "config_hash": self.config_hash, "prompt": self.prompt,
            "completion": self.completion, "code": self.code, "parse_status": self.parse_status,
            "execution": execution, "reward": self.reward, "seed": self.seed,
            "metadata": self.metadata, "timing": timing,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "Rollout":
        missing = [name for name in ROLLOUT_FIELDS if name not in record]
        if missing:
            raise ValueError(f"not a rollout record: missing {', '.join(missing)}")
        timing = dict(record.get("timing") or {})
        execution = dict(record["execution"])
        for name, timing_name in _EXECUTION_TIMING.items():
            if timing_name in timing and name not in execution:
                execution[name] = timing.pop(timing_name)
        extra = execution["extra"] = dict(execution.get("extra") or {})
        for name in _EXTRA_TIMING:
            if name in timing:
                extra[name] = timing.pop(name)
        values = {name: record[name] for name in ROLLOUT_FIELDS}
        values["execution"] = ExecutionResult.from_json(execution)
        values["metadata"] = dict(record.get("metadata") or {})
        values["timing"] = timing
        values["language"] = record.get("language", "python")
        return cls(**values)

    def deterministic_json(self) -> dict[str, Any]:
        """The record without `timing`: equal across reruns of the same command and seed."""
        record = self.to_json()
        del record["timing"]
        return record


ROLLOUT_FIELDS = ("rollout_id", "task_id", "sample_index", "split", "backend", "model", "template",
                  "config_hash", "prompt", "completion", "code", "parse_status", "execution",
                  "reward", "seed")
