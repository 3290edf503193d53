"""The task runner's two parent-side halves: plan a job, and turn a worker's reply into a verdict.

Phases: syntax -> static scan -> import (candidate + setup_code) -> public tests -> hidden
tests. The plan splits every test with `assertions.split_test`, so only candidate-side
probes (and, for unsplittable tests, the whole snippet, counted as judged in-process) go to
the worker; the judges, which hold the expected values, stay here. A test passes only when
this process judged it passed: a missing, malformed or unexpected answer is a failure.
Wall-clock limits come from `timeouts_for`: the task's own, else scaled from the reference
solution's measured time (EvalPlus style), else the configured default.
"""

from __future__ import annotations

import json
import math
import signal
from dataclasses import dataclass
from typing import Any

from codeself.datasets.task import Task
from codeself.execution import codec, programs
from codeself.execution.assertions import SplitTest, split_test
from codeself.execution.config import ExecutionConfig
from codeself.execution.protocol import Job, Reply, as_reply
from codeself.execution.result import ExecutionResult, TestOutcome

MAX_MESSAGE = 300
# every value `Timeouts.source` takes; "calibration" is the generous limit of a reference run
# being timed (never reported in a result: calibration runs return a Calibration, not a verdict)
TIMEOUT_SOURCES = ("task", "reference_time", "calibrated", "default", "default (reference failed calibration)",
                   "calibration")


@dataclass(frozen=True)
class Timeouts:
    """The wall-clock limits of one run and where they came from (docs: "Per-test timeout")."""

    tests_s: tuple[float, ...]  # one per test, public then hidden
    import_s: float  # running the program and setup_code
    program_s: float  # whole-program backstop
    source: str  # one of TIMEOUT_SOURCES
    calibration_error: str = ""  # why the reference failed calibration, when it did
    base_s: float = 0.0  # the per-test limit reported for a task without tests

    @property
    def test_s(self) -> float:
        """The largest per-test limit (what `extra["test_timeout_s"]` reports)."""
        return max(self.tests_s, default=self.base_s)

    def extra(self, waited_s: float = 0.0) -> dict:
        """The limits a result records, and `waited_for_cpu_s` when the worker added waits for
        a CPU (`waited_s`, supervise.py) to them."""
        record = {"timeout_source": self.source, "test_timeout_s": self.test_s,
                  "program_timeout_s": self.program_s}
        if self.calibration_error:
            record["calibration_error"] = self.calibration_error
        if waited_s > 0:
            record["waited_for_cpu_s"] = round(waited_s, 4)
        return record


@dataclass(frozen=True)
class Calibration:
    """What one run of a task's reference solution measured: seconds per phase, or why not."""

    import_s: float = 0.0
    tests_s: tuple[float, ...] | None = None  # one per test, public then hidden; None = failed
    error: str = ""  # why the reference run cannot be used (status and error type)


@dataclass(frozen=True)
class Plan:
    """Everything the parent keeps about one run; `job` is all the worker gets."""

    task: Task
    tests: tuple[tuple[str, int, SplitTest], ...]  # (kind, index, split)
    job: Job
    timeouts: Timeouts


def _metadata_seconds(task: Task, key: str, allow_zero: bool) -> float | None:
    """A finite, positive (or zero, when allowed) number of seconds from task.metadata."""
    value = (task.metadata or {}).get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        if value > 0 or (value == 0 and allow_zero):
            return float(value)
    return None


def needs_calibration(task: Task) -> bool:
    """True when only a run of the reference can tell this task's timeouts."""
    has_tests = bool(task.public_tests or task.hidden_tests)
    return (has_tests and bool(task.reference_solution) and _metadata_seconds(task, "timeout_s", False) is None
            and _metadata_seconds(task, "reference_time_s", True) is None)


def test_timeout(task: Task, config: ExecutionConfig) -> float:
    """Per-test timeout without calibration: the task's own, else factor x reference time
    (floored), else the config default."""
    return timeouts_for(task, config).test_s


