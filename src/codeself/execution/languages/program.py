"""Parent side of a C++, Java, JavaScript or Rust run: plan the job, judge the reply.

Why it mirrors runner.py instead of reusing its judge: a Python test's judge is a Python
expression; here every test is one MultiPL-E assert split (`split_assert`) into the call,
which the candidate's program runs, and the expected value, which a second program with no
candidate in it computes once per task (`measure_expected`, cached by the Executor). The
parent compares the two decoded values with the assert's own equality rule (equality.py).
A test passes only when this process judged it passed: a missing, malformed or unexpected
answer is a failure, and so is every test of a task whose own tests do not compile.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import types
from dataclasses import dataclass, field
from typing import Any

from codeself.datasets.task import Task
from codeself.execution import codec, runner
from codeself.execution.config import ExecutionConfig
from codeself.execution.languages import expected_cache
from codeself.execution.languages.asserts import SplitAssert, split_assert
from codeself.execution.languages.equality import values_equal
from codeself.execution.languages.literals import shown
from codeself.execution.languages.toolchains import Unavailable, missing
from codeself.execution.protocol import Job
from codeself.execution.result import ExecutionResult, TestOutcome

COMPILE_TIMEOUT_S = 30.0  # CPU seconds per compile command (wall: 3x); more is a compile_error
STARTUP_S = 10.0  # starting the program until it answers the import step (JVM, node, static init)
LOG_BYTES = 2000  # compiler output kept for the message (the candidate's own source only)
COMPILE_ERRORS = ("CompileError", "CompileTimeout")
MEMORY_ERRORS = ("std::bad_alloc", "OutOfMemoryError")


@dataclass(frozen=True)
class NativeProgram:
    """What the sandboxed child gets: files to write, commands to compile, the program to exec."""

    files: dict[str, bytes]
    compile: tuple[dict, ...]  # {"argv": [...], "what": str, "quiet": bool, "quiet_message": str}
    run: tuple[str, ...]
    env: dict[str, str] = field(default_factory=lambda: dict(BASE_ENV))
    # what the compile produces that the run needs (paths, or "*.class": every class file), which
    # the child sends back to be reused by a run of the same build (built.py); files to chmod +x
    outputs: tuple[str, ...] = ()
    executable: tuple[str, ...] = ()
    # (file name, text): a bootstrap the worker may start the interpreter on before the job
    # exists (`run` with its last item, the program's file, replaced by it: supervise.prestart)
    prestart: tuple[str, bytes] | None = None

    def digest(self, *extra: object) -> str:
        """A hash of everything a build or run of this program reads (files, commands, program,
        environment, outputs kept) and `extra`: the key of built.py's and expected_cache.py's caches."""
        parts = {"files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(self.files.items())},
                 "compile": [command.get("argv") for command in self.compile], "run": list(self.run),
                 "env": self.env, "outputs": list(self.outputs), "extra": [str(part) for part in extra]}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# The environment of compilers and programs. The view has no /proc, so the dynamic loader cannot
# resolve $ORIGIN (it reads /proc/self/exe): toolchains that rely on it add LD_LIBRARY_PATH.
BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp"}


@dataclass(frozen=True)
class Expected:
    """A task's expected values: one (ok, value or error type) per test; or why there are none."""

    values: tuple[tuple[bool, Any], ...] = ()
    error: str = ""  # the task's tests do not compile or run (a dataset defect)
    unavailable: str = ""  # this machine cannot run the task now (sandbox) or at all: no verdict
    unavailable_type: str = "SandboxError"  # "ToolchainMissing" when a library is not installed
    artifacts: dict[str, bytes] = field(default_factory=dict)  # the task's harness, built once (C++: main.o)


def native_digest(task: Task) -> str:
    """What a non-Python task's expected values depend on (the Executor's cache key)."""
    parts = [task.language, task.entry_point or "", task.starter_code, task.prompt,
             list(task.public_tests), list(task.hidden_tests)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=True).encode()).hexdigest()


def native_wall_factor() -> int:
    from codeself.execution.languages.native import WALL_FACTOR

    return WALL_FACTOR


