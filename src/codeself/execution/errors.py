"""Error categories: one closed vocabulary for *why* a sample failed (docs/schemas.md, "Error categories").

The execution status says what the sandbox decided (`failed`, `timeout`, ...); the category says
what kind of mistake the candidate made, so that error patterns can be counted and compared
across runs, checkpoints and training steps. It is derived in the parent from fields the parent
already holds — the status, the phase, the `error_type` (an exception class name the child
reported, a signal name, or one of the harness's own names) and `extra.executed` — never from
free text. Each category also gets the LiveCodeBench error code where one maps (`lcb_error_code`).

A candidate can raise an exception class it named itself (`class IndexError(Exception)`); the
category then follows the name. The category is a diagnostic: it never changes a verdict.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

# The closed list, in report order. A passing sample has no category (null).
ERROR_CATEGORIES = (
    "no_code",  # the completion held no code; nothing was run
    "syntax",  # the program does not compile (SyntaxError, IndentationError) or is too large
    "import",  # ImportError / ModuleNotFoundError, at import time or inside a test
    "reference",  # NameError, UnboundLocalError, AttributeError: a name or attribute that does not exist
    "type_value",  # TypeError, ValueError (and subclasses such as UnicodeDecodeError)
    "index_key",  # IndexError, KeyError (LookupError)
    "arithmetic",  # ZeroDivisionError, OverflowError (ArithmeticError)
    "wrong_answer",  # a test judged the returned value wrong (AssertionError), or it left the codec (UnsupportedValue)
    "timeout",  # a per-test, import or whole-program time limit, or the CPU-time limit
    "resource",  # MemoryError, RecursionError, a value past the codec's size limit, the file-size limit
    "crash",  # the process ended before answering: exit()/SystemExit, os._exit, a signal, a malformed answer
    "other",  # any other exception (RuntimeError, StopIteration, OSError, a class of the candidate's) or no tests
    "blocked",  # the static scan refused the program; nothing ran
    "sandbox_error",  # the sandbox failed; says nothing about the candidate
)
PASSED_KEY = "passed"  # the counts' key for samples with no category

# LiveCodeBench's codes (lcb_runner/evaluation/testing_util.py and
# compute_code_generation_metrics.py): -1 Compilation Error (raised while the module is
# compiled *and executed*, so module-level exceptions count), -2 Wrong Answer, -3 Time Limit
# Exceeded, -4 Runtime Error, -5 TestRunnerError (the harness failed). No code: no_code and
# blocked (LiveCodeBench has no static scan and reports an empty program only indirectly).
LCB_ERROR_CODES = {-1: "Compilation Error", -2: "Wrong Answer", -3: "Time Limit Exceeded",
                   -4: "Runtime Error", -5: "TestRunnerError"}

# Exception classes (builtins, checked with issubclass so subclasses follow their base) in the
# order they are tested: RecursionError before the RuntimeError it derives from, and so on.
_EXCEPTION_CATEGORIES = (
    (ImportError, "import"),
    (RecursionError, "resource"),
    (MemoryError, "resource"),
    (NameError, "reference"),
    (AttributeError, "reference"),
    (LookupError, "index_key"),
    (ArithmeticError, "arithmetic"),
    (AssertionError, "wrong_answer"),
    (SystemExit, "crash"),
    (TypeError, "type_value"),
    (ValueError, "type_value"),
)
# Names the harness itself writes into error_type (runner.py, judge.py, codec.py).
_HARNESS_NAMES = {
    "UnsupportedValue": "wrong_answer",  # a returned value of a type outside the codec (numpy scalar, own class)
    "ValueTooLarge": "resource",
    "MalformedAnswer": "crash",
    "ProcessDied": "crash",
    "NotRun": "other",
    "NoTests": "other",
    "BrokenTest": "other",  # a non-Python task's own test does not compile or compute (dataset defect)
    "CompileError": "syntax",
    "CompileTimeout": "syntax",
    "SIGXFSZ": "resource",  # RLIMIT_FSIZE: the program wrote too large a file
}
# Exception names of the other languages' harnesses (docs/languages.md): C++ exception types,
# Java exception classes (simple names), JavaScript error names that Python lacks.
_NATIVE_NAMES = {
    "std::out_of_range": "index_key", "std::length_error": "index_key", "std::invalid_argument": "type_value",
    "std::bad_any_cast": "type_value", "std::bad_variant_access": "type_value", "std::bad_optional_access": "reference",
    "std::overflow_error": "arithmetic", "std::underflow_error": "arithmetic", "std::range_error": "arithmetic",
    "std::domain_error": "arithmetic", "std::bad_alloc": "resource",
    "IndexOutOfBoundsException": "index_key", "ArrayIndexOutOfBoundsException": "index_key",
    "StringIndexOutOfBoundsException": "index_key", "NoSuchElementException": "index_key",
    "NullPointerException": "reference", "ArithmeticException": "arithmetic", "ClassCastException": "type_value",
    "IllegalArgumentException": "type_value", "NumberFormatException": "type_value",
    "UnsupportedOperationException": "type_value", "OutOfMemoryError": "resource", "StackOverflowError": "resource",
    "ReferenceError": "reference", "RangeError": "type_value", "IndexOutOfBounds": "index_key",
    "DivideByZero": "arithmetic", "ArithmeticOverflow": "arithmetic",
}
# Status -> category when the status alone decides.
_STATUS_CATEGORIES = {"timeout": "timeout", "syntax_error": "syntax", "compile_error": "syntax", "memory_error": "resource",
                      "blocked": "blocked", "sandbox_error": "sandbox_error"}


def exception_category(error_type: str | None) -> str:
    """The category of an exception (or harness) name; `other` for anything unknown.

    >>> exception_category("ModuleNotFoundError"), exception_category("KeyError")
    ('import', 'index_key')
    """
    if not error_type:
        return "other"
    if error_type in _HARNESS_NAMES:
        return _HARNESS_NAMES[error_type]
    if error_type in _NATIVE_NAMES:
        return _NATIVE_NAMES[error_type]
    if error_type.startswith("SIG"):
        return "crash"
    cls = getattr(builtins, error_type, None)
    if isinstance(cls, type) and issubclass(cls, BaseException):
        for base, category in _EXCEPTION_CATEGORIES:
            if issubclass(cls, base):
                return category
    return "other"


def error_category(status: str, phase: str, error_type: str | None, extra: Mapping[str, Any] | None) -> str | None:
    """The category of one execution result (None for `passed`); see docs/schemas.md.

    The status decides first (timeout, syntax_error, memory_error, blocked, sandbox_error); a
    result that never ran because no code was found (`extra.executed` false) is `no_code`;
    otherwise (failed, import_error, runtime_error) the error type decides.
    """
    if status == "passed":
        return None
    if status in _STATUS_CATEGORIES:
        return _STATUS_CATEGORIES[status]
    if extra and extra.get("executed") is False:
        return "no_code"
    if status == "runtime_error" and error_type not in _HARNESS_NAMES and not str(error_type or "").startswith("SIG"):
        return "crash"  # the process ended early: the error type is a signal, exit code or worker death
    return exception_category(error_type)


def lcb_error_code(category: str | None, phase: str) -> int | None:
    """LiveCodeBench's error code for a category (None: passed, or no LiveCodeBench analogue).

    Failures while compiling or importing the program are LiveCodeBench's -1 (it compiles by
    executing the module), except a timeout (-3) and a sandbox failure (-5).
    """
    if category is None or category in ("no_code", "blocked"):
        return None
    if category == "timeout":
        return -3
    if category == "sandbox_error":
        return -5
    if phase in ("syntax", "import"):
        return -1
    if category == "wrong_answer":
        return -2
    return -4


def _execution_of(record: Any) -> Mapping[str, Any]:
    """The execution result in a record: a rollout / execution-result record, an execution
    dict, or an ExecutionResult."""
    if hasattr(record, "to_json") and hasattr(record, "status"):
        return {"status": record.status, "phase": record.phase, "error_type": record.error_type,
                "extra": record.extra, "error_category": record.error_category}
    if isinstance(record, Mapping) and isinstance(record.get("execution"), Mapping):
        return record["execution"]
    if isinstance(record, Mapping) and "status" in record:
        return record
    raise ValueError("not an execution result or a record with an 'execution' object")


def category_of(record: Any) -> str | None:
    """The error category of a record: its stored `error_category`, else derived (older records)."""
    execution = _execution_of(record)
    if "error_category" in execution:
        category = execution["error_category"]
        if category is not None and category not in ERROR_CATEGORIES:
            raise ValueError(f"execution.error_category {category!r} is not one of {', '.join(ERROR_CATEGORIES)}")
        if (category is None) != (execution.get("status") == "passed"):
            raise ValueError(f"execution.error_category {category!r} contradicts status {execution.get('status')!r}")
        return category
    return error_category(str(execution.get("status")), str(execution.get("phase")), execution.get("error_type"),
                          execution.get("extra") if isinstance(execution.get("extra"), Mapping) else None)


def error_category_counts(records: Iterable[Any]) -> dict[str, int]:
    """Samples per category, every category listed (0 when absent), passing samples under "passed".

    `records`: rollout or execution-result records (dicts with `execution`), execution dicts, or
    ExecutionResult objects. Example: one pass, one syntax error ->
    {"passed": 1, "no_code": 0, "syntax": 1, "import": 0, ...}.
    """
    counts = dict.fromkeys((PASSED_KEY, *ERROR_CATEGORIES), 0)
    for record in records:
        category = category_of(record)
        counts[PASSED_KEY if category is None else category] += 1
    return counts
