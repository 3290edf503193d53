"""Shared pieces of the per-language tests (tests/test_languages_*.py): tasks, one batch.

Every hostile program of those tests stays harmless even if the sandbox under test were
broken: at most 50 processes each sleeping at most 20 s, memory bombs stop at 4 GiB, files
are only written under a temp directory the test creates, and nothing signals -1.
"""

import json
import os
import re
import tempfile
import time
import unittest

import support  # noqa: F401
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.languages import assert_statements
from codeself.execution.languages.toolchains import missing

SECRET = "zq-secret-7731"


def make_task(language, prompt, entry_point, public, hidden, task_id=None):
    return Task(task_id=task_id or f"{language}/{entry_point}", source="example", prompt=prompt,
                entry_point=entry_point, starter_code=prompt, public_tests=tuple(public),
                hidden_tests=tuple(hidden), setup_code="", reference_solution=None, split=None, language=language)


def descendants(pid):
    """Process ids below `pid` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def multipl_e_tasks(test, language, suffix, count):
    """The first `count` HumanEval tasks of a MultiPL-E file with their reference answers (the
    fenced block of gpt_solution), or skip when the data is absent."""
    path = support.data_file(test, f"multipl-e/humaneval-{suffix}.jsonl")
    found = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if language == "java":  # the method's name, before its body
                entry = re.findall(r"(\w+)\([^()]*\)\s*\{", row["prompt"])[-1]
            else:  # `let candidate = f;` / `auto candidate = f;`
                entry = re.search(r"candidate = (\w+);", row["tests"]).group(1)
            fence = row["gpt_solution"].split("```")
            reference = fence[1].split("\n", 1)[1] if len(fence) > 1 else row["gpt_solution"]
            found.append((make_task(language, row["prompt"], entry, (), assert_statements(language, row["tests"]),
                                    task_id=row["name"]), reference))
            if len(found) == count:
                break
    return found


class BatchMixin:
    """Runs `cases()` (name -> (task, program)) once through one Executor in setUpClass."""

    LANGUAGE = ""
    CONFIG = {"workers": 2, "timeout_s": 2.0}

    @classmethod
    def setUpClass(cls):
        reason = missing(cls.LANGUAGE)
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix="codeself-lang-test-")
        cls.outside = os.path.join(cls.tmp, "outside.txt")
        cls.executor = Executor(ExecutionConfig(**cls.CONFIG))
        cases = cls.cases()
        started = time.monotonic()
        cls.results = dict(zip(cases, cls.executor.run_many(cases.values())))
        cls.batch_s = time.monotonic() - started

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()
        import shutil

        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assert_fails(self, name, *statuses):
        result = self.results[name]
        self.assertFalse(result.passed, (name, result.status, result.message))
        if statuses:
            self.assertIn(result.status, statuses, (name, result.error_type, result.message))
        return result

    def assert_no_leftovers(self):
        idle = {"namespaces": 2, "bwrap": 3}.get(self.executor.isolation, 1)
        for _ in range(50):
            counts = [len(descendants(pid)) for pid in self.executor.worker_pids()]
            if all(count <= idle for count in counts):
                break
            time.sleep(0.05)
        self.assertTrue(all(count <= idle for count in counts), counts)