def adapter(language: str) -> types.ModuleType:
    """The module that writes a language's programs (js.py, cpp.py, ...)."""
    reason = missing(language)
    if reason:
        raise ValueError(reason)
    return importlib.import_module(f"codeself.execution.languages.{language}")


def task_tests(task: Task) -> list[tuple[str, int, SplitAssert | str]]:
    """(kind, index, split or why it does not split) for every public then hidden test."""
    found: list[tuple[str, int, SplitAssert | str]] = []
    for kind, snippets in (("public", task.public_tests), ("hidden", task.hidden_tests)):
        for index, snippet in enumerate(snippets):
            try:
                found.append((kind, index, split_assert(task.language, snippet, task.entry_point)))
            except ValueError as error:
                found.append((kind, index, str(error)))
    return found


def _splits(tests: list) -> list[SplitAssert]:
    # an unsplittable test still gets a step (answered, never passed) so positions stay aligned
    return [split if isinstance(split, SplitAssert) else SplitAssert("candidate", "", "undefined", "cpp_eq")
            for _, _, split in tests]


def job(native: NativeProgram, tests_s: tuple[float, ...], start_s: float, program_s: float) -> Job:
    """The worker job: compile (each command under COMPILE_TIMEOUT_S), then one step per test."""
    compile_s = COMPILE_TIMEOUT_S * native_wall_factor() * len(native.compile)
    payload = {"files": native.files, "compile": list(native.compile), "run": list(native.run),
               "env": native.env, "compile_timeout_s": COMPILE_TIMEOUT_S, "log_bytes": LOG_BYTES}
    if native.outputs:
        payload["keep"] = list(native.outputs)
    if native.executable:
        payload["executable"] = list(native.executable)
    if native.prestart is not None:
        payload["prestart"] = {"file": native.prestart[0], "source": native.prestart[1]}
    return Job(program="", native=payload, steps=tuple({"t": index} for index in range(len(tests_s))),
               step_timeouts_s=(*tests_s, max(tests_s, default=start_s)),
               import_timeout_s=compile_s + start_s, program_timeout_s=compile_s + program_s)


def measure_expected(task: Task, config: ExecutionConfig, dispatch, batch=None) -> Expected:
    """Build the task's harness (trusted code, once) and run the program that computes its
    expected values (no candidate in it) through `dispatch`, the Executor's worker call; or
    take them from `batch` (expected_batch.py), which ran the program of several tasks."""
    tests = task_tests(task)
    if missing(task.language):  # every sample of the language: sandbox_error saying what to install
        return Expected(unavailable=missing(task.language), unavailable_type="ToolchainMissing")
    language = adapter(task.language)
    if batch is not None:
        batch.prepare()  # the batch's harnesses in one compile, where the language can
    try:
        artifacts = language.prepare(task.entry_point, _splits(tests), _prompt(task))
        native = language.expected_program(task.entry_point, _splits(tests), _prompt(task))
    except Unavailable as reason:
        return Expected(unavailable=str(reason), unavailable_type="ToolchainMissing")
    except ValueError as error:
        return Expected(error=str(error))
    cached = expected_cache.load(task.language, native)
    if cached:  # this machine ran the same tests program before (expected_cache.py)
        found = expected_from_answers(cached, len(tests))
        return Expected(values=found.values, error=found.error, artifacts=artifacts)
    answers = batch.answers_for(task) if batch is not None else None
    if answers:
        found = expected_from_answers(answers, len(tests))
        if found.values and all(ok for ok, _ in found.values):
            expected_cache.save(task.language, native, answers)
        return Expected(values=found.values, error=found.error, artifacts=artifacts)
    limit = config.calibration_timeout_s
    trusted = getattr(language, "TRUSTED_UNTIL_IMPORT", False)
    for _attempt in range(2):  # once more when the machine, not the task, failed (threads, say)
        reply = dispatch(job(native, (limit,) * len(tests), STARTUP_S + limit, config.max_program_timeout_s))
        found = read_expected(reply, len(tests), trusted)
        if not found.unavailable:
            break
    if not found.unavailable and (found.error.startswith("the tests do not compile") or
                                  found.values and all(ok for ok, _ in found.values)):
        expected_cache.save(task.language, native, list(reply.get("answers") or ()))
    return Expected(values=found.values, error=found.error, unavailable=found.unavailable, artifacts=artifacts)


