import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.datasets.task import Task
from codeself.datasets.validate import (
    Problem, TaskFileValidator, check_compiles, check_hidden_leaks, check_public_hidden_overlap,
    check_reference_leak, check_schema, solution_body, validate_files,
)

GOOD = {"task_id": "v/1", "source": "t", "prompt": "Double a number.", "entry_point": "double", "starter_code": "",
        "public_tests": ["assert double(2) == 4"], "hidden_tests": ["assert double(0) == 0"], "setup_code": "",
        "reference_solution": "def double(x):\n    return 2 * x\n", "split": "train", "metadata": {},
        "schema_version": 1}

# Each bad fixture triggers exactly one problem, on its line 2, with this message.
BAD_FIXTURES = {
    "missing_field": "fx/double: schema: missing required field(s): entry_point",
    "wrong_type": "fx/double: schema: field 'hidden_tests' must be a list, got str",
    "duplicate_id": "fx/negate: duplicate task_id (first seen at {path}:1)",
    "empty_hidden": "fx/double: hidden_tests is empty: every task needs at least one hidden test",
    "test_syntax": "fx/double: hidden_tests[1] does not compile: invalid syntax (line 1)",
    "reference_syntax": "fx/double: reference_solution does not compile: expected ':' (line 1)",
    "hidden_in_prompt": "fx/double: leak: hidden_tests[0] is visible in prompt: its text appears",
    "expected_in_prompt": "fx/double: leak: hidden_tests[0] is visible in prompt: its expected value [20, 40, 60] appears",
    "reference_in_prompt": "fx/double: leak: reference_solution text appears in prompt",
    "hidden_equals_public": "fx/double: leak: hidden_tests[0] duplicates a public test",
    "prompt_two_splits": "fx/double_again: leak: same prompt as fx/negate ({path}:1) but split 'test' vs 'train'",
    "json_line": "?: invalid JSON: Expecting value",
}


def task(**changes):
    return Task.from_json(dict(GOOD, **changes))


class SingleTaskChecksTest(unittest.TestCase):
    def test_good_task_has_no_problem(self):
        good = task()
        self.assertEqual(check_schema(GOOD)[1], [])
        for check in (check_compiles, check_hidden_leaks, check_reference_leak, check_public_hidden_overlap):
            self.assertEqual(check(good), [])

    def test_schema_extras(self):
        self.assertEqual(check_schema(dict(GOOD, entry_point="not valid"))[1],
                         ["schema: field 'entry_point' 'not valid' is not an identifier"])
        self.assertEqual(check_schema(dict(GOOD, schema_version=2))[1],
                         ["schema: schema_version 2 is not supported (expected 1)"])

    def test_setup_code_compiles(self):
        self.assertEqual(check_compiles(task(setup_code="x = (")),
                         ["setup_code does not compile: '(' was never closed (line 1)"])

    def test_hidden_test_in_starter_code(self):
        leaky = task(starter_code="def double(x):\n    # assert double(0) == 0\n")
        self.assertEqual(check_hidden_leaks(leaky), ["leak: hidden_tests[0] is visible in starter_code: its text appears"])

    def test_acknowledged_visible_test_is_exempt(self):
        leaky = task(prompt="Double. assert double(0) == 0", metadata={"hidden_tests_visible_in_prompt": [0]})
        self.assertEqual(check_hidden_leaks(leaky), [])

    def test_solution_body_strips_starter(self):
        # HumanEval style: reference = starter + body; only the body may not appear in the prompt.
        starter = "def double(x):\n    \"\"\"Double.\"\"\"\n"
        humaneval_like = task(prompt=starter, starter_code=starter, reference_solution=starter + "    return 2 * x\n")
        self.assertEqual(solution_body(humaneval_like), "    return 2 * x\n")
        self.assertEqual(check_reference_leak(humaneval_like), [])


class CrossRecordTest(unittest.TestCase):
    def test_acknowledged_duplicate_prompt_is_counted_not_reported(self):
        validator = TaskFileValidator()
        first = dict(GOOD, task_id="v/1", split="train", metadata={"same_prompt_as": ["v/2"]})
        second = dict(GOOD, task_id="v/2", split="test", metadata={"same_prompt_as": ["v/1"]})
        self.assertEqual(validator.check_record("f", 1, first) + validator.check_record("f", 2, second), [])
        self.assertEqual(validator.acknowledged_duplicates, 1)

    def test_same_split_or_unassigned_is_fine(self):
        validator = TaskFileValidator()
        problems = [p for n, split in enumerate(("train", "train", None), start=1)
                    for p in validator.check_record("f", n, dict(GOOD, task_id=f"v/{n}", split=split))]
        self.assertEqual(problems, [])


class BadFixturesTest(unittest.TestCase):
    def test_each_bad_fixture_triggers_its_one_check(self):
        for name, message in BAD_FIXTURES.items():
            path = support.FIXTURES / f"datasets_bad_{name}.jsonl"
            with self.subTest(fixture=name):
                problems = list(validate_files([path]))
                self.assertEqual([p.format() for p in problems], [f"{path}:2: " + message.format(path=path)])

    def test_good_fixture_and_examples_are_valid(self):
        examples = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
        validator = TaskFileValidator()
        self.assertEqual(list(validate_files([support.FIXTURES / "datasets_good_tasks.jsonl", examples], validator)), [])
        self.assertEqual(validator.tasks, 10)

    def test_examples_cover_every_split_and_pass_their_tests(self):
        from test_datasets_humaneval import run_references

        examples = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
        records = [json.loads(line) for line in examples.read_text().splitlines()]
        self.assertEqual({r["split"] for r in records}, {"train", "validation", "test"})
        self.assertTrue(all(r["source"] == "example" for r in records))
        self.assertEqual(run_references(self, examples), [])


class ValidateScriptTest(unittest.TestCase):
    def test_valid_file(self):
        result = support.run_script("validate_task_schema.py", support.FIXTURES / "datasets_good_tasks.jsonl")
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "valid: 2 task(s) in 1 file(s)\n", ""))

    def test_hidden_test_pasted_into_prompt_names_task_and_field(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "leak.jsonl")
            record = dict(GOOD, prompt=GOOD["prompt"] + "\n" + GOOD["hidden_tests"][0])
            path.write_text(json.dumps(record) + "\n")
            result = support.run_script("validate_task_schema.py", path)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, f"{path}:1: v/1: leak: hidden_tests[0] is visible in prompt: its text appears\n")
        self.assertEqual(result.stderr, "validate_task_schema.py: 1 problem(s) in 1 task(s)\n")

    def test_problems_across_files_and_missing_file(self):
        bad = support.FIXTURES / "datasets_bad_empty_hidden.jsonl"
        result = support.run_script("validate_task_schema.py", bad)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout.splitlines(), [Problem(str(bad), 2, "fx/double", BAD_FIXTURES["empty_hidden"].split(": ", 1)[1]).format()])
        missing = support.run_script("validate_task_schema.py", "no/such/file.jsonl")
        self.assertEqual(missing.returncode, 2)
        self.assertEqual(missing.stderr, "validate_task_schema.py: error: no/such/file.jsonl: no such file\n")
        self.assertNotIn("Traceback", missing.stderr)


if __name__ == "__main__":
    unittest.main()
