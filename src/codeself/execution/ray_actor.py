"""The remote side of the Ray executor: one warm sandbox per Ray actor.

A `SandboxActor` owns a local `Executor` (its own worker interpreters, its own calibration
cache), so a program run through Ray is isolated exactly as a local run is: the actor is only
a process that holds the Executor and ships results back. This module imports no Ray: the
driver (`ray_pool`) wraps the class with `ray.remote` and Ray imports it on each node from the
`codeself` package it uploads with the job.

What crosses the wire: `Task` objects (dataclasses of builtin values) and program text in,
`ExecutionResult.to_json()` dicts out; the hostname is added by the driver from `describe()`.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from codeself.datasets.task import Task
from codeself.execution.engine import ExecutionConfig, Executor
from codeself.execution.runner import Timeouts


class SandboxActor:
    """Runs chunks of programs on its local Executor; thread-safe (Ray runs it threaded, so two
    chunks can share the workers and a heartbeat is answered while chunks run)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.executor = Executor(ExecutionConfig(**{**settings, "executor": "local", "ray_address": ""}))

    def describe(self) -> dict[str, Any]:
        """Where this sandbox runs: reported once at start-up, recorded in every result."""
        return {"host": socket.gethostname(), "pid": os.getpid(), "isolation": self.executor.isolation,
                "workers": self.executor.config.workers}

    def ping(self) -> bool:
        """Heartbeat: answers at once unless the actor's process is stuck."""
        return True

    def run_chunk(self, tasks: dict[str, Task], jobs: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Execute `(task_id, program)` jobs (tasks sent once per chunk); results in job order."""
        runs = ((tasks[task_id], program) for task_id, program in jobs)
        return [result.to_json() for result in self.executor.run_many(runs)]

    def timeouts(self, task: Task) -> Timeouts:
        """The task's limits on this actor (its reference timed now when needed, then cached by
        this actor's Executor): for warm-up and `RayExecutor.timeouts`."""
        return self.executor.timeouts(task)

    def call_function(self, program: str, entry_point: str, arg_lists: list[list], per_call_timeout_s: float,
                      setup_code: str) -> list:
        return self.executor.call_function(program, entry_point, arg_lists, per_call_timeout_s=per_call_timeout_s,
                                           setup_code=setup_code)

    def close(self) -> None:
        self.executor.close()
