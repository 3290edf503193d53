"""Expected values kept per machine (languages/expected_cache.py): read back, never shown to programs."""

import os
import tempfile
import unittest
from unittest import mock

import support  # noqa: F401
from language_cases import make_task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.languages import expected_cache, program, toolchains

PROMPT = "function f(x) {\n"


def js_task(expected):
    return make_task("js", PROMPT, "f", ("assert.deepEqual(candidate(1),2);",),
                     (f"assert.deepEqual(candidate(2),{expected});",), task_id=f"js/f/{expected}")


class ExpectedCacheTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(self.root, True))

    def test_the_directory_is_private_and_never_one_the_sandbox_shows(self):
        with mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": os.path.join(self.root, "e")}):
            self.assertEqual(expected_cache.directory(), os.path.realpath(os.path.join(self.root, "e")))
            self.assertEqual(os.stat(expected_cache.directory()).st_mode & 0o777, 0o700)
        for shown in (os.path.join(toolchains.cache_dir(), "expected"), toolchains.cache_dir(), "off"):
            with mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": shown}):
                self.assertIsNone(expected_cache.directory(), shown)

    def test_a_second_executor_reads_complete_answers_only(self):
        if toolchains.missing("js"):
            self.skipTest(toolchains.missing("js"))
        good, broken = js_task(3), js_task("(null).x")
        answer = "function f(x) { return x + 1; }\n"
        with mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": self.root}):
            with Executor(ExecutionConfig(workers=1)) as executor:
                self.assertEqual(executor.run(good, answer).status, "passed")
                self.assertEqual(executor.run(broken, answer).error_type, "BrokenTest")
            self.assertEqual(len(os.listdir(self.root)), 1)  # the broken task's values did not compute
            with Executor(ExecutionConfig(workers=1)) as executor, \
                    mock.patch.object(program, "read_expected", side_effect=AssertionError("ran the tests program")):
                self.assertEqual(executor.run(good, answer).status, "passed")
                self.assertEqual(executor.run(good, "function f(x) { return x; }\n").status, "failed")
                with self.assertRaisesRegex(AssertionError, "ran the tests program"):
                    executor.run(broken, answer)


if __name__ == "__main__":
    unittest.main()
