"""Validation of canonical task files: schema, compilability and hidden-test leakage.

Every check is a pure function returning problem messages; `TaskFileValidator` adds the
checks that span records (unique ids, one prompt in two splits, near-duplicate prompts in
two splits). A message names the field at fault so a researcher can find it. Leakage rules
are documented in docs/schemas.md ("Validation rules").
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from codeself.datasets.snippets import collapse_whitespace, leak_reason, snippet_key, squash_whitespace
from codeself.datasets.task import SCHEMA_VERSION, Task
from codeself.jsonl import scan_jsonl_lines


@dataclass(frozen=True)
class Problem:
    """One validation finding, printed as `file:line: task_id: message`."""

    file: str
    line: int
    task_id: str
    message: str

    def format(self) -> str:
        return f"{self.file}:{self.line}: {self.task_id}: {self.message}"


# metadata key: indices of hidden tests that the dataset itself wrote malformed (MultiPL-E's
# HumanEval_51 in JavaScript holds a newline inside a string literal). Kept as written, so the
# verdict matches the dataset's; exempt from rule 4 and counted in the summary.
MALFORMED_TESTS = "malformed_tests_from_dataset"
# Tasks whose metadata.near_duplicate_rule has this value promise that no masked prompt
# (`masked_prompt`) is shared across splits; for them a shared one is a problem, for other
# tasks a warning. Written by the generated distribution (codeself.datasets.generated).
NEAR_DUPLICATE_RULE = "masked_prompt"
_BACKTICKED = re.compile(r"`[^`\n]*`")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def masked_prompt(prompt: str, entry_point: str) -> str:
    """A prompt with what varies between near-duplicate tasks masked.

    Backticked spans become `<id>`, the entry point where it is called or defined
    (`name(`, as in HumanEval's `def name(`) `<id>(`, numbers `<n>`; then lower case and
    whitespace collapsed:
    "Write `add_k(xs)` that adds 3 to each of `xs`." -> "write <id> that adds <n> to each of <id>."
    The entry point is not masked as a plain word: MBPP's `first`/`last` and `gcd`/`lcm`
    tasks name their function with the one word that tells them apart.
    """
    text = _BACKTICKED.sub("<id>", prompt)
    if entry_point.isidentifier():
        text = re.sub(rf"\b{re.escape(entry_point)}\s*\(", "<id>(", text)
    return collapse_whitespace(_NUMBER.sub("<n>", text.lower()))


def check_schema(record: dict[str, Any]) -> tuple[Task | None, list[str]]:
    """Parse a record as a Task; on failure return (None, [why])."""
    try:
        task = Task.from_json(record)
    except ValueError as error:
        return None, [f"schema: {error}"]
    messages = []
    if not task.task_id.strip():
        messages.append("schema: field 'task_id' is empty")
    if not task.entry_point.isidentifier():
        messages.append(f"schema: field 'entry_point' {task.entry_point!r} is not an identifier")
    if task.schema_version != SCHEMA_VERSION:
        messages.append(f"schema: schema_version {task.schema_version} is not supported (expected {SCHEMA_VERSION})")
    return task, messages


def check_hidden_tests_present(task: Task) -> list[str]:
    return [] if task.hidden_tests else ["hidden_tests is empty: every task needs at least one hidden test"]


def check_compiles(task: Task) -> list[str]:
    """Tests, setup code and reference solution must be valid Python (compiled, never run);
    a task in another language gets `check_language_sources` instead."""
    if task.language != "python":
        return check_language_sources(task)
    sources = [(f"public_tests[{i}]", t) for i, t in enumerate(task.public_tests)]
    sources += [(f"hidden_tests[{i}]", t) for i, t in enumerate(task.hidden_tests)]
    sources += [("setup_code", task.setup_code), ("reference_solution", task.reference_solution or "")]
    messages = []
    for name, source in sources:
        try:
            with warnings.catch_warnings():  # MBPP's regex strings warn about escapes
                warnings.simplefilter("ignore")
                compile(source, f"<{name}>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            detail = getattr(error, "msg", None) or str(error) or type(error).__name__
            line = f" (line {error.lineno})" if getattr(error, "lineno", None) else ""
            messages.append(f"{name} does not compile: {detail}{line}")
    return messages


def check_language_sources(task: Task) -> list[str]:
    """Without a compiler: every test balances its brackets and splits into call and expected
    value (`codeself.execution.languages.split_assert`, when installed); the reference balances
    its brackets and defines the entry point (codeself.code_structure)."""
    from codeself.code_structure import defines
    from codeself.datasets.multipl_e import default_split_assert
    from codeself.parsing_languages import well_formed

    split_assert = default_split_assert()
    messages = []
    tests = [(f"public_tests[{i}]", t) for i, t in enumerate(task.public_tests)]
    tests += [(f"hidden_tests[{i}]", t) for i, t in enumerate(task.hidden_tests)]
    acknowledged = {f"hidden_tests[{i}]" for i in task.metadata.get(MALFORMED_TESTS) or ()}
    for name, test in tests:
        if name in acknowledged:
            continue
        if not well_formed(test, task.language):
            messages.append(f"{name} does not balance its brackets ({task.language})")
        elif split_assert is not None:
            try:
                split_assert(task.language, test, task.entry_point)
            except ValueError as error:
                messages.append(f"{name} does not split into call and expected value: {error}")
    reference = task.reference_solution
    if reference is not None and not well_formed(reference, task.language):
        messages.append(f"reference_solution does not balance its brackets ({task.language})")
    elif reference is not None and not defines(reference, task.language, task.entry_point):
        messages.append(f"reference_solution does not define {task.entry_point} ({task.language})")
    return messages


def check_hidden_leaks(task: Task) -> list[str]:
    """A hidden test (or its long expected literal) visible in prompt or starter_code.

    Indices listed in metadata["hidden_tests_visible_in_prompt"] are exempt: a converter writes
    that only when a dataset shows every one of a task's tests in its prompt, or (MultiPL-E)
    when the dataset's verdict must use every test as written.
    """
    messages = []
    acknowledged = set(task.metadata.get("hidden_tests_visible_in_prompt") or ())
    for index, test in enumerate(task.hidden_tests):
        if index in acknowledged:
            continue
        for field_name in ("prompt", "starter_code"):
            reason = test_leak_reason(task, test, getattr(task, field_name))
            if reason:
                messages.append(f"leak: hidden_tests[{index}] is visible in {field_name}: {reason}")
    return messages


def test_leak_reason(task: Task, test: str, visible_text: str) -> str | None:
    """`snippets.leak_reason`; a non-Python assert's expected value is the one `split_assert`
    finds (when installed; else only the test's text is looked for)."""
    if task.language == "python":
        return leak_reason(test, visible_text)
    from codeself.datasets.multipl_e import default_split_assert

    split_assert = default_split_assert()

    def expected_of(text: str) -> str | None:
        try:
            return split_assert(task.language, text, task.entry_point).expected if split_assert else None
        except ValueError:
            return None
    return leak_reason(test, visible_text, expected_of)


def visible_hidden_tests(task: Task) -> list[int]:
    """Indices of the hidden tests that `prompt` or `starter_code` shows (rule 5)."""
    return [index for index, test in enumerate(task.hidden_tests)
            if any(test_leak_reason(task, test, text) for text in (task.prompt, task.starter_code))]


def solution_body(task: Task) -> str:
    """The reference minus the starter code it begins with (HumanEval: prompt + solution)."""
    reference = task.reference_solution or ""
    if task.starter_code and reference.startswith(task.starter_code):
        return reference[len(task.starter_code):]
    return reference


def check_reference_leak(task: Task) -> list[str]:
    body = squash_whitespace(solution_body(task))
    if not body:
        return []
    return [f"leak: reference_solution text appears in {name}"
            for name in ("prompt", "starter_code") if body in squash_whitespace(getattr(task, name))]


def check_public_hidden_overlap(task: Task) -> list[str]:
    public = {snippet_key(test) for test in task.public_tests}
    return [f"leak: hidden_tests[{i}] duplicates a public test"
            for i, test in enumerate(task.hidden_tests) if snippet_key(test) in public]


TASK_CHECKS = (check_hidden_tests_present, check_compiles, check_hidden_leaks,
               check_reference_leak, check_public_hidden_overlap)


def check_task(task: Task) -> list[str]:
    """All single-task checks, in a fixed order."""
    return [message for check in TASK_CHECKS for message in check(task)]


class TaskFileValidator:
    """Runs every check over a stream of records, remembering what spans records."""

    def __init__(self) -> None:
        self.tasks = 0
        self.acknowledged_duplicates = 0
        self.acknowledged_visible = 0
        self.acknowledged_malformed = 0  # tests listed in metadata[MALFORMED_TESTS]
        self._ids: dict[str, str] = {}
        self._prompts: dict[str, tuple[str, str, str, tuple[str, ...]]] = {}
        # masked prompt -> split -> (task_id, where, strict, whitespace-collapsed prompt) of its first task
        self._masked: dict[str, dict[str, tuple[str, str, bool, str]]] = {}
        self.warnings: list[Problem] = []  # near-duplicates between tasks that did not opt in

    def check_record(self, file: str, line: int, record: dict[str, Any]) -> list[Problem]:
        task, messages = check_schema(record)
        task_id = str(record.get("task_id", "?")) if task is None else task.task_id
        self.tasks += 1
        if task is not None:
            messages += self._check_unique(task, f"{file}:{line}")
            messages += check_task(task)
            self.acknowledged_visible += bool(task.metadata.get("hidden_tests_visible_in_prompt"))
            self.acknowledged_malformed += len(task.metadata.get(MALFORMED_TESTS) or ())
            messages += self._check_prompt_splits(task, f"{file}:{line}")
            messages += self._check_near_duplicates(task, file, line)
        return [Problem(file, line, task_id, message) for message in messages]

    def _check_unique(self, task: Task, where: str) -> list[str]:
        first = self._ids.setdefault(task.task_id, where)
        return [] if first == where else [f"duplicate task_id (first seen at {first})"]

    def _check_prompt_splits(self, task: Task, where: str) -> list[str]:
        """The same normalised prompt in two splits leaks a test task into training.

        Tolerated only when both records list each other in metadata["same_prompt_as"]
        (the converter writes that for duplicates it found); such pairs are counted.
        """
        if task.split is None:
            return []
        key = collapse_whitespace(task.prompt)
        acknowledged = tuple(task.metadata.get("same_prompt_as") or ())
        seen = self._prompts.setdefault(key, (task.split, task.task_id, where, acknowledged))
        other_split, other_id, other_where, other_ack = seen
        if other_split == task.split or other_id == task.task_id:
            return []
        if other_id in acknowledged and task.task_id in other_ack:
            self.acknowledged_duplicates += 1
            return []
        return [f"leak: same prompt as {other_id} ({other_where}) but split {task.split!r} vs {other_split!r}"]


    def _check_near_duplicates(self, task: Task, file: str, line: int) -> list[str]:
        """Two prompts equal after `masked_prompt` in two splits: a test task trained on in disguise.

        A problem when either task opted in (metadata.near_duplicate_rule == NEAR_DUPLICATE_RULE),
        otherwise a warning: real datasets have such pairs (MBPP 455/820 differ only in
        "31"/"28" days) and their published splits are kept. Identical prompts are left to
        `_check_prompt_splits`. Each task is compared with the first task of every other split.
        """
        if task.split is None:
            return []
        where, prompt = f"{file}:{line}", collapse_whitespace(task.prompt)
        strict = task.metadata.get("near_duplicate_rule") == NEAR_DUPLICATE_RULE
        by_split = self._masked.setdefault(masked_prompt(task.prompt, task.entry_point), {})
        by_split.setdefault(task.split, (task.task_id, where, strict, prompt))
        for split, (other_id, other_where, other_strict, other_prompt) in by_split.items():
            if split == task.split or other_prompt == prompt:
                continue
            message = (f"near-duplicate prompt of {other_id} ({other_where}) but split {task.split!r} vs "
                       f"{split!r}: equal once names and numbers are masked")
            if strict or other_strict:
                return ["leak: " + message]
            self.warnings.append(Problem(file, line, task.task_id, "warning: " + message))
            return []
        return []


def validate_files(paths: Iterable[str | os.PathLike],
                   validator: TaskFileValidator | None = None) -> Iterator[Problem]:
    """Yield every problem in the given files, in file and line order.

    A line that is not a JSON object is a problem too, and validation goes on past it.
    Raises ValueError only when a file cannot be read at all.
    """
    validator = validator or TaskFileValidator()
    for path in paths:
        for line, record, error in scan_jsonl_lines(path):
            if error is not None:
                validator.tasks += 1
                yield Problem(str(path), line, "?", error)
            else:
                yield from validator.check_record(str(path), line, record)