def timeouts_for(task: Task, config: ExecutionConfig, calibration: Calibration | None = None) -> Timeouts:
    """The rule of docs/schemas.md, "Per-test timeout", first match wins:
    metadata timeout_s, metadata reference_time_s, a successful calibration, the default."""
    count = len(task.public_tests) + len(task.hidden_tests)
    explicit = _metadata_seconds(task, "timeout_s", False)
    if explicit is not None:
        return Timeouts((explicit,) * count, explicit, _backstop(config, explicit, (explicit,) * count),
                        "task", base_s=explicit)
    reference = _metadata_seconds(task, "reference_time_s", True)
    if reference is not None:
        return _scaled((reference,) * count, 0.0, config, "reference_time")
    if calibration is not None and calibration.tests_s is not None and len(calibration.tests_s) == count:
        return _scaled(calibration.tests_s, calibration.import_s, config, "calibrated")
    failed = calibration is not None
    tests = (config.timeout_s,) * count
    return Timeouts(tests, config.timeout_s, _backstop(config, config.timeout_s, tests),
                    "default (reference failed calibration)" if failed else "default",
                    calibration_error=(calibration.error or "unusable reference run") if failed else "",
                    base_s=config.timeout_s)


def scaled(calibration: Calibration, config: ExecutionConfig, source: str) -> Timeouts:
    """The limits a successful calibration gives, under the name `source` (rerun.py re-times a
    reference after a timeout and scales it as calibration does, whatever first set the limits)."""
    return _scaled(calibration.tests_s or (), calibration.import_s, config, source)


def _scaled(reference_s: tuple[float, ...], reference_import_s: float, config: ExecutionConfig, source: str) -> Timeouts:
    """EvalPlus-style limits from the reference's own times. Each test: max(floor, factor x
    its time). Import: never below the default (a candidate may import what the reference
    does not) nor the largest test limit (it may precompute at import). Backstop: raised to
    the sum of those limits, so it never decides a verdict below max_program_timeout_s."""
    floor, factor = config.timeout_floor_s, config.timeout_factor
    tests = tuple(max(floor, factor * seconds) for seconds in reference_s)
    base = max(floor, factor * max(reference_s, default=0.0))
    import_s = max(config.timeout_s, base, factor * reference_import_s)
    return Timeouts(tests, import_s, _backstop(config, import_s, tests), source, base_s=base)


def _backstop(config: ExecutionConfig, import_s: float, tests_s: tuple[float, ...]) -> float:
    """The whole-program limit: program_timeout_s, raised to cover the import and every test
    limit (capped at max_program_timeout_s), so a program that stays within each of its
    limits is never stopped by the backstop below that cap (e.g. 100 MBPP+ tests of 0.5 s)."""
    return max(config.program_timeout_s, min(config.max_program_timeout_s, import_s + sum(tests_s)))


def calibration_timeouts(task: Task, config: ExecutionConfig) -> Timeouts:
    """Generous limits for timing the reference: calibration_timeout_s per phase, the
    largest backstop allowed."""
    limit = config.calibration_timeout_s
    count = len(task.public_tests) + len(task.hidden_tests)
    return Timeouts((limit,) * count, limit, config.max_program_timeout_s, "calibration", base_s=limit)


def read_calibration(plan: Plan, reply: Reply | dict) -> Calibration:
    """Per-phase times of a reference run, or why it cannot calibrate anything. The worker
    reports one duration per answer (import first); without them every test is charged the
    whole run's time, which can only make limits more generous."""
    reply = as_reply(reply)
    result = build_result(plan, reply)
    if not result.passed:
        # status and error type only: the message could quote the reference's own output
        return Calibration(error=f"reference {result.status} ({result.error_type})")
    durations = reply.durations  # finite and >= 0 (protocol.Reply.from_wire), else empty
    if len(durations) == len(plan.tests) + 1:
        return Calibration(import_s=durations[0], tests_s=durations[1:])
    whole = reply.duration_s
    return Calibration(import_s=whole, tests_s=(whole,) * len(plan.tests))


