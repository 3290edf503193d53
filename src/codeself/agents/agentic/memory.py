"""The agent's memory of its best practice answers (`EnvConfig.memory`, off by default).

What is stored: after an episode whose task is in the **train** split and whose submission passed
every test, the submitted program — the model's own text — under the task id (`scope = "task"`)
or the task's family (`scope = "family"`: curriculum.task_category, e.g. `metadata.family`;
never a start's repair category, which spans families), if it beats the
entry there. Better = an efficiency score (ExecutionResult.efficiency, when measured) above the
entry's; a scored answer beats an unscored one; ties keep the older entry. Nothing else is
stored: no test, no feedback, no execution output, no hidden outcome beyond the pass verdict
that made the answer eligible (the same bit the reward carries). Episodes of any other split
(validation, test, test_heldout_families, none) are never stored, whatever they scored.

What is shown: at reset, when an entry exists for the episode's task (or family), a note with
the entry's program is appended to the first user message ("a program that passed every test
of practice task T"). A test-split task can be shown a train answer of its family: that is the
memory's purpose, and the entry came from train.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from codeself.agents.agentic.curriculum import task_category
from codeself.datasets.task import Task

MEMORY_SCOPES = ("off", "task", "family")
MEMORY_SPLIT = "train"  # the only split whose episodes are remembered


@dataclass(frozen=True)
class MemoryEntry:
    key: str  # task id or family
    task_id: str
    family: str
    score: float | None  # efficiency score of the answer; None: not measured
    code: str
    episode_id: str
    turn: int  # the turn that wrote the program

    def rank(self) -> tuple[bool, float]:
        return (self.score is not None, self.score if self.score is not None else 0.0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Memory:
    """Best passing train answers by key; thread-safe (a server's sessions share one)."""

    def __init__(self, scope: str) -> None:
        if scope not in MEMORY_SCOPES[1:]:
            raise ValueError(f"memory scope must be one of {', '.join(MEMORY_SCOPES[1:])}, got {scope!r}")
        self.scope = scope
        self._entries: dict[str, MemoryEntry] = {}
        self.counts: Counter = Counter()  # offered, stored, not_train, not_passed, not_better, shown
        self._lock = threading.Lock()

    def key(self, task: Task) -> str:
        return task.task_id if self.scope == "task" else task_category(task)

    def offer(self, task: Task, *, passed: bool, code: str | None, score: float | None,
              episode_id: str, turn: int) -> bool:
        """Consider a finished episode's submission; True when it was stored."""
        with self._lock:
            self.counts["offered"] += 1
            if task.split != MEMORY_SPLIT:
                self.counts["not_train"] += 1
                return False
            if not passed or code is None:
                self.counts["not_passed"] += 1
                return False
            entry = MemoryEntry(self.key(task), task.task_id, task_category(task), score, code, episode_id, turn)
            held = self._entries.get(entry.key)
            if held is not None and entry.rank() <= held.rank():
                self.counts["not_better"] += 1
                return False
            self._entries[entry.key] = entry
            self.counts["stored"] += 1
            return True

    def recall(self, task: Task) -> MemoryEntry | None:
        """The entry to show in an episode of `task` (counted as shown), if any."""
        with self._lock:
            entry = self._entries.get(self.key(task))
            self.counts["shown"] += entry is not None
            return entry

    def to_json(self) -> dict[str, Any]:
        """GET /memory."""
        with self._lock:
            return {"enabled": True, "scope": self.scope, "split": MEMORY_SPLIT,
                    "counts": {name: self.counts[name] for name in ("offered", "stored", "not_train", "not_passed",
                                                                     "not_better", "shown")},
                    "entries": [self._entries[key].to_json() for key in sorted(self._entries)]}


def memory_note(entry: MemoryEntry, scope: str) -> str:
    """The text appended to the first user message of an episode shown `entry`."""
    whose = ("this task, from an earlier practice episode" if scope == "task"
             else f"practice task {entry.task_id} of the same family ({entry.family})")
    score = "" if entry.score is None else f" (efficiency score {entry.score:.2f})"
    return (f"From your memory: a program that passed every test of {whose}{score}. "
            f"Reuse what helps.\n```python\n{entry.code.rstrip()}\n```")