def read_expected(reply: dict, count: int, trusted_until_import: bool = False) -> Expected:
    """Expected values from the expected program's reply; a failed build is a task defect, a
    program the sandbox could not start (`unavailable`) is not."""
    answers = reply.get("answers") or []
    if not answers:
        status, error_type, message = runner.stop_reason(reply)
        if status == "sandbox_error" or trusted_until_import or error_type == "ProcessDied" and \
                reply.get("outcome") == "worker_died":
            return Expected(unavailable=f"the tests' program could not run here ({error_type}: {message})")
        return Expected(error=f"the tests' program did not start ({error_type}: {message})")
    return expected_from_answers(answers, count)


def expected_from_answers(answers: list[str], count: int) -> Expected:
    """Expected values from the tests program's answer frames (its first: the import answer)."""
    imported = runner.parse_answer(answers[0])
    if imported.get("ok") is not True:
        error = imported.get("error") if isinstance(imported.get("error"), dict) else {}
        if error.get("type") == "SandboxError":
            return Expected(unavailable=f"the tests' program could not run here: {str(error.get('message'))[:300]}")
        return Expected(error=f"the tests do not compile ({error.get('type')}): a dataset defect")
    values = []
    for position in range(count):
        answer = runner.parse_answer(answers[position + 1]) if position + 1 < len(answers) else {}
        try:
            if not isinstance(answer.get("values"), list) or len(answer["values"]) != 1:
                raise codec.MalformedValue(str((answer.get("error") or {}).get("type", "no value")))
            values.append((True, codec.decode(answer["values"][0])))
        except (codec.MalformedValue, ValueError, TypeError, AttributeError, RecursionError) as error:
            values.append((False, f"the expected value did not compute ({str(error)[:80]})"))
    return Expected(values=tuple(values))


def sample_job(task: Task, program: str, expected: Expected, timeouts: runner.Timeouts,
               built=None) -> tuple[Job, list, str]:
    """The candidate's job, its tests, and the key to remember its build under (`built`: the
    Executor's BuiltPrograms, which may supply the build of an identical earlier run)."""
    tests = task_tests(task)
    native = adapter(task.language).candidate_program(task.entry_point, program, _splits(tests), _prompt(task),
                                                      expected.artifacts)
    key = ""
    if built is not None:
        native, key = built.use(task.language, native)
    return job(native, timeouts.tests_s, timeouts.import_s + STARTUP_S, timeouts.program_s), tests, key


def _prompt(task: Task) -> str:
    """The MultiPL-E prompt's code (imports, helper types, signature): starter code, else prompt."""
    return task.starter_code or task.prompt


def early_result(task: Task, program: str, config: ExecutionConfig, isolation: str,
                 expected: Expected) -> ExecutionResult | None:
    """The verdict when nothing needs to run: program too large, or tests that cannot pass."""
    counts = runner._counts(task, ())
    if len(program.encode("utf-8", errors="replace")) > config.max_program_bytes:
        return runner._result("compile_error", "syntax", counts, isolation, error_type="ProgramTooLarge",
                              message=f"program exceeds {config.max_program_bytes} bytes")
    if expected.unavailable:
        return runner._result("sandbox_error", "import", counts, isolation, error_type=expected.unavailable_type,
                              message=runner.shorten(expected.unavailable))
    if expected.error:
        return runner._result("failed", "done", counts, isolation, error_type="BrokenTest",
                              message=runner.shorten(f"no candidate can pass: {expected.error}"))
    return None