def check_program(task: Task, program: str, config: ExecutionConfig, isolation: str) -> tuple[ExecutionResult | None, bytes]:
    """(The verdict when the program never needs to run: too big, syntax error, blocked; else
    None, and the program compiled here for the child to run: see `programs.check`.)"""
    counts = _counts(task, ())
    if len(program.encode("utf-8", errors="replace")) > config.max_program_bytes:
        return _result("syntax_error", "syntax", counts, isolation, error_type="ProgramTooLarge",
                       message=f"program exceeds {config.max_program_bytes} bytes"), b""
    checked = programs.check(program, config.static_scan)
    if checked.syntax_error is not None:
        error_type, message = checked.syntax_error
        return _result("syntax_error", "syntax", counts, isolation, error_type=error_type,
                       message=shorten(message)), b""
    if checked.blocked_reason is not None:
        reason = checked.blocked_reason
        return _result("blocked", "syntax", counts, isolation, error_type="Blocked",
                       message=shorten(reason), blocked_reason=reason), b""
    return None, checked.code


def plan_run(task: Task, program: str, config: ExecutionConfig, timeouts: Timeouts | None = None, code: bytes = b"") -> Plan:
    """The job for the worker; `code`: the program compiled by `check_program` (b"": the
    child compiles the text)."""
    tests = tuple((kind, index, split_test(snippet, task.entry_point))
                  for kind, snippets in (("public", task.public_tests), ("hidden", task.hidden_tests))
                  for index, snippet in enumerate(snippets))
    steps = tuple({"probes": list(split.probes)} if split.judge is not None else {"fallback": split.fallback}
                  for _, _, split in tests)
    timeouts = timeouts or timeouts_for(task, config)
    assert len(timeouts.tests_s) == len(steps), "one timeout per test"
    job = Job(program="" if code else program, code=code, setup=task.setup_code, entry_point=task.entry_point,
              steps=steps, step_timeouts_s=(*timeouts.tests_s, timeouts.test_s),
              import_timeout_s=timeouts.import_s, program_timeout_s=timeouts.program_s)
    return Plan(task=task, tests=tests, job=job, timeouts=timeouts)


def build_result(plan: Plan, reply: Reply | dict, judged: dict | None = None) -> ExecutionResult:
    """Judge every answered test in this process; everything else is a failure. `judged`:
    verdicts already reached for streamed answers (position -> (passed, error type,
    message), from `first_failure_watch`), valid only for the same answer text."""
    reply = as_reply(reply)
    isolation = reply.isolation
    answers = list(reply.answers)
    base = {"duration_s": reply.duration_s, "cpu_time_s": reply.cpu_s, "peak_rss_kb": reply.peak_rss_kb,
            "stdout_tail": reply.stdout, "stderr_tail": reply.stderr, "extra": plan.timeouts.extra(reply.waited_s)}
    counts = _counts(plan.task, ())
    if reply.outcome == "sandbox":
        return _result("sandbox_error", "import", counts, isolation, error_type="SandboxError",
                       message=shorten(reply.detail), **base)
    if not answers:
        status, error_type, message = stop_reason(reply)
        return _result(status, "import", counts, isolation, error_type=error_type,
                       message=f"while importing the program: {message}", **base)
    imported = parse_answer(answers[0])
    if "error" in imported or imported.get("ok") is not True:
        error = imported.get("error") or {"type": "MalformedAnswer", "message": "bad import answer"}
        status = "memory_error" if error.get("type") == "MemoryError" else "import_error"
        return _result(status, "import", counts, isolation, error_type=str(error.get("type"))[:80],
                       message=shorten(str(error.get("message", ""))), **base)
    outcomes = _judge_all(plan, answers[1:], reply, judged or {})
    counts = _counts(plan.task, outcomes)
    status, phase, error_type, message = _summarise(plan, outcomes, reply)
    return _result(status, phase, counts, isolation, tests=tuple(outcomes), error_type=error_type,
                   message=message, **base)


