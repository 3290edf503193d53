"""A timeout is re-run once under limits measured *now*, so verdicts do not depend on load.

Why: limits scaled from a reference's time (calibrated, perhaps from a cache filled on a
quiet machine) or fixed in seconds are wall-clock limits; on a loaded machine a correct
program waits for the CPU and runs out of them (2 of 399 correct MBPP+ references were
judged failing at load ~5 on 2 cores).

First line of defence, in the worker (supervise.py): the time a program waited for a CPU
is added to its deadlines as it runs, read from the kernel (`Reply.waited_s`, up to a
bound: `Reply.waits_capped`). A timeout so credited had its limits in time it ran or slept,
so the slowdown below would only scale them for the same waits: it counts at once (an
endless loop then costs its limit in CPU, loaded or not, instead of a second run under a
stretched limit). Where the kernel keeps no
such counter, or the limits come from a Python reference (its time now can differ for
other reasons than waiting: the machine itself), a timeout goes on as follows.

Before a timeout counts:

1. The limits are re-measured now: a Python task with a reference solution times that
   reference again (its limits scaled as calibration scales them); otherwise (task-given or
   default limits, other languages, a reference that fails now) the first limits are
   multiplied by the slowdown measured now - wall time over CPU time of a fixed CPU-bound
   program in the sandbox, which is 1 on an idle machine and grows as programs wait for a CPU.
   Either way a limit never drops below the first run's.
2. The program runs again under those limits when they are higher, or when the first run
   waited for a CPU not credited to it (`waited_for_cpu`: a transient load, gone by now).
   Otherwise (an endless loop that had a CPU to itself, a program sleeping without being preempted) the timeout
   stands at once, so timeouts cost no more than before on an idle machine.
3. The second run's verdict is the result, recording `extra["timeout_rerun"]`.

Measurements are shared for a few seconds (many samples of a task time out together under
load), through the same wait-for-one-measurement cache the calibration uses.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

from codeself.datasets.task import Task
from codeself.execution import runner
from codeself.execution.calibration import CalibrationCache
from codeself.execution.protocol import Reply, as_reply
from codeself.execution.result import ExecutionResult

STARVED_SHARE = 0.8  # a run with less CPU than this share of its wall time waited for a CPU
MAX_SLOWDOWN = 20.0  # the measured slowdown is capped (a limit x20 is already generous)
FRESH_S = 10.0  # a re-timed reference or slowdown is "now" for this long
LOAD_PROGRAM = """import time
def slowdown():
    wall, cpu = time.perf_counter(), time.process_time()
    n = 0
    while time.process_time() - cpu < 0.05:
        for i in range(2000):
            n += i
    return [time.perf_counter() - wall, time.process_time() - cpu]
"""


class TimeoutRerun:
    """An Executor's re-measurements after timeouts (thread-safe)."""

    def __init__(self, executor) -> None:
        self.executor = executor
        self._fresh = CalibrationCache(256)  # keys carry a FRESH_S time bucket

    def after_timeout(self, task: Task, program: str, first: ExecutionResult, used: runner.Timeouts, reply: Reply,
                      run: Callable[[Task, str, runner.Timeouts], tuple]) -> ExecutionResult:
        """The verdict of `first` (status timeout, run under `used`, the worker's `reply`), re-run
        once if warranted."""
        reply = as_reply(reply)
        credited = reply.waited_s > 0 and not reply.waits_capped  # its waits were added to its limits
        if credited and not _retimed(task, used):
            return first  # the slowdown would scale its limits for exactly those waits
        limits, measured_by = self.remeasured(task, used)
        starved = waited_for_cpu(reply) and not credited
        if not starved and not _raised(limits, used):
            return first
        second = run(task, program, limits)[0]
        record = {"first_status": first.status, "first_test_timeout_s": used.test_s,
                  "first_duration_s": round(first.duration_s, 4), "limits_from": measured_by,
                  "starved": starved}
        return dataclasses.replace(second, duration_s=first.duration_s + second.duration_s,
                                   cpu_time_s=first.cpu_time_s + second.cpu_time_s,
                                   extra={**second.extra, "timeout_rerun": record})

    def remeasured(self, task: Task, used: runner.Timeouts) -> tuple[runner.Timeouts, str]:
        """(Limits measured now, never below `used`; "reference" or "slowdown": how.)"""
        if _retimed(task, used):
            from codeself.execution.engine import _calibration_digest

            key = (task.task_id, f"{_calibration_digest(task)}@{_bucket()}")
            calibration = self._fresh.get_or_measure(key, lambda: self.executor._measure_reference(task))
            if calibration.tests_s is not None and len(calibration.tests_s) == len(used.tests_s):
                return _at_least(runner.scaled(calibration, self.executor.config, used.source), used), "reference"
        factor = self.slowdown()
        # the backstop grows too, up to the usual cap (or the first backstop, when that was above it)
        backstop = min(used.program_s * factor, max(used.program_s, self.executor.config.max_program_timeout_s))
        scaled = runner.Timeouts(tuple(limit * factor for limit in used.tests_s), used.import_s * factor,
                                 backstop, used.source, used.calibration_error, used.base_s * factor)
        return _at_least(scaled, used), "slowdown"

    def slowdown(self) -> float:
        """Wall over CPU time of LOAD_PROGRAM in the sandbox now: 1 when idle, up to MAX_SLOWDOWN."""
        def measure():
            outcome = self.executor.call_function(LOAD_PROGRAM, "slowdown", [[]], per_call_timeout_s=30.0)[0]
            if not outcome.ok:
                return 1.0
            wall, cpu = outcome.value
            return min(MAX_SLOWDOWN, max(1.0, wall / max(cpu, 1e-3)))

        return self._fresh.get_or_measure(("<slowdown>", str(_bucket())), measure)


def _retimed(task: Task, used: runner.Timeouts) -> bool:
    """Are the limits re-measured by timing the task's reference again (else: by the slowdown)?"""
    return getattr(task, "language", "python") == "python" and bool(task.reference_solution) and \
        used.source in ("calibrated", "reference_time")


def waited_for_cpu(reply: Reply | dict) -> bool:
    """Did the program wait for a CPU? It got less CPU time than STARVED_SHARE of its wall time
    in the worker (a sleeping or blocked program does too), and the kernel preempted it at
    least once (a sleeping program is almost never preempted; a busy one on a loaded machine
    is, every few milliseconds)."""
    reply = as_reply(reply)
    return reply.cpu_s < STARVED_SHARE * reply.run_s and reply.nivcsw >= 1


def _bucket() -> int:
    return int(time.monotonic() // FRESH_S)


def _at_least(new: runner.Timeouts, old: runner.Timeouts) -> runner.Timeouts:
    """Each limit of `new`, raised to `old`'s where lower."""
    return dataclasses.replace(new, tests_s=tuple(max(a, b) for a, b in zip(new.tests_s, old.tests_s)),
                               import_s=max(new.import_s, old.import_s), program_s=max(new.program_s, old.program_s),
                               base_s=max(new.base_s, old.base_s), source=old.source,
                               calibration_error=old.calibration_error)


def _raised(new: runner.Timeouts, old: runner.Timeouts) -> bool:
    """Some limit grew by more than measurement noise (5%)."""
    pairs = [*zip(new.tests_s, old.tests_s), (new.import_s, old.import_s), (new.program_s, old.program_s)]
    return any(a > 1.05 * b for a, b in pairs)
