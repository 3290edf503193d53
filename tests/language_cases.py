"""Shared pieces of the per-language tests (tests/test_languages_*.py): tasks, one batch.

Every hostile program of those tests stays harmless even if the sandbox under test were
broken: at most 50 processes each sleeping at most 20 s, memory bombs stop at 4 GiB, files
are only written under a temp directory the test creates, and nothing signals -1.
"""

import json
import os
import re
import shutil
import tempfile
import time
import unittest

import support  # noqa: F401
from support import descendants
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.languages import assert_statements
from codeself.execution.languages.toolchains import missing

SECRET = "zq-secret-7731"


def make_task(language, prompt, entry_point, public, hidden, task_id=None):
    return Task(task_id=task_id or f"{language}/{entry_point}", source="example", prompt=prompt,
                entry_point=entry_point, starter_code=prompt, public_tests=tuple(public),
                hidden_tests=tuple(hidden), setup_code="", reference_solution=None, split=None, language=language)


def is_compile_server(pid):
    """Whether `pid` is a worker's warm Java compiler (languages/compile_server.py)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"codeself_rt.CompileServer" in handle.read().split(b"\0")
    except OSError:
        return False


def multipl_e_tasks(test, language, suffix, count):
    """The first `count` HumanEval tasks of a MultiPL-E file with their reference answers (the
    fenced block of gpt_solution), or skip when the data is absent."""
    return _references(support.data_file(test, f"multipl-e/humaneval-{suffix}.jsonl"), language, count)


def references_or_none(language, suffix, count):
    """As `multipl_e_tasks`, but [] when the data is absent (the batch then runs without them;
    the parity test skips through support.data_file)."""
    data_dir = os.environ.get("CODESELF_DATA_DIR")
    path = os.path.join(data_dir, f"multipl-e/humaneval-{suffix}.jsonl") if data_dir else ""
    return _references(path, language, count) if path and os.path.isfile(path) else []


def _references(path, language, count):
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
    CONFIG = {"workers": 2, "timeout_s": 1.0}  # per test; the calls here take milliseconds

    @classmethod
    def setUpClass(cls):
        reason = missing(cls.LANGUAGE)
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix="codeself-lang-test-")
        # class cleanups run even when setUpClass fails below (tearDownClass would not)
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.outside = os.path.join(cls.tmp, "outside.txt")
        cls.executor = Executor(ExecutionConfig(**cls.CONFIG))
        cls.addClassCleanup(cls.executor.close)
        cases = cls.cases()
        started = time.monotonic()
        cls.results = dict(zip(cases, cls.executor.run_many(cases.values())))
        cls.batch_s = time.monotonic() - started

    def assert_fails(self, name, *statuses):
        result = self.results[name]
        self.assertFalse(result.passed, (name, result.status, result.message))
        if statuses:
            self.assertIn(result.status, statuses, (name, result.error_type, result.message))
        return result

    def assert_no_leftovers(self):
        """Each worker holds its forker and the forker's waiting child only (and at most one warm
        compiler, Java's)."""
        idle = {"namespaces": 3, "bwrap": 4}.get(self.executor.isolation, 2)
        for _ in range(50):
            found = [descendants(pid) for pid in self.executor.worker_pids()]
            servers = [sum(map(is_compile_server, pids)) for pids in found]
            self.assertTrue(all(count <= 1 for count in servers), servers)
            counts = [len(pids) - count for pids, count in zip(found, servers)]
            if all(count <= idle for count in counts):
                break
            time.sleep(0.05)
        self.assertTrue(all(count <= idle for count in counts), counts)


class HostileMixin(BatchMixin):
    """The checks every compiled language shares, on cases its module names alike (Rust, Java):
    `correct_with_main` (passes; its own main never runs), `endless_loop`, `memory_bomb`,
    `fork_bomb`, `network` (prints CONNECTED if it connects), `write_outside` (writes
    `cls.outside`), `hidden_search` (prints FOUND and the number of files holding SECRET, or
    argv holding it), and the first HumanEval references (`SUFFIX` names the MultiPL-E file)."""

    SUFFIX = ""
    COMPILE_TIMEOUT_S = 2.0  # so the endless compile ends soon; each compile here needs far less
    FORK_STATUSES = ("failed",)
    REFERENCES = 5  # how many of the file's first references join the batch

    @classmethod
    def setUpClass(cls):
        from unittest import mock

        from codeself.execution.languages import program

        with mock.patch.object(program, "COMPILE_TIMEOUT_S", cls.COMPILE_TIMEOUT_S):
            super().setUpClass()

    @classmethod
    def cases(cls):
        references = {task.task_id: (task, answer) for task, answer in references_or_none(cls.LANGUAGE, cls.SUFFIX, cls.REFERENCES)}
        cls.references = list(references)
        return {**references, **cls.hostile_cases()}

    def assert_ordinary_failures(self, syntax_at, harness_file, throwing, error_type):
        """`wrong` and `wrong_type` fail as wrong answers, `syntax` is a compile error quoting
        `syntax_at`, `wrong_signature` a compile error whose harness errors (they quote test
        inputs) are counted, never shown; the public test of `throwing` passes and its two
        hidden tests raise `error_type` (an index error)."""
        self.assertEqual(self.assert_fails("wrong", "failed").error_category, "wrong_answer")
        self.assert_fails("wrong_type", "failed")
        self.assertIn(syntax_at, self.assert_fails("syntax", "compile_error").message)
        signature = self.assert_fails("wrong_signature", "compile_error")
        self.assertIn("error(s) in the test harness, not shown", signature.message)
        self.assertNotIn(harness_file, signature.message)
        raised = self.assert_fails(throwing, "failed")
        self.assertEqual([t.error_type for t in raised.tests], [None, error_type, error_type])
        self.assertEqual(raised.error_category, "index_key")

    def test_correct_passes_and_its_main_is_not_run(self):
        result = self.results["correct_with_main"]
        self.assertEqual((result.status, result.hidden), ("passed", {"passed": 2, "total": 2}), result.message)
        self.assertEqual(result.extra["language"], self.LANGUAGE)

    def test_resources_bounded_and_nothing_left(self):
        self.assert_fails("endless_loop", "timeout")
        self.assert_fails("memory_bomb")
        self.assert_fails("fork_bomb", *self.FORK_STATUSES)
        self.assert_no_leftovers()

    def test_no_network_no_host_writes_no_expected_values(self):
        self.assertNotIn("CONNECTED", self.assert_fails("network", "failed").stdout_tail)
        self.assert_fails("write_outside", "failed")
        self.assertFalse(os.path.exists(self.outside))
        self.assertIn("FOUND 0", self.assert_fails("hidden_search", "failed").stdout_tail)

    def test_references_pass(self):
        """MultiPL-E's reference answers of the first HumanEval tasks pass (MultiPL-E passes them)."""
        if not self.references:
            support.data_file(self, f"multipl-e/humaneval-{self.SUFFIX}.jsonl")  # skips, saying why
        for name in self.references:
            self.assertEqual(self.results[name].status, "passed", (name, self.results[name].message))