def _judge_all(plan: Plan, answers: list[str], reply: Reply, judged: dict) -> list[TestOutcome]:
    from codeself.execution.judge import judge_test

    atol, default_atol = _tolerances(plan)
    outcomes = []
    for position, (kind, index, split) in enumerate(plan.tests):
        hidden = kind == "hidden"
        earlier = judged.get(position + 1)
        if position < len(answers) and earlier is not None and earlier[0] == answers[position]:
            passed, error_type, message = earlier[1]
        elif position < len(answers):
            passed, error_type, message = _judge_one(split, parse_answer(answers[position]), hidden,
                                                     atol, default_atol, judge_test)
        elif reply.outcome == "stopped":
            passed, error_type, message = False, "NotRun", "not run: stopped at the first failed test"
        elif position == len(answers):
            _, error_type, message = stop_reason(reply)
            passed = False
        else:
            passed, error_type, message = False, "NotRun", "not run: an earlier test did not finish"
        outcomes.append(TestOutcome(kind=kind, index=index, passed=passed, error_type=error_type,
                                    message=shorten(message), judged_in_process=split.judge is None))
    return outcomes


def first_failure_watch(plan: Plan, stop: bool = True, decide: bool = False) -> tuple[Any, dict]:
    """For a streamed job: (a function of one streamed answer, judged as `build_result` judges
    it; the verdicts it reached, for `build_result(judged=...)`). The function returns True
    (send "stop") when `stop` (stop_at_first_failure) and that test failed; with `decide` (the
    job holds an efficiency measurement, which the worker starts after the last test) also at
    the last test's answer when some test failed, so that measurement stops. The import
    answer is left to the worker, which stops after a failed import by itself."""
    from codeself.execution.judge import judge_test

    atol, default_atol = _tolerances(plan)
    judged: dict[int, tuple[str, tuple]] = {}  # position -> (answer text, verdict)

    def watch(message: dict) -> bool | dict:
        position, text = message.get("progress"), message.get("answer")
        if not isinstance(position, int) or position < 1 or not isinstance(text, str):
            return False
        if position > len(plan.tests):
            return True
        kind, _, split = plan.tests[position - 1]
        verdict = _judge_one(split, parse_answer(text), kind == "hidden", atol, default_atol, judge_test)
        judged[position] = (text, verdict)
        if stop and not verdict[0]:
            return True
        if decide and position == len(plan.tests):
            return not all(judged.get(index, ("", (False,)))[1][0] for index in range(1, position + 1))
        return False

    return watch, judged


def _tolerances(plan: Plan) -> tuple[float, float]:
    """The task's float tolerances: (atol, default_float_atol)."""
    metadata = plan.task.metadata
    return float(metadata.get("atol") or 0.0), float(metadata.get("default_float_atol") or 0.0)


def _judge_one(split: SplitTest, answer: dict, hidden: bool, atol: float, default_atol: float,
               judge_test) -> tuple[bool, str | None, str]:
    if "error" in answer:
        error = answer["error"] if isinstance(answer["error"], dict) else {}
        error_type = str(error.get("type", "Exception"))[:80]
        if hidden:
            return False, error_type, f"hidden test raised {error_type}"
        return False, error_type, str(error.get("message", ""))
    if split.judge is None:
        if answer.get("ok") is True:
            return True, None, ""
        return False, "MalformedAnswer", "unexpected answer to an in-process test"
    values = answer.get("values")
    if not isinstance(values, list) or len(values) != len(split.probes):
        return False, "MalformedAnswer", "wrong number of values"
    try:
        decoded = [codec.decode(value) for value in values]
    except (codec.MalformedValue, ValueError, TypeError, RecursionError) as error:
        return False, "MalformedAnswer", shorten(str(error))
    return judge_test(split, decoded, atol=atol, hidden=hidden, default_float_atol=default_atol)


