import support

import json
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from codeself.datasets.humaneval import (
    RESIDUAL_FUNCTION, docstring_tests, drop_contradicted, humaneval_to_task, iter_humaneval_records,
    split_check,
)

SMALL = support.FIXTURES / "datasets_humaneval_small.jsonl"

# Runs every task's reference + setup + each test in one child, in a temp dir; prints failures.
REFERENCE_HARNESS = r'''
import json, sys
failures = []
skip = set(sys.argv[2:])
for line in open(sys.argv[1]):
    task = json.loads(line)
    if task["task_id"] in skip:
        continue
    namespace = {"__name__": "__main__"}
    exec(task["reference_solution"], namespace)
    exec(task["setup_code"], namespace)
    for kind in ("public_tests", "hidden_tests"):
        for index, test in enumerate(task[kind]):
            try:
                exec(test, dict(namespace))
            except Exception as error:
                failures.append(f"{task['task_id']} {kind}[{index}] {type(error).__name__}")
print(json.dumps(failures))
'''


def start_references(tasks_path: Path, skip: tuple[str, ...] = ()) -> tuple:
    """Start REFERENCE_HARNESS on a converted file in a temp dir, without waiting for it (so
    other checks can run meanwhile); `reference_failures` collects it."""
    tmp = tempfile.TemporaryDirectory()
    process = subprocess.Popen([sys.executable, "-c", REFERENCE_HARNESS, str(Path(tasks_path).resolve()), *skip],
                               cwd=tmp.name, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    return process, tmp


def reference_failures(test: unittest.TestCase, started: tuple) -> list:
    """The failures `start_references`'s run printed (it must exit 0)."""
    process, tmp = started
    try:
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # only after a timeout here
            process.kill()
            process.wait()
        tmp.cleanup()
    test.assertEqual(process.returncode, 0, err[-2000:])
    return json.loads(out.strip().splitlines()[-1])


def run_references(test: unittest.TestCase, tasks_path: Path, skip: tuple[str, ...] = ()) -> list:
    """Failures of the reference solutions on their own converted tests (trusted code only)."""
    return reference_failures(test, start_references(tasks_path, skip))


class SplitCheckTest(unittest.TestCase):
    def test_plain_asserts_become_snippets_calling_entry_point(self):
        source = textwrap.dedent("""\
            METADATA = {'author': 'x'}

            def check(candidate):
                assert candidate(1) == 2
                assert True, 'never fails'
                print
                assert candidate([1,
                                  2]) == 3
            """)
        split = split_check(source, "f")
        self.assertEqual(split.snippets, ("assert f(1) == 2", "assert f([1,\n                      2]) == 3"))
        self.assertEqual(split.residual_statements, 0)
        self.assertEqual(split.dropped_asserts, 1)
        self.assertEqual(split.metadata_literal, {"author": "x"})
        self.assertEqual(split.setup_code, "")

    def test_loops_and_locals_stay_together_in_a_residual_snippet(self):
        source = textwrap.dedent("""\
            import math

            def helper(x):
                return x * 2

            def check(candidate):
                assert candidate(3) == helper(3)
                lst = [1, 2]
                assert candidate(lst) == 4
                for x in range(3):
                    assert candidate(x) == 2 * x
            """)
        split = split_check(source, "g")
        self.assertEqual(split.setup_code, "import math\n\ndef helper(x):\n    return x * 2")
        self.assertEqual(split.snippets[0], "assert g(3) == helper(3)")
        self.assertEqual(split.snippets[1], (
            f"def {RESIDUAL_FUNCTION}(candidate):\n"
            "    lst = [1, 2]\n"
            "    assert candidate(lst) == 4\n"
            "    for x in range(3):\n"
            "        assert candidate(x) == 2 * x\n"
            f"\n{RESIDUAL_FUNCTION}(g)\n"))
        self.assertEqual(split.residual_statements, 3)

    def test_missing_check_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "check\\(candidate\\)"):
            split_check("def test(c):\n    assert c(1)\n", "f")


