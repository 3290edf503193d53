"""Self-check of a task file: does every reference pass, and does a do-nothing stub fail?

A task whose reference fails its own tests would score every correct model as wrong; a task
whose tests a `return None` stub passes cannot tell right from wrong. Both are dataset bugs
that silently bias every number computed on the file, so they are checked through the same
engine that produces the verdicts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from codeself.datasets.task import Task
from codeself.execution.engine import Executor


def none_stub(task: Task) -> str:
    """The reference with the entry point redefined to return None.

    Keeping the reference (rather than a bare stub) keeps the classes and helpers that
    `setup_code` may build on (MBPP 367, 927), so only the function under test changes.
    """
    return (f"{task.reference_solution}\n\n"
            f"def {task.entry_point}(*args, **kwargs):\n    return None\n")


@dataclass(frozen=True)
class TaskCheck:
    task_id: str
    reference_status: str  # ExecutionResult.status of the reference solution
    reference_message: str
    stub_status: str  # ExecutionResult.status of the `return None` stub
    tests_judged_in_process: int  # of the reference run

    @property
    def reference_ok(self) -> bool:
        return self.reference_status == "passed"

    @property
    def stub_ok(self) -> bool:
        return self.stub_status != "passed"

    def to_json(self) -> dict:
        return {"task_id": self.task_id, "reference_status": self.reference_status,
                "reference_message": self.reference_message, "stub_status": self.stub_status,
                "tests_judged_in_process": self.tests_judged_in_process}


def check_tasks(tasks: Iterable[Task], executor: Executor, *, stubs: bool = True) -> Iterator[TaskCheck]:
    """Yield one TaskCheck per task with a reference solution, in input order (streaming).

    run_many returns results in job order, so the ids queued by the job generator line up
    with the results as they come back.
    """
    queued_ids: deque[str] = deque()

    def jobs() -> Iterator[tuple[Task, str]]:
        for task in tasks:
            if task.reference_solution is None:
                continue
            queued_ids.append(task.task_id)
            yield task, task.reference_solution
            if stubs:
                yield task, none_stub(task)

    results = executor.run_many(jobs())
    for reference in results:
        stub = next(results) if stubs else None
        yield TaskCheck(
            task_id=queued_ids.popleft(),
            reference_status=reference.status, reference_message=reference.message,
            stub_status=stub.status if stub else "not_run",
            tests_judged_in_process=reference.tests_judged_in_process,
        )
