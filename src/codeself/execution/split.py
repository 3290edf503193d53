"""A dominating sample's tests split across idle workers (`Executor.run_many` only).

Why: a batch's wall time is at least max(its longest program, total CPU / workers). Starting
the longest first (schedule.py) lets the others overlap it, but one program longer than a
worker's even share of the batch still runs alone at the end: MBPP+'s Mbpp/599 is 35 s of
the 81 s of its references' CPU. Its tests, though, are independent calls, so they can run
in k parts, each a worker job that imports the program and answers only its own tests.

The rule (`part_count`): a Python sample whose expected time (its calibrated reference's
import + per-test times, the same figure that orders the starts) is over SPLIT_MIN_S and
over an even share of the work read so far, `max(SPLIT_MIN_S, read_total / workers)`
(`read_total`: the expected times of the samples this run_many has read, this one
included), runs in `min(workers, tests, ceil(expected / share))` parts. Parts hold
contiguous tests of about equal calibrated time (`part_bounds`); each is scheduled
longest-first like any sample. Not split: a single `run()`, one worker, other languages,
uncalibrated limits, efficiency runs (the measurement rides on the whole test job).

The merged result is the unsplit one (`merge`, then runner.build_result on the whole plan):
test order, counts and the status/phase/error rules are the same, because the parts'
answers are joined in test order up to the first part that did not finish (timeout, crash,
stop at first failure), whose outcome becomes the run's; the tests after it are `NotRun`
as in an unsplit run, even though later parts may have run them. A part never gets another
part's tests. A timeout is re-run once (rerun.py) unsplit. docs/schemas.md, "Split runs",
says which timing fields are summed.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from concurrent.futures import Future

from codeself.datasets.task import Task
from codeself.execution import runner
from codeself.execution.protocol import Job, Reply
from codeself.execution.result import ExecutionResult

SPLIT_MIN_S = 1.0  # a sample expected to take less is never split (each part re-imports the program)


def part_count(expected_s: float, read_total_s: float, workers: int, tests: int) -> int:
    """How many parts a sample runs in (1: not split), by the rule of the module docstring."""
    share = max(SPLIT_MIN_S, read_total_s / max(workers, 1))
    if workers < 2 or tests < 2 or expected_s <= share:
        return 1
    return min(workers, tests, math.ceil(expected_s / share))


def part_bounds(tests_s: tuple[float, ...], parts: int) -> list[tuple[int, int]]:
    """`parts` contiguous, non-empty ranges of test positions, each about total / parts of the
    calibrated time (cut where the running sum first reaches the next multiple)."""
    total, cuts, running = sum(tests_s), [], 0.0
    for position, seconds in enumerate(tests_s[:-1]):
        running += seconds
        left = len(tests_s) - position - 1  # tests after this one
        due = len(cuts) + 1  # the cut being placed
        if due < parts and (running >= due * total / parts or left <= parts - due):
            cuts.append(position + 1)
    edges = [0, *cuts, len(tests_s)]
    return list(zip(edges, edges[1:]))


def part_job(job: Job, start: int, stop: int, tests_s: tuple[float, ...]) -> Job:
    """The whole run's job cut to the steps of tests [start, stop): same program, import and
    whole-program limits, so each test runs exactly as in the unsplit run."""
    part = tests_s[start:stop]
    return dataclasses.replace(job, steps=job.steps[start:stop], step_timeouts_s=(*part, max(part)))


def merge(replies: list[Reply], bounds: list[tuple[int, int]], output_cap: int) -> Reply:
    """One reply as if a single child had run every part: the first part's import answer,
    then each part's test answers in order, up to the first part that did not finish, whose
    outcome (and signal, exit code, detail) is the merged one. A later part whose import did
    not answer as the first's did is a `malformed` stop (a program that imports differently
    each time). CPU time, worker time (`run_s`, which rerun.py compares with the CPU time),
    preemptions and waits added to deadlines are summed (a part stopped at the waits' bound
    marks the whole); `duration_s` is the longest part's, peak memory the largest; output
    tails are joined in part order."""
    first = replies[0]
    answers, durations = list(first.answers[:1]), list(first.durations[:1])
    stop = None
    for index, (reply, (start, end)) in enumerate(zip(replies, bounds)):
        if index and not _imported(reply.answers):
            if reply.outcome == "done":
                reply = dataclasses.replace(reply, outcome="malformed",
                                            detail=f"part {index + 1} of a split run did not import the program")
            stop = reply
            break
        if not _imported(answers):
            stop = reply  # the import failed (or never answered): the run ends there
            break
        answers += reply.answers[1:]
        durations += reply.durations[1:]
        if reply.outcome != "done" or len(reply.answers) - 1 < end - start:
            stop = reply
            break
    last = stop or replies[-1]
    return Reply(outcome=last.outcome if stop is not None else "done", detail=last.detail,
                 answers=tuple(answers), durations=tuple(durations), exit_code=last.exit_code, signal=last.signal,
                 stdout="".join(reply.stdout for reply in replies)[-output_cap:],
                 stderr="".join(reply.stderr for reply in replies)[-output_cap:],
                 duration_s=max(reply.duration_s for reply in replies), run_s=sum(reply.run_s for reply in replies),
                 cpu_s=sum(reply.cpu_s for reply in replies), peak_rss_kb=max(reply.peak_rss_kb for reply in replies),
                 nivcsw=sum(reply.nivcsw for reply in replies), waited_s=sum(reply.waited_s for reply in replies),
                 waits_capped=any(reply.waits_capped for reply in replies),
                 isolation=first.isolation)


def _imported(answers) -> bool:
    """Did the program import (an ok import answer first)?"""
    return bool(answers) and runner.parse_answer(answers[0]).get("ok") is True


def submit(executor, starts, task: Task, program: str, timeouts: runner.Timeouts, expected_s: float,
           read_total_s: float) -> Future | None:
    """The Future of the sample's merged result when the rule splits it; None otherwise (the
    caller schedules it whole)."""
    config = executor.config
    tests = len(task.public_tests) + len(task.hidden_tests)
    parts = part_count(expected_s, read_total_s, config.workers, tests)
    if (not config.split_tests or getattr(task, "language", "python") != "python" or expected_s <= 0
            or executor._efficiency is not None or parts < 2):
        return None
    calibration = executor._calibration(task)
    if calibration.tests_s is None or len(calibration.tests_s) != tests:
        return None
    early, code = runner.check_program(task, program, config, executor.isolation)
    if early is not None:
        done: Future = Future()
        done.set_result(early)
        return done
    bounds = part_bounds(calibration.tests_s, parts)
    split = SplitRun(executor, runner.plan_run(task, program, config, timeouts, code), program, bounds)
    for index, (start, stop) in enumerate(bounds):
        starts.submit_call(calibration.import_s + sum(calibration.tests_s[start:stop]), split.run_part, index)
    return split.future


class SplitRun:
    """One split sample: its parts' replies, merged by whichever part finishes last."""

    def __init__(self, executor, plan: runner.Plan, program: str, bounds: list[tuple[int, int]]) -> None:
        self.executor, self.plan, self.program, self.bounds = executor, plan, program, bounds
        self.future: Future = Future()
        self.replies: list[Reply | None] = [None] * len(bounds)
        self._left, self._lock = len(bounds), threading.Lock()

    def run_part(self, index: int) -> None:
        """Run part `index` (a pool thread); the last part to finish sets the merged result."""
        try:
            reply = self._run(*self.bounds[index])
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the Future
            with self._lock:
                if not self.future.done():
                    self.future.set_exception(error)
            return
        with self._lock:
            self.replies[index] = reply
            self._left -= 1
            last = self._left == 0 and not self.future.done()
        if last:
            try:
                self.future.set_result(self._finish())
            except BaseException as error:  # noqa: BLE001 - as above
                self.future.set_exception(error)

    def _run(self, start: int, stop: int) -> Reply:
        plan, config = self.plan, self.executor.config
        job, watch = part_job(plan.job, start, stop, plan.timeouts.tests_s), None
        if config.stop_at_first_failure:
            job = job.streaming()
            watch, _ = runner.first_failure_watch(dataclasses.replace(plan, tests=plan.tests[start:stop], job=job))
        began = time.monotonic()
        return self.executor._dispatch(job, watch).timed(time.monotonic() - began)

    def _finish(self) -> ExecutionResult:
        merged = merge(self.replies, self.bounds, self.executor.config.max_output_bytes)
        result = runner.build_result(self.plan, merged)
        if result.status == "timeout" and self.executor.config.rerun_timeouts:
            # re-measured limits, then the whole program again, unsplit (rare; its verdict is the reference)
            return self.executor._rerun.after_timeout(self.plan.task, self.program, result, self.plan.timeouts,
                                                      merged, self.executor._run_python)
        return result
