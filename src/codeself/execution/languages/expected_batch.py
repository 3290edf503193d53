"""Several tasks' expected values from one trusted program (a batch), instead of one each.

Why: on a machine's first evaluation of a file every task needs its tests program, and for
C++ that program's compile (~0.25 s of CPU, most of it loading the precompiled header) cost as
much as the candidate's own; Rust's and Java's compile and JavaScript's start likewise. A
batch holds the tests programs of up to BATCH_TASKS tasks of one language, each in a scope of
its own (a C++ namespace, a Rust module, a renamed Java class; JavaScript's expected values
need no prompt), so it is compiled and started once. It is trusted code with no candidate in
it, run in the sandbox like any program.
The same tasks' C++ harness objects are compiled together too (`ExpectedBatch.prepare`).

What a batch changes is only the cost: each task's part of the reply (the import answer, then
its own tests' answers) is read exactly as its own program's reply would be
(program.expected_from_answers) and kept in the same on-disk cache under the task's own
program's digest. A task whose part did not come out (the batch did not compile, or stopped
before the task's last answer) is measured alone afterwards, as without batches, so a broken
test is still classified by the task's own program.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from codeself.datasets.task import Task
from codeself.execution import runner
from codeself.execution.config import ExecutionConfig
from codeself.execution.languages import expected_cache, program
from codeself.execution.languages.asserts import SplitAssert
from codeself.execution.languages.toolchains import Unavailable

BATCH_TASKS = 24  # tasks per batch: the compile's fixed cost is shared, its latency stays a few seconds
MIN_TASKS = 2  # fewer need no batch


class ExpectedBatch:
    """One batch's answers, measured once by whichever of its tasks asks first (the others
    wait on the lock); `answers_for` gives a task its part, or None: measure it alone."""

    def __init__(self, language: str, tasks: list[Task], config: ExecutionConfig,
                 dispatch: Callable[[object], dict]) -> None:
        self.language, self.tasks, self.config, self.dispatch = language, tasks, config, dispatch
        self._lock, self._prepare_lock = threading.Lock(), threading.Lock()
        self._parts: dict[tuple[str, str], list[str]] | None = None
        self._prepared = False

    def prepare(self) -> None:
        """Build the batch's tasks' harnesses together, once, where the language can (C++:
        cpp.prepare_many, before any of them needs its own); a task whose harness this does
        not build builds it alone (`prepare`), as without batches."""
        with self._prepare_lock:
            if self._prepared:
                return
            self._prepared = True
            language = program.adapter(self.language)
            if hasattr(language, "prepare_many"):
                try:
                    language.prepare_many([(task.entry_point, program._splits(program.task_tests(task)),
                                            program._prompt(task)) for task in self.tasks])
                except (Unavailable, ValueError):
                    pass

    def answers_for(self, task: Task) -> list[str] | None:
        with self._lock:
            if self._parts is None:
                self._parts = self._run(self.tasks)
        return self._parts.get(key(task))

    def _run(self, tasks: list[Task]) -> dict[tuple[str, str], list[str]]:
        """Each task's answers from one program of `tasks`. A program that does not compile runs
        again without the tasks its errors point at (C++), or is halved until the tasks that
        break it stand alone; one that stops within a task's tests (a crash, a timeout) leaves
        that task out and runs the tasks after it again. A task on its own is left to its own
        program, which also names what is wrong with it."""
        if len(tasks) < MIN_TASKS:
            return {}
        language = program.adapter(self.language)
        splits = [program._splits(program.task_tests(task)) for task in tasks]
        try:
            native = language.expected_batch([(task.entry_point, tests, program._prompt(task))
                                              for task, tests in zip(tasks, splits)])
        except (Unavailable, ValueError):
            return {}
        counts = [len(tests) for tests in splits]
        limit = self.config.calibration_timeout_s
        reply = self.dispatch(program.job(native, (limit,) * sum(counts), program.STARTUP_S + limit,
                                          self.config.max_program_timeout_s))
        answers = list(reply.get("answers") or ())
        imported = runner.parse_answer(answers[0]) if answers else {}
        if imported.get("ok") is not True:
            error = imported.get("error") if isinstance(imported.get("error"), dict) else {}
            if error.get("type") in program.COMPILE_ERRORS:
                lines = error.get("lines") if isinstance(error.get("lines"), list) else []
                broken = language.batch_tasks_at(native, lines) if hasattr(language, "batch_tasks_at") else set()
                if broken and len(broken) < len(tasks):  # the compiler named them: the rest at once
                    return self._run([task for position, task in enumerate(tasks) if position not in broken])
                half = len(tasks) // 2
                return {**self._run(tasks[:half]), **self._run(tasks[half:])}
            return {}  # alone, each task's own program says what is wrong (a broken test, the machine)
        parts, offset = {}, 1
        for position, (task, count) in enumerate(zip(tasks, counts)):
            if offset + count > len(answers):  # it stopped within this task's tests: alone, and the rest again
                rest = tasks[position + 1:]
                return {**parts, **(self._run(rest) if rest else {})}
            parts[key(task)] = [answers[0], *answers[offset:offset + count]]
            offset += count
        return parts


def plan(tasks: list[Task], config: ExecutionConfig, dispatch, workers: int,
         known: Callable[[tuple[str, str]], bool] = lambda key: False) -> dict[tuple[str, str], ExpectedBatch]:
    """Batches for the tasks whose expected values are not `known` yet, by cache key; a task's
    samples then find its batch. Tasks are dealt round-robin into at least `workers` batches,
    so that the first samples of the batch's first tasks measure them on every worker at once."""
    by_language: dict[str, list[Task]] = {}
    seen: set[tuple[str, str]] = set()
    for task in tasks:
        task_key = key(task) if task.language not in ("python", "") else None
        if task_key is None or task_key in seen or known(task_key):
            continue
        seen.add(task_key)
        if eligible(task):
            by_language.setdefault(task.language, []).append(task)
    found: dict[tuple[str, str], ExpectedBatch] = {}
    for language, group in by_language.items():
        if len(group) < MIN_TASKS:
            continue
        count = min(len(group) // MIN_TASKS, max(workers, math.ceil(len(group) / BATCH_TASKS)))
        for index in range(count):
            members = group[index::count]
            batch = ExpectedBatch(language, members, config, dispatch)
            for task in members:
                found[key(task)] = batch
    return found


def key(task: Task) -> tuple[str, str]:
    return task.task_id, program.native_digest(task)


def eligible(task: Task) -> bool:
    """A task the batch can hold: its language batches, every test splits, and its tests
    program was not run on this machine before (then the on-disk values are read instead)."""
    try:
        language = program.adapter(task.language)  # ValueError: no toolchain (or no such language)
    except ValueError:
        return False
    if not hasattr(language, "expected_batch"):
        return False
    tests = program.task_tests(task)
    if not tests or not all(isinstance(split, SplitAssert) for _, _, split in tests):
        return False
    try:
        native = language.expected_program(task.entry_point, program._splits(tests), program._prompt(task))
        # a language whose batch holds any prompt has no batchable(); a kept file is read by
        # measure_expected (one that does not load is then measured alone)
        batchable = getattr(language, "batchable", None)
        held = batchable is None or batchable(program._prompt(task))
        return held and not expected_cache.has(task.language, native)
    except (Unavailable, ValueError):
        return False


def compare(tasks: list[Task], executor):
    """(task_id, same, detail) for every task a batch can hold: its expected values measured
    by its own program and by the batches, compared exactly (types, every digit, order) except
    for the order of maps and sets, which Rust's and Java's hashing randomise per process.
    `scripts/check_expected_batches.py`: the check behind this module's claim. Run with the
    on-disk cache off, or tasks found there are not compared."""
    config, dispatch = executor.config, executor._dispatch_wire
    held = [task for task in tasks if eligible(task)]
    batches = plan(held, config, dispatch, config.workers)
    for task in held:
        alone = program.measure_expected(task, config, dispatch)
        batched = program.measure_expected(task, config, dispatch, batches.get(key(task)))
        sides = [(found.error, found.unavailable, [_canonical(value) for value in found.values])
                 for found in (alone, batched)]
        detail = "" if sides[0] == sides[1] else f"alone {str(sides[0])[:150]}; batched {str(sides[1])[:150]}"
        yield task.task_id, not detail, detail


def _canonical(value: object) -> str:
    """`value` as text that tells every type and digit apart, with maps and sets in sorted order."""
    if isinstance(value, dict):
        items = sorted(f"{_canonical(k)}: {_canonical(v)}" for k, v in value.items())
        return f"dict{{{', '.join(items)}}}"
    if isinstance(value, (set, frozenset)):
        return f"{type(value).__name__}{{{', '.join(sorted(_canonical(item) for item in value))}}}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}[{', '.join(_canonical(item) for item in value)}]"
    return f"{type(value).__name__}({value!r})"
