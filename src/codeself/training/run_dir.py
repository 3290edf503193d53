"""The run directory every trainer writes (docs/schemas.md, "Training runs"), kept in one place.

The smoke trainers (`smoke`) and the TRL trainer (`trl_run`) differ in what a checkpoint is (a
JSON file of the smoke policy; a model directory plus TRL's resumable state under `trainer/`)
but share everything around it, defined here once:

- starting: a directory that already holds a run is refused unless `--resume` (same config
  hash, checked against `config.json`) or `--overwrite` (the run's own files and directories
  are removed first); `--resume` on a directory with no run starts one;
- `config.json`: the resolved config and its hash, the task file's sha256, and what a trainer
  adds (`config_document`);
- per-step records: `metrics.jsonl`, `rollouts.jsonl`, `validation.jsonl` are appended one step
  at a time and cut back to the resumed checkpoint's step on `--resume` (`truncate`), so the
  resumed run appends exactly what an uninterrupted run would have;
- checkpoint names (`checkpoints/step_NNNNNN[.json]`) and the selection of the best one on the
  validation split (`best_checkpoint`: highest pass rate, ties to the earliest step), written to
  `best_checkpoint.json`;
- which groups were informative (`informative_groups`, `InformativeTally`): the
  `frac_reward_zero_std` and `informative/*` metrics.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from codeself.jsonl import dumps_record, iter_jsonl, sha256_file, write_json, write_jsonl

RECORD_FILES = ("metrics.jsonl", "rollouts.jsonl", "validation.jsonl")  # one or more records per step, with `step`
RUN_FILES = ("config.json", *RECORD_FILES, "best_checkpoint.json", "summary.md", "task_sampler.json")
RUN_DIRS = ("checkpoints", "trainer")  # model checkpoints; TRL's resumable trainer state


def checkpoint_name(step: int, suffix: str = "") -> str:
    """`step_000015` (TRL model directories) or `step_000015.json` (smoke policies)."""
    return f"step_{step:06d}{suffix}"


def best_checkpoint(validations: Sequence[tuple[int, float]]) -> tuple[int, float] | None:
    """(step, pass rate) with the highest validation pass rate; ties -> the earliest step.

    >>> best_checkpoint([(15, 0.2), (30, 0.4), (45, 0.4)])
    (30, 0.4)
    """
    best = None
    for step, rate in sorted(validations):
        if best is None or rate > best[1]:
            best = (step, rate)
    return best


def config_document(config: Any, **extra: Any) -> dict[str, Any]:
    """What `config.json` holds: the resolved config, its hash, the task file's sha256, then `extra`."""
    return {"algorithm": config.algorithm, "config": config.to_json(), "config_hash": config.config_hash(),
            "tasks_sha256": sha256_file(config.tasks), **extra}


class RunDirectory:
    """One run's output directory (module docstring)."""

    def __init__(self, out: str | Path, config_hash: str) -> None:
        self.out, self.config_hash = Path(out), config_hash

    def holds_run(self) -> bool:
        return (self.out / "config.json").exists() or (self.out / "metrics.jsonl").exists()

    def start(self, *, resume: bool, overwrite: bool) -> bool:
        """Prepare the directory; True when an existing run is to be resumed (its config checked)."""
        if resume and overwrite:
            raise ValueError("--resume and --overwrite contradict each other; choose one")
        if resume and self.holds_run():
            self.check_config()
            return True
        if self.holds_run() and not overwrite:
            raise ValueError(f"{self.out} already holds a training run; use --resume to continue it "
                             "or --overwrite to replace it")
        self.clear()
        (self.out / "checkpoints").mkdir(parents=True, exist_ok=True)
        for name in RECORD_FILES:
            (self.out / name).write_text("", encoding="utf-8")
        return False

    def check_config(self) -> None:
        """Refuse to resume a run made with another config (its checkpoints would not match)."""
        path = self.out / "config.json"
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))["config_hash"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}: cannot resume: not a training run's config ({error})") from None
        if previous != self.config_hash:
            raise ValueError(f"{self.out}: its checkpoints come from another config (hash {previous}, this one "
                             f"{self.config_hash}); resume with the same config or choose another --output-dir")

    def clear(self) -> None:
        """--overwrite: remove a previous run's files (only the names a run writes)."""
        for name in RUN_FILES:
            (self.out / name).unlink(missing_ok=True)
        for name in RUN_DIRS:
            shutil.rmtree(self.out / name, ignore_errors=True)

    def write_config(self, document: dict[str, Any]) -> None:
        write_json(self.out / "config.json", document)

    def append(self, name: str, records: Iterable[dict[str, Any]]) -> None:
        """Add one step's records to a record file."""
        with open(self.out / name, "a", encoding="utf-8") as handle:
            handle.writelines(dumps_record(record) + "\n" for record in records)

    def truncate(self, step: int) -> list[dict[str, Any]]:
        """Cut every record file back to steps <= `step` (the checkpoint resumed from); the
        metrics records kept, from which a trainer restores its counters."""
        kept_metrics: list[dict[str, Any]] = []
        for name in RECORD_FILES:
            path = self.out / name
            kept = [r for r in iter_jsonl(path) if r["step"] <= step] if path.exists() else []
            write_jsonl(path, kept)
            if name == "metrics.jsonl":
                kept_metrics = kept
        return kept_metrics

    def write_best(self, validations: Sequence[tuple[int, float]], suffix: str = "",
                   **extra: Any) -> dict[str, Any] | None:
        """`best_checkpoint.json` for the best of `validations` (and `extra` keys); its document."""
        best = best_checkpoint(validations)
        if best is None:
            return None
        document = {"step": best[0], "path": f"checkpoints/{checkpoint_name(best[0], suffix)}",
                    "validation/pass_rate": best[1], **extra}
        write_json(self.out / "best_checkpoint.json", document)
        return document


def informative_groups(task_ids: Sequence[str], rewards: Sequence[float]) -> tuple[list[str], int]:
    """(tasks whose completions got different rewards, sorted; number of groups), one group per task."""
    by_task: dict[str, set[float]] = {}
    for task_id, reward in zip(task_ids, rewards):
        by_task.setdefault(task_id, set()).add(reward)
    return sorted(task_id for task_id, values in by_task.items() if len(values) > 1), len(by_task)


class InformativeTally:
    """Which train tasks were ever informative: the step's `frac_reward_zero_std` and `informative/*`."""

    def __init__(self, train_task_ids: Iterable[str], ever: Iterable[str] = ()) -> None:
        self.train_task_ids, self.ever = set(train_task_ids), set(ever)

    def step(self, task_ids: Sequence[str], rewards: Sequence[float]) -> dict[str, Any]:
        informative, groups = informative_groups(task_ids, rewards)
        self.ever.update(informative)
        return {"frac_reward_zero_std": (groups - len(informative)) / groups if groups else None,
                "informative/tasks": informative,
                "informative/frac_tasks": len(informative) / groups if groups else None,
                "informative/never_count": len(self.train_task_ids - self.ever)}
