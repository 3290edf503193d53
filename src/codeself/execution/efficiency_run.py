"""Efficiency in the Executor: planned with each run, measured in the child that ran the tests.

Why: measured in a child of its own, a passing answer cost a second fork, sandbox set-up and
import, which made the environment's step latency several times that of tests-only grading.
So the measurement rides on the test job instead (`plan`): the job holds the measurement
steps (efficiency.held_measurement), the worker sends them to the same child once every test
is answered (supervise.py), and that child imports the answer again, rewritten for builtin
charges, in a fresh namespace and calls it under the meter at each size. The worker does not
wait for a verdict (a round trip to the parent costs more than most measurements); the
parent, which alone judges the answers (streamed to it), sends "stop" when a test failed,
and only a passing answer's measurement is ever read. What the program prints after its
last test is not kept.

Two caches make repeated work free: answers' costs by what they depend on (the rewritten
code, which comments and blank lines do not change, the task's tests, setup, entry point and
scale inputs, the cost model), so a resubmitted or recommented program is not measured
again; and references' costs per task (`efficiency.reference_key`, measured in a child of
their own once), kept on disk in the Executor's `calibration_cache` file when it has one.
The count is deterministic, so a cached cost is the cost a new measurement would give.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from codeself.datasets.task import Task
import codeself.execution.efficiency as efficiency_module
from codeself.execution import codec, meter
from codeself.execution.calibration import CalibrationCache, CalibrationStore
from codeself.execution.charged import charged_code
from codeself.execution.efficiency import (
    Costs, ScaleInput, compare, held_measurement, measure_job, measured_arguments, read_costs,
    reference_key, risky_name, scale_inputs, unavailable)


@dataclass(frozen=True)
class Pending:
    """What `plan` decided for one run: a final record, a cached cost, or a held measurement."""

    record: dict | None = None  # no measurement needed (unavailable, refused, not rewritable)
    inputs: tuple[ScaleInput, ...] = ()
    costs: Costs | None = None  # the answer's cached cost
    hold: dict | None = None  # the job's "measure": steps sent after the tests if they all pass
    key: str = ""  # the answer's cache key
    import_timeout_s: float = 0.0
    reference: tuple[str, str] = ("", "")  # efficiency.reference_key(task)


@dataclass(frozen=True)
class TaskPart:
    """What every measurement of one task needs, worked out once per task (`Efficiency._task`):
    its parsed scale inputs, the arguments of their measured calls, its reference key, the digest of
    what an answer's cost depends on besides the answer (answer_key)."""

    signature: tuple  # the task fields these depend on, as seen when they were worked out
    inputs: tuple[ScaleInput, ...]
    arguments: list
    reference: tuple[str, str]
    digest: str


