"""One executor interface (`ExecutorAPI`) and `open_executor`, which picks the implementation.

Why a module of its own: the local engine (engine.Executor) and the Ray pool
(ray_pool.RayExecutor) are used interchangeably by every script, so what they share (this
interface, `CallOutcome`) lives where neither has to import the other. engine.py and ray_pool.py
both import this module; it imports them only inside `open_executor`, when one is asked for
(Ray is an optional extra).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codeself.execution.config import ExecutionConfig

if TYPE_CHECKING:
    from codeself.datasets.task import Task
    from codeself.execution.result import ExecutionResult
    from codeself.execution.runner import Timeouts


@dataclass(frozen=True)
class CallOutcome:
    """One call of `call_function`: its decoded return value, or why there is none."""

    ok: bool
    value: Any  # decoded return value (builtin types only) when ok
    error_type: str | None
    message: str
    duration_s: float


class ExecutorAPI(ABC):
    """What every executor offers. Thread-safe; a context manager (`close` on exit).

    `config` is the ExecutionConfig it runs under; `isolation` the sandbox level every verdict
    was made at (one level per executor)."""

    config: ExecutionConfig
    isolation: str

    @abstractmethod
    def run(self, task: "Task", program: str) -> "ExecutionResult":
        """Execute `program` against every test of `task`; blocking."""

    @abstractmethod
    def run_many(self, jobs: Iterable[tuple["Task", str]], *, window: int | None = None) -> Iterator["ExecutionResult"]:
        """Results in input order, streaming, at most `window` programs pulled ahead."""

    @abstractmethod
    def call_function(self, program: str, entry_point: str, arg_lists: list[list], *,
                      per_call_timeout_s: float, setup_code: str = "") -> list[CallOutcome]:
        """`entry_point(*args)` for each argument list, in the sandbox."""

    @abstractmethod
    def timeouts(self, task: "Task") -> "Timeouts":
        """The limits a run of `task` gets (docs/schemas.md, "Per-test timeout")."""

    @abstractmethod
    def close(self) -> None:
        """Stop every sandbox; idempotent."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_executor(config: ExecutionConfig | None = None) -> ExecutorAPI:
    """The executor `config.executor` names: the local engine (`engine.Executor`), or a pool of
    sandboxes on Ray actors (`ray_pool.RayExecutor`; needs the distributed extra)."""
    config = config or ExecutionConfig()
    if config.executor == "ray":
        from codeself.execution.ray_pool import RayExecutor

        return RayExecutor(config)
    from codeself.execution.engine import Executor

    return Executor(config)
