"""`mock` in multi-turn episodes: a reviser that reads the feedback it is given.

Like the `mock` backend it builds replies from the task's reference solution and sends nothing
anywhere; unlike it, every revision depends on the text of the last user message — the same
text a model would read — and on nothing else about the previous attempt's execution (it never
sees hidden tests or execution results). How it reads that message (`read_feedback`):

| reading       | recognised by                                             | what it does next (probabilities from `ReviserConfig`)        |
|---------------|-----------------------------------------------------------|----------------------------------------------------------------|
| `failing_test`| a "Failed public test N:" line (the test it names is kept)| `repair` (the reference) with `fix_with_tests`; else `resubmit` (same program) with `resubmit`; else `new_mutant` (another screened failing mutant) |
| `error`       | a program-level error or "no Python code" message          | as `failing_test`                                               |
| `public_pass` | "All N public test(s) passed."                             | `break` (a screened failing mutant of the current program) with `break_passing`; else `keep` (same program) |
| `generic`     | CoCoS's fixed instruction                                  | `rewrite` (the reference) with `fix_generic`; else `break` with `break_passing` / 2; else `resubmit` |
| `reask`       | anything else (feedback `none` repeats the task; a task with no public test) | `resample`: a fresh first attempt (the mock backend's mixture) |

After a reply with no code there is nothing to resubmit: `resubmit` and `keep` become `new_mutant`.
The first attempt of a solve episode is the `mock` backend's own sample (`first_attempt`). Every
reply records `mock_intent`, `mock_read` and, for `failing_test`, `mock_failing_test` (0-based)
in its metadata, so a report can check the measured fix and regression rates against the
intended ones: `repair`/`rewrite` replies pass every test, `break`/`new_mutant` replies fail
(screened in the sandbox), `resubmit`/`keep` replies are identical to the previous program.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from codeself.agents.agentic import feedback as fb
from codeself.agents.backends.base import Generation
from codeself.agents.backends.mock import MockBackend, MutantScreen, fenced, pick_mutant
from codeself.agents.backends.mutations import break_syntax
from codeself.datasets.task import Task

READINGS = ("failing_test", "error", "public_pass", "generic", "reask")
INTENTS = ("first_attempt", "repair", "resubmit", "new_mutant", "break", "keep", "rewrite", "resample")
_FAILED = re.compile(r"^" + re.escape(fb.FAILED_HEADER).replace(r"\{number\}", r"(\d+)") + r"$", re.MULTILINE)
_PASSED = re.compile(r"^All \d+ public test\(s\) passed\.")
_ERROR_HEADS = tuple(fb._PROGRAM_ERRORS.values()) + (fb.NO_CODE_FEEDBACK,)
RESAMPLE_STRIDE = 1000  # a `resample` at turn t of sample i is the mock backend's sample i * stride + t


@dataclass(frozen=True)
class ReviserConfig:
    fix_with_tests: float = field(default=0.6, metadata={  # P(repair | the feedback shows a failure)
        "flag": "--mock-fix-rate", "help": "mock: probability of repairing after feedback that shows a failure"})
    resubmit: float = 0.3  # P(resubmit unchanged | shown a failure, not repairing)
    break_passing: float = field(default=0.2, metadata={  # halved under generic feedback
        "flag": "--mock-break-rate", "help": "mock: probability of breaking a program told that every public test "
                                             "passed"})
    fix_generic: float = 0.25  # P(rewrite to the reference | generic instruction)

    def __post_init__(self) -> None:
        for name in ("fix_with_tests", "resubmit", "break_passing", "fix_generic"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"mock reviser {name} must be in [0, 1], got {value}")

    def to_json(self) -> dict[str, float]:
        return {"fix_with_tests": self.fix_with_tests, "resubmit": self.resubmit,
                "break_passing": self.break_passing, "fix_generic": self.fix_generic}


def read_feedback(text: str | None) -> tuple[str, int | None]:
    """(reading, failing public test index or None) of a user message; see the module docstring.

    >>> read_feedback("Your code was run on the public tests: 1 of 2 failed.\\n\\nFailed public test 2:\\n    assert f(1) == 2")
    ('failing_test', 1)
    """
    text = text or ""
    match = _FAILED.search(text)
    if match:
        return "failing_test", int(match.group(1)) - 1
    if text.startswith(_ERROR_HEADS):
        return "error", None
    if _PASSED.match(text):
        return "public_pass", None
    if text.strip() == fb.GENERIC_FEEDBACK:
        return "generic", None
    return "reask", None


class MockReviser:
    """Plays the model in an episode from the reference solution; see the module docstring."""

    name = "mock"
    model = "mock-reference"
    sees_reference_solution = True

    def __init__(self, config: ReviserConfig | None = None, backend: MockBackend | None = None) -> None:
        self.config = config or ReviserConfig()
        self.backend = backend or MockBackend()
        self.screen: MutantScreen | None = None

    def attach_executor(self, executor: Any | None) -> None:
        """Screen mutants (so `break` and `new_mutant` replies really fail) with this sandbox."""
        self.backend.attach_executor(executor)
        self.screen = self.backend.screen

    def describe(self) -> dict[str, Any]:
        return {**self.backend.config(), "reviser": self.config.to_json()}

    def close(self) -> None:
        """Nothing to release."""

    def act(self, task: Task, observation: dict[str, Any], *, sample_index: int, seed: int) -> Generation:
        turn = observation["turn"] + 1
        if observation["turn"] == 0 and observation["mode"] == "solve":
            first = self.backend.sample(task, sample_index, seed)
            return Generation(first.completion, metadata={**first.metadata, "mock_intent": "first_attempt"})
        reading, failing = read_feedback(observation["feedback"])
        rng = random.Random(f"mock-revise:{seed}:{task.task_id}:{sample_index}:{turn}")
        intent = self._intent(reading, rng.random())
        if intent in ("resubmit", "keep") and observation.get("code") is None:
            intent = "new_mutant"  # nothing to resubmit after a reply without code
        text, extra = self._render(intent, task, observation.get("code"), rng, sample_index, seed, turn)
        metadata = {"mock_intent": intent, "mock_read": reading, **extra}
        if failing is not None:
            metadata["mock_failing_test"] = failing
        return Generation(text, metadata=metadata)

    def _intent(self, reading: str, u: float) -> str:
        config = self.config
        if reading in ("failing_test", "error"):
            if u < config.fix_with_tests:
                return "repair"
            return "resubmit" if u < config.fix_with_tests + (1 - config.fix_with_tests) * config.resubmit else "new_mutant"
        if reading == "public_pass":
            return "break" if u < config.break_passing else "keep"
        if reading == "generic":
            if u < config.fix_generic:
                return "rewrite"
            return "break" if u < config.fix_generic + config.break_passing / 2 else "resubmit"
        return "resample"

    def _render(self, intent: str, task: Task, current: str | None, rng: random.Random, sample_index: int,
                seed: int, turn: int) -> tuple[str, dict[str, Any]]:
        reference = task.reference_solution.replace("\r\n", "\n").rstrip("\n") + "\n"
        if intent in ("repair", "rewrite"):
            return fenced(_canonical(reference), rng), {}
        if intent in ("resubmit", "keep"):
            return fenced(current.rstrip("\n") + "\n", rng), {}
        if intent in ("break", "new_mutant"):
            base = current if intent == "break" and current is not None else reference
            mutation = pick_mutant(task, _compilable(base, reference), rng, self.screen)
            if mutation is not None:
                return fenced(mutation.code, rng), {"mock_mutation": mutation.description}
            broken = break_syntax(reference, rng)
            return fenced(broken.code, rng), {"mock_mutation": broken.description, "mock_fallback": "no failing mutant"}
        assert intent == "resample", intent
        again = self.backend.sample(task, sample_index * RESAMPLE_STRIDE + turn, seed)
        return again.completion, {f"resample_{key}": value for key, value in again.metadata.items()}


def _canonical(code: str) -> str:
    """The reference as `ast.unparse` prints it, the form mutants are printed in: a repair's diff
    then shows the repaired line, not formatting."""
    import ast

    try:
        return ast.unparse(ast.parse(code)) + "\n"
    except (SyntaxError, ValueError, RecursionError):
        return code


def _compilable(code: str, reference: str) -> str:
    """Mutations need a program that parses; a broken current program is mutated from the reference."""
    try:
        compile(code, "<mock>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return reference
    return code
