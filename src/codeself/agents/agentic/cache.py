"""`CachedExecutor`: the environment's result cache (one per run or server, shared by its environments).

Keyed by (task id, sha256 of the program): a repair start (already run while screening) and
identical resubmissions are not executed twice. Imported from `env` by its users.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

from codeself.datasets.task import Task


class CachedExecutor:
    """`run(task, program)` through an LRU of results keyed by (task id, sha256 of the program)."""

    def __init__(self, executor: Any, max_entries: int = 4096) -> None:
        self.executor, self.max_entries = executor, max_entries
        self.executions = 0  # programs actually run (misses)
        self._results: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def isolation(self) -> str:
        return self.executor.isolation

    def run(self, task: Task, program: str) -> Any:
        key = (task.task_id, hashlib.sha256(program.encode("utf-8")).hexdigest())
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        result = self.executor.run(task, program)
        with self._lock:
            self.executions += 1
            self._results[key] = result
            while len(self._results) > self.max_entries:
                self._results.popitem(last=False)
        return result
