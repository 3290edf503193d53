"""The execution result record: one per executed sample (docs/schemas.md, "ExecutionResult").

Statuses form a closed vocabulary; the detail lives in `error_type` / `message`, never in
the status string. `passed` is True only when every public and hidden test passed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from codeself.execution.errors import error_category, lcb_error_code

STATUSES = (
    "passed",  # every public and hidden test passed
    "failed",  # ran, at least one test failed
    "timeout",  # wall-clock or CPU limit hit (per test or whole program)
    "syntax_error",  # candidate did not compile
    "compile_error",  # a C++, Java, Rust candidate did not compile (JavaScript: did not parse)
    "import_error",  # candidate or setup code raised while executing at module level
    "runtime_error",  # the harness process died (crash, signal, early exit) mid-tests
    "memory_error",  # MemoryError or address-space limit hit
    "blocked",  # refused by the static scan before running
    "sandbox_error",  # the sandbox itself failed; says nothing about the candidate
)
PHASES = ("syntax", "import", "public_tests", "hidden_tests", "done")
ISOLATION_LEVELS = ("namespaces", "rlimits", "bwrap", "docker")


@dataclass(frozen=True)
class TestOutcome:
    """The verdict of one test snippet. Hidden-test messages never quote the test."""

    kind: str  # "public" | "hidden"
    index: int  # position within its kind's list
    passed: bool
    error_type: str | None = None  # e.g. "AssertionError", "TypeError", "Timeout"
    message: str = ""  # short, bounded; for hidden tests no test text or expected value
    judged_in_process: bool = False  # True when the assertion ran inside the candidate's process

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "TestOutcome":
        return cls(**record)


@dataclass(frozen=True)
class ExecutionResult:
    status: str  # one of STATUSES
    passed: bool  # status == "passed"
    phase: str  # last phase reached, one of PHASES
    public: dict[str, int]  # {"passed": n, "total": n}
    hidden: dict[str, int]  # {"passed": n, "total": n}
    tests: tuple[TestOutcome, ...]
    tests_judged_in_process: int  # how many tests fell back to in-process assertion
    isolation: str  # one of ISOLATION_LEVELS, the level actually used
    error_type: str | None = None  # for non-test failures: exception or signal name
    message: str = ""  # short human-readable detail of the status
    duration_s: float = 0.0  # wall time of the whole sample (timing: excluded from hashes)
    cpu_time_s: float = 0.0  # user+sys CPU of the child and its descendants
    peak_rss_kb: int = 0  # peak resident set size of the child, KiB
    stdout_tail: str = ""  # last bytes of captured stdout (bounded)
    stderr_tail: str = ""  # last bytes of captured stderr (bounded)
    blocked_reason: str | None = None  # static-scan rule that blocked the sample
    extra: dict[str, Any] = field(default_factory=dict)
    # Passing answers only, with ExecutionConfig.efficiency: executed instructions against the
    # reference's at growing sizes (codeself.execution.efficiency). Omitted from the record when None.
    efficiency: dict[str, Any] | None = None
    # Derived from the fields above, never passed in (codeself.execution.errors): why the sample
    # failed, from one closed list (None when passed), and LiveCodeBench's code where one maps.
    error_category: str | None = field(init=False, default=None)
    lcb_error_code: int | None = field(init=False, default=None)

    # Fields that vary run to run for the same program; excluded from content hashes.
    TIMING_FIELDS = ("duration_s", "cpu_time_s", "peak_rss_kb")

    def __post_init__(self) -> None:
        category = error_category(self.status, self.phase, self.error_type, self.extra)
        object.__setattr__(self, "error_category", category)
        object.__setattr__(self, "lcb_error_code", lcb_error_code(category, self.phase))

    def to_json(self) -> dict[str, Any]:
        record = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        record["tests"] = [outcome.to_json() for outcome in self.tests]
        if record["efficiency"] is None:  # records without it stay as they were before the field existed
            del record["efficiency"]
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "ExecutionResult":
        """Records written before a derived field existed load too: derived fields are recomputed."""
        values = dict(record)
        values["tests"] = tuple(TestOutcome.from_json(t) for t in record.get("tests", ()))
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: v for k, v in values.items() if k in known})
