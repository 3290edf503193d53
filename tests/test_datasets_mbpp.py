import support

import tempfile
import unittest

from test_datasets_humaneval import reference_failures, start_references

from codeself.datasets.mbpp import iter_mbpp_records, mbpp_official_split, mbpp_to_task, normalise_newlines

SMALL = support.FIXTURES / "datasets_mbpp_small.jsonl"
SANITIZED = support.FIXTURES / "datasets_mbpp_sanitized_small.json"


def load(path, **options):
    return [mbpp_to_task(record, **options) for _, record in iter_mbpp_records(path)]


class MbppLoaderTest(unittest.TestCase):
    def test_original_format(self):
        first, linked, sorted_task = load(SMALL)
        self.assertEqual(first.task_id, "mbpp/3")
        self.assertEqual(first.source, "mbpp")
        self.assertEqual(first.entry_point, "add_nums")
        self.assertEqual(first.prompt, "Write a function to add two numbers.")
        self.assertEqual(first.starter_code, "")
        # \r\n becomes \n, tabs are kept as they are.
        self.assertEqual(first.reference_solution, "def add_nums(a, b):\n\treturn a + b")
        self.assertEqual(first.public_tests, ("assert add_nums(1, 2) == 3",))
        self.assertEqual(first.hidden_tests, ("assert add_nums(-1, 1) == 0", "assert add_nums(0, 0) == 0"))
        self.assertEqual(first.metadata["challenge_tests"], ["assert add_nums(10 ** 20, 1) == 10 ** 20 + 1"])
        self.assertEqual(linked.setup_code, "chain = Cell(Cell(Cell()))\nsingle = Cell()")
        self.assertEqual(linked.metadata["extra_fields"], {"annotator": "fixture"})
        # Task 700 repeats a test: it is kept once and the removal is recorded.
        self.assertEqual(sorted_task.public_tests, ("assert is_sorted([1, 2, 3]) == True",))
        self.assertEqual(sorted_task.hidden_tests, ("assert math.isclose(len([is_sorted([3, 1])]), 1)",))
        self.assertEqual(sorted_task.metadata["duplicate_tests_removed"], 1)

    def test_challenge_tests_as_hidden(self):
        first = load(SMALL, include_challenge=True)[0]
        self.assertEqual(first.hidden_tests[-1], "assert add_nums(10 ** 20, 1) == 10 ** 20 + 1")
        self.assertNotIn("challenge_tests", first.metadata)

    def test_public_count_keeps_one_hidden(self):
        first = load(SMALL, public_count=3)[0]
        self.assertEqual(len(first.public_tests), 2)
        self.assertEqual(first.hidden_tests, ("assert add_nums(0, 0) == 0",))
        self.assertEqual(load(SMALL, public_count=0)[0].public_tests, ())

    def test_sanitized_format(self):
        (task,) = load(SANITIZED)
        self.assertEqual(task.task_id, "mbpp/12")
        self.assertEqual(task.prompt, "Write a function to return the square root of a number rounded to 2 places.")
        self.assertEqual(task.entry_point, "root2")
        self.assertEqual(task.setup_code, "import math")
        self.assertEqual(task.metadata["extra_fields"], {"source_file": "fixture"})

    def test_bad_records(self):
        with self.assertRaisesRegex(ValueError, "task_id must be an integer"):
            mbpp_to_task({"text": "t", "code": "def f(): pass", "task_id": "x", "test_list": ["assert f()"]})
        with self.assertRaisesRegex(ValueError, "empty test_list"):
            mbpp_to_task({"text": "t", "code": "def f(): pass", "task_id": 1, "test_list": []})
        with self.assertRaisesRegex(ValueError, "string fields 'text' \\(or 'prompt'\\) and 'code'"):
            mbpp_to_task({"text": "t", "task_id": 1, "test_list": ["assert f()"]})

    def test_newlines(self):
        self.assertEqual(normalise_newlines("a\r\nb\rc\n"), "a\nb\nc\n")

    def test_official_split_boundaries(self):
        tasks = load(SMALL)  # ids 3, 367, 700
        self.assertEqual([mbpp_official_split(t) for t in tasks], ["prompt", "test", "train"])


class MbppRealDataTest(unittest.TestCase):
    def test_script_twice_is_byte_identical_and_validates(self):
        path = support.data_file(self, "mbpp.jsonl")
        with tempfile.TemporaryDirectory() as tmp:
            converted, manifest = support.convert_twice(self, tmp, "mbpp", path, "mbpp.codeself.jsonl")
            counts = manifest["counts"]
            self.assertEqual(counts, {"prompt": 10, "test": 500, "validation": 90, "train": 374})
            # Every reference solution passes its own converted public and hidden tests (checked
            # while the file is validated). mbpp/123 (amicable numbers below 9999) alone takes ~5 s
            # of CPU, so it is left out here.
            references = start_references(converted, ("mbpp/123",))
            # the validation as main() in this process (the script runs as a process in test_datasets_humaneval)
            code, out, err = support.run_in_process(support.load_script("validate_task_schema"), converted)
            self.assertEqual(reference_failures(self, references), [])
            self.assertEqual(code, 0, out + err)
            self.assertRegex(out, r"^valid: 974 task\(s\) in 1 file\(s\); 3 acknowledged cross-split")


if __name__ == "__main__":
    unittest.main()
