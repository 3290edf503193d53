"""The task runner's two parent-side halves: plan a job, and turn a worker's reply into a verdict.

Phases: syntax -> static scan -> import (candidate + setup_code) -> public tests -> hidden
tests. The plan splits every test with `assertions.split_test`, so only candidate-side
probes (and, for unsplittable tests, the whole snippet, counted as judged in-process) go to
the worker; the judges, which hold the expected values, stay here. A test passes only when
this process judged it passed: a missing, malformed or unexpected answer is a failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from codeself.datasets.task import Task
from codeself.execution import codec
from codeself.execution.assertions import SplitTest, split_test
from codeself.execution.result import ExecutionResult, TestOutcome

MAX_MESSAGE = 300
_OUTCOME_ERRORS = {"timeout": "Timeout", "died": "ProcessDied", "malformed": "MalformedAnswer",
                   "worker_died": "ProcessDied", "sandbox": "SandboxError"}


@dataclass(frozen=True)
class Plan:
    """Everything the parent keeps about one run; `job` is all the worker gets."""

    task: Task
    tests: tuple[tuple[str, int, SplitTest], ...]  # (kind, index, split)
    job: dict
    test_timeout_s: float


def test_timeout(task: Task, config) -> float:
    """Per-test timeout: the task's own, else factor x reference time (floored), else default."""
    metadata = task.metadata or {}
    explicit = metadata.get("timeout_s")
    if isinstance(explicit, (int, float)) and explicit > 0:
        return float(explicit)
    reference = metadata.get("reference_time_s")
    if isinstance(reference, (int, float)) and reference >= 0:
        return max(config.timeout_floor_s, config.timeout_factor * float(reference))
    return config.timeout_s


def early_result(task: Task, program: str, config, isolation: str) -> ExecutionResult | None:
    """The verdict when the program never needs to run: too big, syntax error, blocked."""
    counts = _counts(task, ())
    if len(program.encode("utf-8", errors="replace")) > config.max_program_bytes:
        return _result("syntax_error", "syntax", counts, isolation, error_type="ProgramTooLarge",
                       message=f"program exceeds {config.max_program_bytes} bytes")
    try:
        compile(program, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        return _result("syntax_error", "syntax", counts, isolation, error_type=type(error).__name__,
                       message=shorten(str(error)))
    if config.static_scan:
        from codeself.execution.scan import scan_program

        reason = scan_program(program)
        if reason is not None:
            return _result("blocked", "syntax", counts, isolation, error_type="Blocked",
                           message=shorten(reason), blocked_reason=reason)
    return None


def plan_run(task: Task, program: str, config) -> Plan:
    tests = tuple((kind, index, split_test(snippet, task.entry_point))
                  for kind, snippets in (("public", task.public_tests), ("hidden", task.hidden_tests))
                  for index, snippet in enumerate(snippets))
    steps = [{"probes": list(split.probes)} if split.judge is not None else {"fallback": split.fallback}
             for _, _, split in tests]
    timeout = test_timeout(task, config)
    job = {"program": program, "setup": task.setup_code, "entry_point": task.entry_point,
           "steps": steps, "step_timeouts_s": [timeout] * (len(steps) + 1),
           "import_timeout_s": timeout, "program_timeout_s": config.program_timeout_s}
    return Plan(task=task, tests=tests, job=job, test_timeout_s=timeout)


def build_result(plan: Plan, reply: dict) -> ExecutionResult:
    """Judge every answered test in this process; everything else is a failure."""
    isolation = reply.get("isolation", "rlimits")
    answers = reply.get("answers") or []
    base = {"duration_s": reply.get("duration_s", 0.0), "cpu_time_s": reply.get("cpu_s", 0.0),
            "peak_rss_kb": reply.get("peak_rss_kb", 0), "stdout_tail": reply.get("stdout", ""),
            "stderr_tail": reply.get("stderr", ""), "extra": {"test_timeout_s": plan.test_timeout_s}}
    counts = _counts(plan.task, ())
    if reply["outcome"] == "sandbox":
        return _result("sandbox_error", "import", counts, isolation, error_type="SandboxError",
                       message=shorten(reply.get("detail", "")), **base)
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
    outcomes = _judge_all(plan, answers[1:], reply)
    counts = _counts(plan.task, outcomes)
    status, phase, error_type, message = _summarise(plan, outcomes, reply)
    return _result(status, phase, counts, isolation, tests=tuple(outcomes), error_type=error_type,
                   message=message, **base)


def _judge_all(plan: Plan, answers: list[str], reply: dict) -> list[TestOutcome]:
    from codeself.execution.judge import judge_test

    atol = float(plan.task.metadata.get("atol") or 0.0)
    default_atol = float(plan.task.metadata.get("default_float_atol") or 0.0)
    outcomes = []
    for position, (kind, index, split) in enumerate(plan.tests):
        hidden = kind == "hidden"
        if position < len(answers):
            passed, error_type, message = _judge_one(split, parse_answer(answers[position]), hidden,
                                                     atol, default_atol, judge_test)
        elif position == len(answers):
            _, error_type, message = stop_reason(reply)
            passed = False
        else:
            passed, error_type, message = False, "NotRun", "not run: an earlier test did not finish"
        outcomes.append(TestOutcome(kind=kind, index=index, passed=passed, error_type=error_type,
                                    message=shorten(message), judged_in_process=split.judge is None))
    return outcomes


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


def _summarise(plan: Plan, outcomes: list[TestOutcome], reply: dict) -> tuple[str, str, str | None, str]:
    answered = len(reply.get("answers") or []) - 1
    finished = answered >= len(plan.tests) and reply["outcome"] == "done"
    if finished:
        phase = "done"
    else:
        phase = "public_tests" if plan.tests[answered][0] == "public" else "hidden_tests"
    if not plan.tests:
        return "failed", "done", "NoTests", "the task has no tests; nothing was verified"
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


def stop_reason(reply: dict) -> tuple[str, str, str]:
    """Status, error type and message for a run that stopped before its last answer."""
    outcome = reply["outcome"]
    if outcome == "sandbox":
        return "sandbox_error", "SandboxError", shorten(reply.get("detail", "the sandbox failed"))
    if outcome == "timeout":
        return "timeout", "Timeout", "time limit exceeded (killed)"
    signal_number = reply.get("signal")
    if signal_number == 24:  # SIGXCPU: CPU-time rlimit
        return "timeout", "Timeout", "CPU time limit exceeded"
    if outcome == "worker_died":
        return "runtime_error", "ProcessDied", "the worker running the program died"
    if outcome == "malformed":
        return "runtime_error", "MalformedAnswer", shorten(reply.get("detail", ""))
    if signal_number is not None:
        return "runtime_error", _signal_name(signal_number), f"killed by signal {signal_number}"
    return "runtime_error", "ProcessDied", f"the program exited early (exit code {reply.get('exit_code')})"


def _signal_name(number: int) -> str:
    import signal

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
