"""What the model is told after each attempt: feedback from PUBLIC tests only.

Why this module takes a `PublicTask` and a `PublicRun`, never a `Task` or an `ExecutionResult`:
the feedback text must not depend on hidden tests in any way, so the one function that turns
an execution result into model-visible data (`public_run`) keeps the public per-test outcomes
and the program-level error only when the program stopped before or during the public tests.
A failure that happened while the hidden tests ran (a wrong answer, a crash, a timeout) leaves
the public outcomes all passed and is never mentioned; hidden counts are dropped.

Feedback modes (`FEEDBACK_MODES`):

| mode      | next user message                                                                      |
|-----------|-----------------------------------------------------------------------------------------|
| `tests`   | the public-test report (`render_test_feedback`), or that every public test passed, or —  |
|           | for a task with no public test — that nothing checked the answers (`NO_PUBLIC_TESTS`)    |
| `generic` | CoCoS's fixed instruction (`GENERIC_FEEDBACK`): no execution output at all               |
| `none`    | the original task message again (a plain re-ask)                                        |

A `tests` report lists at most `max_failures` failing public tests, each with the test's source,
the call it makes (the probe that reaches the entry point), and either `expected` / `got` (the
values as the parent's judge rendered them from the decoded codec values, `judge.short_repr`)
or the exception class and message, or the timeout. Every value and message is cut to
`value_chars` keeping its head and tail (`truncate_middle`), and the whole report to
`max_chars`.

Tasks in C++, Java, JavaScript or Rust (`PublicTask.language`) get the same report in their own
terms: the fixed messages name the language and its fence tag instead of Python's
(`in_language`), a failed compile (status `compile_error`) is reported with the compiler's
message about the candidate's own file (cut to `value_chars` like every value), the call is
`entry_point(ARGS)` as the public test wrote its arguments, and `expected` / `got` are written
as the language's literals (execution.languages.literals, rendered by the parent's judge).
"""

from __future__ import annotations

from dataclasses import dataclass

from codeself.datasets.task import PublicTask

FEEDBACK_MODES = ("tests", "generic", "none")
# The fixed second-turn instruction of SCoRe / CoCoS: no execution output, no verdict.
GENERIC_FEEDBACK = ("There might be an error in the code above because of lack of understanding of the "
                    "question. Please correct the error, if any, and rewrite the solution.")
NO_CODE_FEEDBACK = ("No Python code was found in your reply. Reply with the complete program in one "
                    "```python fenced code block.")
ALL_PUBLIC_PASSED = ("All {total} public test(s) passed. Reply with your final program in one ```python "
                     "fenced code block.")
# Tasks with no public test (e.g. mbpp/37, humaneval/34): nothing checked the answers, and saying
# "all 0 passed" would read as a pass. The same text whatever the hidden tests did.
NO_PUBLIC_TESTS = ("This task has no public tests, so no test checked your program's answers (it compiled and "
                   "loaded without error). Check it against the task and reply with your final program in one "
                   "```python fenced code block.")
REPLY_WITH_PROGRAM = "Reply with the complete program in one ```python fenced code block."
REVISE = "Fix the program and reply with the complete corrected program in one ```python fenced code block."
FAILED_HEADER = "Failed public test {number}:"  # MockReviser reads this line back
# Program-level statuses reported before any test ran (phase syntax / import).
_PROGRAM_ERRORS = {"syntax_error": "Your code does not compile", "compile_error": "Your code does not compile",
                   "blocked": "Your code was refused before running",
                   "import_error": "Running your code raised an error before any test ran",
                   "memory_error": "Your code ran out of memory before any test ran",
                   "timeout": "Your code timed out before any test ran",
                   "runtime_error": "Your program exited or crashed before any test ran",
                   "sandbox_error": "The sandbox failed before running your code (not a fault of your code)"}


@dataclass(frozen=True)
class PublicOutcome:
    """One public test's verdict as the model may see it."""

    index: int
    passed: bool
    error_type: str | None
    message: str


