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
from codeself.execution import codec, meter
from codeself.execution.calibration import CalibrationCache, CalibrationStore
from codeself.execution.efficiency import (
    Costs, ScaleInput, charged_code, compare, held_measurement, measure_job, encoded_arguments, read_costs,
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


class Efficiency:
    """One Executor's efficiency state (thread-safe). `measurements` counts answers measured
    (cache misses); `references.runs` counts reference measurements."""

    ANSWERS_KEPT = 8192
    SCALES_KEPT = 8192  # tasks whose parsed scale inputs are kept (LRU)

    def __init__(self, executor: Any, size: int) -> None:
        self.executor = executor
        self.references = CalibrationCache(size)
        self.measurements = 0
        self._answers: OrderedDict[str, Costs] = OrderedDict()
        self._scales: OrderedDict[str, tuple[str, tuple[ScaleInput, ...], list]] = OrderedDict()
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
            inputs, encoded = self._scaled(task)
        except ValueError as error:
            return Pending(record=unavailable(str(error)[:300]))
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
        key = answer_key(task, charged)
        with self._lock:
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
        if cached is not None:
            return Pending(inputs=inputs, costs=cached, import_timeout_s=import_timeout_s)
        return Pending(inputs=inputs, key=key, import_timeout_s=import_timeout_s,
                       hold=held_measurement(task, charged, list(inputs), import_timeout_s, encoded))

    def _scaled(self, task: Task) -> tuple[tuple[ScaleInput, ...], list]:
        """The task's scale inputs and their encoded arguments, parsed once per task
        (parsing the literals cost about a millisecond a run): kept under the repr of the raw
        list, so an edited list is parsed again. A malformed list raises ValueError."""
        raw = repr((task.metadata or {}).get("scale_inputs"))
        with self._lock:
            entry = self._scales.get(task.task_id)
            if entry is not None and entry[0] == raw:
                self._scales.move_to_end(task.task_id)
                return entry[1], entry[2]
        inputs = tuple(scale_inputs(task))
        encoded = encoded_arguments(inputs)
        with self._lock:
            self._scales[task.task_id] = (raw, inputs, encoded)
            while len(self._scales) > self.SCALES_KEPT:
                self._scales.popitem(last=False)
        return inputs, encoded

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
            reference_key(task), lambda: self._measure_reference(task, list(pending.inputs), pending.import_timeout_s))
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
    (setup, entry point, scale inputs, cost model) and its tests, which run first in the child."""
    parts = [task.task_id, reference_key(task)[1], list(task.public_tests), list(task.hidden_tests),
             hashlib.sha256(charged).hexdigest()]
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