class DocstringTest(unittest.TestCase):
    def test_examples_with_literal_output(self):
        prompt = textwrap.dedent('''\
            def f(x):
                """Doc.
                >>> f(2)  # comment
                4
                >>> f('a')
                'aa'
                >>> print(3)
                3
                >>> f(1)
                multi
                line
                """
            ''')
        # print(3) does not call f; f(1)'s output spans two lines, and `multi` is no literal.
        self.assertEqual(docstring_tests(prompt, "f"), ["assert f(2) == 4", "assert f('a') == 'aa'"])

    def test_contradicted_examples_are_dropped(self):
        kept, dropped = drop_contradicted(["assert m([1]) == 15.0", "assert m([2]) == 2"],
                                          ("assert m([1]) == 8.0", "assert m([3]) == 3"))
        self.assertEqual(kept, ["assert m([2]) == 2"])
        self.assertEqual(dropped, ["assert m([1]) == 15.0"])


class HumanEvalLoaderTest(unittest.TestCase):
    def setUp(self):
        self.tasks = [humaneval_to_task(record) for _, record in iter_humaneval_records(SMALL)]

    def test_docstring_examples_are_public_and_not_hidden(self):
        task = self.tasks[0]
        self.assertEqual(task.task_id, "humaneval/0")
        self.assertEqual(task.starter_code, task.prompt)
        self.assertEqual(task.reference_solution, task.prompt + "    return s + s\n")
        self.assertEqual(task.public_tests, ("assert twice('ab') == 'abab'", "assert twice('') == ''"))
        # candidate('ab') == 'abab' is the same test as the docstring example: not hidden twice.
        self.assertEqual(task.hidden_tests, ("assert twice('xyz') == 'xyzxyz'", "assert twice(\n        'q'\n    ) == 'qq'"))
        self.assertEqual(task.metadata["tests_split"], True)
        self.assertEqual(task.metadata["humaneval_metadata"], {"author": "fixture"})

    def test_without_docstring_tests_the_tests_are_exactly_check(self):
        record = next(record for _, record in iter_humaneval_records(SMALL))
        task = humaneval_to_task(record, docstring_tests_public=False)
        # check() holds 'ab', 'xyz' and 'q'; the docstring's twice('') example is not a test now.
        self.assertEqual(task.public_tests, ("assert twice('ab') == 'abab'",))
        self.assertEqual(task.hidden_tests, ("assert twice('xyz') == 'xyzxyz'", "assert twice(\n        'q'\n    ) == 'qq'"))
        self.assertEqual(task.metadata["public_tests_from"], "first_assert")

    def test_first_assert_is_public_without_examples(self):
        task = self.tasks[1]
        self.assertEqual(task.public_tests, ("assert triple(1) == 3",))
        self.assertEqual(task.hidden_tests[0], "assert triple(-4) == helper_expected(-4)")
        self.assertTrue(task.hidden_tests[1].endswith(f"{RESIDUAL_FUNCTION}(triple)\n"))
        self.assertEqual(task.metadata["tests_split"], "partial")
        self.assertEqual(task.setup_code, "def helper_expected(n):\n    return n + n + n")

    def test_wrong_docstring_example_is_not_public(self):
        task = self.tasks[2]
        self.assertEqual(task.public_tests, ("assert middle([1, 2, 3]) == 2",))
        self.assertEqual(task.metadata["contradicted_docstring_examples"], ["assert middle([5, 6, 7, 8, 9]) == 99"])

    def test_fixture_references_pass_their_tests(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "he.jsonl")
            # the conversion in this process (the script runs as a process in HumanEvalRealDataTest)
            code, _, err = support.run_in_process(support.load_script("prepare_datasets"), "--format", "humaneval",
                                                  "--input", SMALL, "--output", out, "--quiet")
            self.assertEqual(code, 0, err)
            self.assertEqual(run_references(self, out), [])


class HumanEvalRealDataTest(unittest.TestCase):
    def test_convert_twice_identical_validates_and_references_pass(self):
        path = support.data_file(self, "HumanEval.jsonl.gz")
        with tempfile.TemporaryDirectory() as tmp:
            converted, manifest = support.convert_twice(self, tmp, "humaneval", path, "he.jsonl")
            self.assertEqual(manifest["total"], 164)
            self.assertEqual(manifest["method"], "hash")
            references = start_references(converted)  # run while the file is validated
            check = support.run_script("validate_task_schema.py", converted)
            self.assertEqual(reference_failures(self, references), [])
            self.assertEqual(check.returncode, 0, check.stdout)
            self.assertTrue(check.stdout.startswith("valid: 164 task(s)"), check.stdout)


if __name__ == "__main__":
    unittest.main()