def _summarise(plan: Plan, outcomes: list[TestOutcome], reply: Reply | dict) -> tuple[str, str, str | None, str]:
    reply = as_reply(reply)
    answered = len(reply.answers) - 1
    finished = answered >= len(plan.tests) and reply.outcome == "done"
    if finished:
        phase = "done"
    else:
        phase = "public_tests" if plan.tests[answered][0] == "public" else "hidden_tests"
    if not plan.tests:
        return "failed", "done", "NoTests", "the task has no tests; nothing was verified"
    if reply.outcome == "stopped":  # stop_at_first_failure: report the failure that stopped it
        answered_failures = [(plan.tests[position][0], outcome) for position, outcome in enumerate(outcomes)
                             if not outcome.passed and outcome.error_type != "NotRun"]
        if answered_failures:
            kind, first = answered_failures[0]
            not_run = sum(outcome.error_type == "NotRun" for outcome in outcomes)
            return ("failed", f"{kind}_tests", first.error_type,
                    f"stopped at the first failed test ({not_run} of {len(outcomes)} tests not run)")
    if not finished:
        status, error_type, message = stop_reason(reply)
        return status, phase, error_type, message
    if any(outcome.error_type == "MemoryError" for outcome in outcomes):
        return "memory_error", phase, "MemoryError", "a test ran out of memory"
    failed = [outcome for outcome in outcomes if not outcome.passed]
    if failed:
        first = failed[0]
        return "failed", phase, first.error_type, f"{len(failed)} of {len(outcomes)} tests failed"
    return "passed", phase, None, ""


def stop_reason(reply: Reply | dict) -> tuple[str, str, str]:
    """Status, error type and message for a run that stopped before its last answer (`reply`:
    a dict from code that still reads the wire form, languages/program.py)."""
    reply = as_reply(reply)
    outcome = reply.outcome
    if outcome == "sandbox":
        return "sandbox_error", "SandboxError", shorten(reply.detail or "the sandbox failed")
    if outcome == "timeout":
        return "timeout", "Timeout", "time limit exceeded (killed)"
    signal_number = reply.signal
    if signal_number == signal.SIGXCPU:  # CPU-time rlimit
        return "timeout", "Timeout", "CPU time limit exceeded"
    if outcome == "stopped":  # only after a failed test, which _summarise reports first
        return "failed", "NotRun", "stopped after a failed test"
    if outcome == "worker_died":
        return "runtime_error", "ProcessDied", "the worker running the program died"
    if outcome == "malformed":
        return "runtime_error", "MalformedAnswer", shorten(reply.detail)
    if signal_number is not None:
        return "runtime_error", _signal_name(signal_number), f"killed by signal {signal_number}"
    return "runtime_error", "ProcessDied", f"the program exited early (exit code {reply.exit_code})"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def parse_answer(text: str) -> dict:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {"error": {"type": "MalformedAnswer", "message": "answer is not JSON"}}
    return value if isinstance(value, dict) else {"error": {"type": "MalformedAnswer", "message": "not an object"}}


def _counts(task: Task, outcomes) -> dict[str, dict[str, int]]:
    passed = {"public": 0, "hidden": 0}
    for outcome in outcomes:
        passed[outcome.kind] += outcome.passed
    return {"public": {"passed": passed["public"], "total": len(task.public_tests)},
            "hidden": {"passed": passed["hidden"], "total": len(task.hidden_tests)}}


def shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "..."


def _result(status: str, phase: str, counts: dict, isolation: str, *, tests: tuple = (),
            **fields) -> ExecutionResult:
    return ExecutionResult(
        status=status, passed=status == "passed", phase=phase, public=counts["public"],
        hidden=counts["hidden"], tests=tests,
        tests_judged_in_process=sum(1 for t in tests if t.judged_in_process),
        isolation=isolation, **fields)