@dataclass(frozen=True)
class PublicRun:
    """The model-visible part of one execution: public outcomes, or why no test ran."""

    outcomes: tuple[PublicOutcome, ...]
    total: int  # public tests of the task
    program_status: str | None = None  # set when the program failed before any test (phase syntax/import)
    program_error: str = ""  # "<ErrorType>: <message>" for that failure
    no_code: bool = False  # the reply held no program at all

    @property
    def passed(self) -> int:
        return sum(outcome.passed for outcome in self.outcomes)

    @property
    def all_passed(self) -> bool:
        """Every public test ran and passed (vacuously true when the task has none: see `tested`)."""
        return not self.no_code and self.program_status is None and self.passed == self.total

    @property
    def tested(self) -> bool:
        """The task has public tests, so `all_passed` says something about the answers."""
        return self.total > 0


def public_run(result, public_total: int) -> PublicRun:
    """Keep only what public tests showed of an `ExecutionResult` (None: no code was run)."""
    if result is None:
        return PublicRun((), public_total, no_code=True)
    outcomes = tuple(PublicOutcome(t.index, t.passed, t.error_type, t.message)
                     for t in result.tests if t.kind == "public")
    if result.phase in ("syntax", "import") and not result.passed:
        error = f"{result.error_type}: {result.message}" if result.error_type else result.message
        return PublicRun(outcomes, public_total, result.status, error)
    if len(outcomes) < public_total:  # stopped inside the public tests: the missing ones did not run
        ran = {o.index for o in outcomes}
        outcomes += tuple(PublicOutcome(i, False, "NotRun", "not run") for i in range(public_total) if i not in ran)
    return PublicRun(outcomes, public_total)