def build_result(task: Task, tests: list, expected: Expected, reply: dict, timeouts: runner.Timeouts) -> ExecutionResult:
    """Judge every answered test here; everything else is a failure (as runner.build_result)."""
    isolation = reply.get("isolation", "rlimits")
    answers = reply.get("answers") or []
    base = {"duration_s": reply.get("duration_s", 0.0), "cpu_time_s": reply.get("cpu_s", 0.0),
            "peak_rss_kb": reply.get("peak_rss_kb", 0), "stdout_tail": reply.get("stdout", ""),
            "stderr_tail": reply.get("stderr", ""),
            "extra": {**timeouts.extra(reply.get("waited_s", 0.0)), "language": task.language}}
    counts = runner._counts(task, ())
    if reply["outcome"] == "sandbox":
        return runner._result("sandbox_error", "import", counts, isolation, error_type="SandboxError",
                              message=runner.shorten(reply.get("detail", "")), **base)
    if not answers:
        status, error_type, message = runner.stop_reason(reply)
        if getattr(adapter(task.language), "TRUSTED_UNTIL_IMPORT", False):  # not the candidate's doing
            status, error_type = "sandbox_error", "SandboxError"
            message = f"{message}; {runner.shorten(reply.get('stderr', '')[-300:])}"
        return runner._result(status, "import", counts, isolation, error_type=error_type,
                              message=f"while compiling or starting the program: {message}", **base)
    imported = runner.parse_answer(answers[0])
    if imported.get("ok") is not True:
        error = imported.get("error") if isinstance(imported.get("error"), dict) else {}
        error_type = str(error.get("type", "MalformedAnswer"))[:80]
        status, phase = _import_status(error_type)
        message = str(error.get("message", ""))
        message = getattr(adapter(task.language), "compile_message", lambda text: text)(message)
        return runner._result(status, phase, counts, isolation, error_type=error_type,
                              message=runner.shorten(message), **base)
    outcomes = [_outcome(position, test, answers, expected, reply, task.language)
                for position, test in enumerate(tests)]
    plan = types.SimpleNamespace(tests=tests)
    status, phase, error_type, message = runner._summarise(plan, outcomes, reply)
    return runner._result(status, phase, runner._counts(task, outcomes), isolation, tests=tuple(outcomes),
                          error_type=error_type, message=message, **base)


def _import_status(error_type: str) -> tuple[str, str]:
    if error_type in COMPILE_ERRORS:
        return "compile_error", "syntax"
    if error_type == "SandboxError":
        return "sandbox_error", "import"
    if error_type == "MemoryError" or error_type in MEMORY_ERRORS:
        return "memory_error", "import"
    return "import_error", "import"


def _outcome(position: int, test: tuple, answers: list, expected: Expected, reply: dict,
             language: str) -> TestOutcome:
    kind, index, split = test
    hidden = kind == "hidden"
    if position + 1 < len(answers):
        passed, error_type, message = _judge(split, runner.parse_answer(answers[position + 1]),
                                             expected.values[position], hidden, language)
    elif position + 1 == len(answers):
        _, error_type, message = runner.stop_reason(reply)
        passed = False
    else:
        passed, error_type, message = False, "NotRun", "not run: an earlier test did not finish"
    return TestOutcome(kind=kind, index=index, passed=passed, error_type=error_type, message=runner.shorten(message))


def _judge(split: SplitAssert | str, answer: dict, expected: tuple[bool, Any], hidden: bool,
           language: str) -> tuple[bool, str | None, str]:
    if not isinstance(split, SplitAssert):
        return False, "BrokenTest", "the test has no shape the harness knows" if hidden else split
    if not expected[0]:
        return False, "BrokenTest", expected[1]
    if "error" in answer:
        error = answer["error"] if isinstance(answer["error"], dict) else {}
        error_type = str(error.get("type", "Exception"))[:80]
        if error_type in MEMORY_ERRORS:  # one name, so the status is memory_error as in Python
            error_type, error = "MemoryError", {"message": f"{error_type}: {error.get('message', '')}"}
        return False, error_type, f"hidden test raised {error_type}" if hidden else str(error.get("message", ""))
    values = answer.get("values")
    if not isinstance(values, list) or len(values) != 1:
        return False, "MalformedAnswer", "wrong number of values"
    try:
        actual = codec.decode(values[0])
    except (codec.MalformedValue, ValueError, TypeError, RecursionError) as error:
        return False, "MalformedAnswer", runner.shorten(str(error))
    if values_equal(split.equality, actual, expected[1]):
        return True, None, ""
    if hidden:
        return False, "AssertionError", f"hidden test failed: returned value of type {type(actual).__name__} did not match"
    # a public test's values, written in the task's language (the feedback a model revises from)
    return False, "AssertionError", f"expected {shown(expected[1], language)}, got {shown(actual, language)}"