class Efficiency:
    """One Executor's efficiency state (thread-safe). `measurements` counts answers measured
    (cache misses); `references.runs` counts reference measurements."""

    ANSWERS_KEPT = 8192
    SCALES_KEPT = 8192  # tasks whose TaskPart is kept (LRU)

    def __init__(self, executor: Any, size: int) -> None:
        self.executor = executor
        self.references = CalibrationCache(size)
        self.measurements = 0
        self._answers: OrderedDict[str, Costs] = OrderedDict()
        self._tasks: OrderedDict[str, TaskPart] = OrderedDict()
        self._lock = threading.Lock()

    def use_store(self, store: CalibrationStore | None) -> None:
        """Keep references' costs in the calibration cache file too."""
        self.references.store = CostStore(store) if store is not None else None

    def plan(self, task: Task, program: str, code: bytes, import_timeout_s: float, tests: int) -> Pending | None:
        """Before the run: what a passing result's `efficiency` will need; None when the run
        cannot pass (no tests)."""
        if not tests:
            return None
        try:
            part = self._task(task)
        except ValueError as error:
            return Pending(record=unavailable(str(error)[:300]))
        inputs = part.inputs
        if not inputs:
            return Pending(record=unavailable("the task has no metadata.scale_inputs"))
        if not task.entry_point:
            return Pending(record=unavailable("the task has no entry point to call"))
        risky = risky_name(code) or (meter.HELPER_PREFIX if meter.HELPER_PREFIX in program else None)
        if risky is not None:
            return Pending(record=unavailable(f"not measured: the program uses {risky!r}, which could reach the "
                                              "meter", "refused"))
        charged = charged_code(program)
        if not charged:
            return Pending(record=unavailable("the program could not be rewritten for builtin charges", "failed"))
        key = f"{part.digest}:{hashlib.sha256(charged).hexdigest()}"  # answer_key(task, charged)
        with self._lock:
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
        if cached is not None:
            return Pending(inputs=inputs, costs=cached, import_timeout_s=import_timeout_s, reference=part.reference)
        return Pending(inputs=inputs, key=key, import_timeout_s=import_timeout_s, reference=part.reference,
                       hold=held_measurement(task, charged, list(inputs), import_timeout_s, part.arguments))

    def _task(self, task: Task) -> TaskPart:
        """The task's TaskPart, worked out once per task (parsing the scale literals cost about a
        millisecond a run, the two keys' JSON and hashes some 40 us a step): kept under the
        task fields it depends on, so an edited task is worked out again. A malformed
        scale-input list raises ValueError."""
        signature = (repr((task.metadata or {}).get("scale_inputs")), task.reference_solution, task.setup_code,
                     task.entry_point, tuple(task.public_tests), tuple(task.hidden_tests),
                     efficiency_module.COST_MODEL, efficiency_module.MAX_INSTRUCTIONS)  # reference_key reads both
        with self._lock:
            part = self._tasks.get(task.task_id)
            if part is not None and part.signature == signature:
                self._tasks.move_to_end(task.task_id)
                return part
        inputs = tuple(scale_inputs(task))
        reference = reference_key(task)
        part = TaskPart(signature, inputs, measured_arguments(inputs), reference, task_digest(task, reference[1]))
        with self._lock:
            self._tasks[task.task_id] = part
            while len(self._tasks) > self.SCALES_KEPT:
                self._tasks.popitem(last=False)
        return part

    def finish(self, task: Task, pending: Pending | None, measured: dict | None, result: Any) -> Any:
        """`result` (passing) with its `efficiency` record; `measured`: the reply's measurement
        part (supervise.py), None when the held steps were not sent."""
        if pending is None:
            return result
        if pending.record is not None:
            return dataclasses.replace(result, efficiency=pending.record)
        costs = pending.costs
        if costs is None:
            if measured is None:
                reason = "not measured: the run ended before its measurement"
                return dataclasses.replace(result, efficiency=unavailable(reason))
            costs = read_costs(measured, len(pending.inputs))
            with self._lock:
                self.measurements += 1
                if measured.get("outcome") == "done":  # complete: a timeout or a death may be the machine's
                    self._answers[pending.key] = costs
                    while len(self._answers) > self.ANSWERS_KEPT:
                        self._answers.popitem(last=False)
        reference = self.references.get_or_measure(
            pending.reference, lambda: self._measure_reference(task, list(pending.inputs), pending.import_timeout_s))
        atol = float((task.metadata or {}).get("atol") or 0.0)
        return dataclasses.replace(result, efficiency=compare(reference, costs, list(pending.inputs), atol))

    def _measure_reference(self, task: Task, inputs: list[ScaleInput], import_timeout_s: float) -> Costs:
        """In a child of its own (no tests to run first), once per task."""
        if not task.reference_solution:
            return Costs("failed", reason="the task has no reference solution")
        charged = charged_code(task.reference_solution)
        if not charged:
            return Costs("failed", reason="the reference does not compile")
        job = measure_job(task, task.reference_solution, charged, inputs, import_timeout_s)
        return read_costs(self.executor._dispatch(job).to_wire(), len(inputs))


def answer_key(task: Task, charged: bytes) -> str:
    """What an answer's measured cost depends on: its rewritten code, the task's reference key
    (setup, entry point, scale inputs, cost model) and its tests, which run first in the child
    (`plan` builds the same key from the task's cached digest)."""
    return f"{task_digest(task, reference_key(task)[1])}:{hashlib.sha256(charged).hexdigest()}"


def task_digest(task: Task, reference_digest: str) -> str:
    """The task's part of answer_key: its id, reference key digest and tests."""
    parts = [task.task_id, reference_digest, list(task.public_tests), list(task.hidden_tests)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=True).encode()).hexdigest()


class CostStore:
    """References' costs in a calibration cache file (calibration.py: "efficiency:" entries);
    only complete measurements are kept, as for calibrations."""

    PREFIX = "efficiency:"

    def __init__(self, store: CalibrationStore) -> None:
        self.store = store

    def get(self, task_id: str, digest: str) -> Costs | None:
        entry = self.store.get_entry(self.PREFIX + task_id, digest)
        if entry is None or "instructions" not in entry:
            return None
        try:
            values = tuple(codec.decode(value) for value in entry["values"])
        except (codec.MalformedValue, ValueError, TypeError, RecursionError):
            return None  # measured again
        return Costs("ok", tuple(entry["instructions"]), values)

    def put(self, task_id: str, digest: str, costs: Costs) -> None:
        if costs.status != "ok":
            return
        try:
            values = [codec.encode(value) for value in costs.values]
        except (ValueError, TypeError, RecursionError):
            return
        self.store.put_entry(self.PREFIX + task_id, digest,
                             {"instructions": list(costs.instructions), "values": values})
