"""bench_execution.py --language: the MultiPL-E-style programs, their verdicts and the parity count.

The fixture (tests/fixtures/bench_languages_tasks.jsonl, hand-written) holds two MultiPL-E-shaped
tasks per language: task 951's answer is right; task 952's is wrong (C++: it does not compile;
the others fail an assert when run). Each record also keeps MultiPL-E's continuation form of its
answer (`completion`), from which MultiPL-E's own program is `prompt + completion + "\\n" + tests`.
The engine is not run here (the bench does that); its results are stand-ins.
"""

import types
import unittest

import support
from codeself.datasets.convert import ConvertOptions, iter_source_tasks
from codeself.datasets.multipl_e import multipl_e_tests
from codeself.execution.bench_languages import bench_baseline, compare, multipl_e_program
from codeself.execution.languages.toolchains import missing, missing_javatuples

FIXTURE = support.FIXTURES / "bench_languages_tasks.jsonl"
FAILING_STEP = {"cpp": "compile", "java": "run", "js": "run", "rust": "run"}


def _engine(passed, status="passed", error_type=None, message=""):
    return types.SimpleNamespace(passed=passed, status=status, error_type=error_type, message=message)


class BenchLanguagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tasks = {}
        for task in iter_source_tasks(FIXTURE, ConvertOptions("multipl-e")):
            cls.tasks.setdefault(task.language, []).append(task)

    def test_program_is_multipl_e_s_layout(self):
        """The whole-function answer followed by the tests gives MultiPL-E's own program (up to
        trailing blank lines): the function closed once, Java's main inside class Problem."""
        for language, tasks in self.tasks.items():
            for task in tasks:
                with self.subTest(task=task.task_id):
                    completion = task.metadata["extra_fields"]["completion"]
                    theirs = task.prompt + completion + "\n" + multipl_e_tests(task)
                    self.assertEqual(multipl_e_program(task, task.reference_solution).rstrip(), theirs.rstrip())

    def test_verdicts_and_parity(self):
        """Right answers pass, wrong ones fail at the expected step; CPU of the compilers and
        programs (children of this process) is counted; a differing verdict names both sides."""
        for language in ("cpp", "java", "js", "rust"):
            with self.subTest(language=language):
                reason = missing_javatuples() if language == "java" else missing(language)
                if reason:  # (the fixture's Java tasks import javatuples, as MultiPL-E's do)
                    self.skipTest(reason)
                tasks = self.tasks[language]
                figures, outcomes = bench_baseline(language, [(t, t.reference_solution) for t in tasks], 2, 15.0)
                self.assertEqual([o.passed for o in outcomes], [True, False], outcomes)
                self.assertEqual(outcomes[1].step, FAILING_STEP[language], outcomes[1])
                self.assertNotIn(outcomes[1].exit_code, (0, None))
                self.assertEqual((figures.samples, figures.passed), (2, 1))
                self.assertGreater(figures.cpu_s, 0.0)
                # the engine agrees on the first task and (wrongly, here) passes the second
                parity = compare(tasks, [_engine(True), _engine(True)], outcomes)
                self.assertEqual((parity.both_pass, parity.both_fail, parity.same), (1, 0, 1))
                self.assertEqual(len(parity.differ), 1)
                self.assertIn(f"multipl-e/humaneval-{language}/952 (HumanEval_952_", parity.differ[0])
                self.assertIn(f"engine passed/-; MultiPL-E style {FAILING_STEP[language]} exit", parity.differ[0])
                failed = compare(tasks, [_engine(True), _engine(False, "failed", "AssertionError")], outcomes)
                self.assertEqual((failed.both_pass, failed.both_fail, failed.differ), (1, 1, []))


class BenchLanguagesScriptTest(unittest.TestCase):
    def test_bad_input_is_one_line(self):
        script = support.load_script("bench_execution")
        code, out, err = support.run_in_process(script, "--language", "js", "--data-dir", "/nonexistent/data")
        self.assertNotEqual(code, 0)
        self.assertIn("humaneval-js.jsonl not found", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        code, _, err = support.run_in_process(script, "--language", "js", "--burn", "2")
        self.assertNotEqual(code, 0)
        self.assertIn("--language measures", err)


if __name__ == "__main__":
    unittest.main()