def truncate_middle(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, keeping its head (2/3) and tail (1/3).

    >>> truncate_middle("abcdefghijklmnopqrstuvwxyz" * 2, 30)  # 52 chars: 12 + marker 12 + 6
    'abcdefghijkl…[34 chars]…uvwxyz'
    """
    if len(text) <= limit:
        return text
    if limit < 24:  # too short for a marker to leave anything useful
        return text[:limit]
    omitted = len(text) - limit
    while True:  # the marker's length depends on the count it shows: iterate to a fixed point
        keep = limit - len(f"…[{omitted} chars]…")
        if len(text) - keep == omitted:
            break
        omitted = len(text) - keep
    tail = keep // 3
    return text[:keep - tail] + f"…[{omitted} chars]…" + (text[len(text) - tail:] if tail else "")


def render_test_feedback(task: PublicTask, run: PublicRun, *, max_failures: int = 3, value_chars: int = 300,
                         max_chars: int = 2000) -> str:
    """The `tests` feedback for one execution (see the module docstring)."""
    if type(task) is not PublicTask:
        raise TypeError(f"feedback is rendered from a PublicTask (task.public_view()), got {type(task).__name__}")
    language = task.language
    if run.no_code:
        return in_language(NO_CODE_FEEDBACK, language)
    revise = in_language(REVISE, language)
    if run.program_status is not None:
        head = _PROGRAM_ERRORS.get(run.program_status, "Your code failed before any test ran")
        return truncate_middle(f"{head}:\n{truncate_middle(run.program_error, value_chars)}\n\n{revise}", max_chars)
    if not run.tested:
        return in_language(NO_PUBLIC_TESTS, language)
    if run.all_passed:
        return in_language(ALL_PUBLIC_PASSED, language).format(total=run.total)
    failed = [o for o in run.outcomes if not o.passed]
    lines = [f"Your code was run on the public tests: {len(failed)} of {run.total} failed."]
    for outcome in failed[:max_failures]:
        lines += ["", *_describe_failure(task, outcome, value_chars)]
    if len(failed) > max_failures:
        lines += ["", f"({len(failed) - max_failures} more failing public test(s) not shown.)"]
    lines += ["", revise]
    return truncate_middle("\n".join(lines), max_chars)


def in_language(message: str, language: str) -> str:
    """A fixed message for a task in `language`: Python's own text for Python (traces unchanged),
    else with the language's name and fence tag in place of Python's."""
    if language == "python":
        return message
    from codeself.agents.templates import LANGUAGE_NAMES, LANGUAGE_TAGS

    return message.replace("```python", f"```{LANGUAGE_TAGS[language]}").replace("Python", LANGUAGE_NAMES[language])


def _call(task: PublicTask, source: str) -> str | None:
    """The call a public test makes: Python's probe; other languages' `entry_point(ARGS)`."""
    if task.language == "python":
        from codeself.execution.assertions import split_test

        split = split_test(source, task.entry_point)
        return split.probes[0] if split is not None and split.probes else None
    from codeself.execution.languages.asserts import split_assert

    try:
        return f"{task.entry_point}({split_assert(task.language, source, task.entry_point).args})"
    except ValueError:
        return None


def _describe_failure(task: PublicTask, outcome: PublicOutcome, value_chars: int) -> list[str]:
    source = task.public_tests[outcome.index] if outcome.index < len(task.public_tests) else ""
    lines = [FAILED_HEADER.format(number=outcome.index + 1), *_indent(truncate_middle(source.strip(), value_chars))]
    call = _call(task, source) if source else None
    if call is not None:
        lines.append(f"  call: {truncate_middle(call, value_chars)}")
    message = outcome.message or ""
    if outcome.error_type == "AssertionError" and message.startswith("expected ") and ", got " in message:
        expected, got = message[len("expected "):].split(", got ", 1)
        lines += [f"  expected: {truncate_middle(expected, value_chars)}",
                  f"  got: {truncate_middle(got, value_chars)}"]
    elif outcome.error_type == "AssertionError":
        lines.append(f"  assertion failed: {truncate_middle(message, value_chars)}" if message
                     else "  assertion failed")
    elif outcome.error_type == "Timeout":
        lines.append("  timed out: the test did not finish within its time limit")
    elif outcome.error_type == "NotRun":
        lines.append("  not run: an earlier test stopped the program")
    else:
        lines.append(f"  raised {outcome.error_type}: {truncate_middle(message, value_chars)}")
    return lines


def _indent(text: str) -> list[str]:
    return ["    " + line for line in text.splitlines()] or ["    "]


def render_feedback(mode: str, task: PublicTask, run: PublicRun, first_message: str, **limits: int) -> str:
    """The next user message in feedback mode `mode` (`first_message`: the task's own user message)."""
    if mode == "tests":
        return render_test_feedback(task, run, **limits)
    if mode == "generic":
        return GENERIC_FEEDBACK
    if mode == "none":
        return first_message
    raise ValueError(f"unknown feedback mode {mode!r}; choose one of {', '.join(FEEDBACK_MODES)}")


def repair_block(program: str, feedback: str) -> str:
    """The buggy program of a repair episode and its public-test output, as shown to the model."""
    return f"This program was written for the task above:\n```python\n{program.rstrip()}\n```\n\n{feedback}"


def repair_message(task_message: str, program: str, feedback: str) -> str:
    """The first user message of a repair episode: the task, then `repair_block`."""
    return f"{task_message}\n\n{repair_block(program, feedback)}"


def error_category(execution: dict | None, parse_status: str | None = None) -> str:
    """One coarse category per attempt, for the strategy report (the first attempt's kind of failure).

    Uses `execution["error_category"]` when the execution result carries one (issue 11's closed
    list); otherwise derives it from the status and exception class. Categories: passed,
    no_code, syntax, import, reference (NameError / AttributeError / UnboundLocalError),
    type_value, index_key, wrong_answer, timeout, resource, runtime, blocked, sandbox_error.
    """
    if parse_status == "no_code" or execution is None:
        return "no_code"
    if execution.get("error_category"):
        return str(execution["error_category"])
    status, error = execution.get("status"), execution.get("error_type") or ""
    direct = {"passed": "passed", "syntax_error": "syntax", "import_error": "import", "timeout": "timeout",
              "memory_error": "resource", "blocked": "blocked", "sandbox_error": "sandbox_error"}
    if status in direct and not (status == "import_error" and error in _REFERENCE):
        return direct[status]
    if error in _REFERENCE:
        return "reference"
    if error in ("TypeError", "ValueError", "ZeroDivisionError", "ArithmeticError", "OverflowError"):
        return "type_value"
    if error in ("IndexError", "KeyError", "StopIteration"):
        return "index_key"
    if error in ("RecursionError", "MemoryError"):
        return "resource"
    if error == "Timeout":
        return "timeout"
    if status == "failed" and error in ("AssertionError", "", "NotRun"):
        return "wrong_answer"
    return "runtime"


_REFERENCE = ("NameError", "AttributeError", "UnboundLocalError", "ModuleNotFoundError", "ImportError")
