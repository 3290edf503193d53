"""check_references.py: references must pass, `return None` stubs must fail."""

import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.datasets.task import Task
from codeself.execution.selfcheck import none_stub

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


def task_record(task_id, reference, hidden):
    return {"task_id": task_id, "source": "fixture", "prompt": "p", "entry_point": "f",
            "starter_code": "", "public_tests": [], "hidden_tests": hidden, "setup_code": "",
            "reference_solution": reference, "split": "test", "metadata": {}}


class NoneStubTest(unittest.TestCase):
    def test_stub_overrides_entry_point_but_keeps_helpers(self):
        task = Task.from_json(task_record("x/1", "class Node:\n    pass\ndef f(a):\n    return a\n",
                                          ["assert f(1) == 1"]))
        namespace = {}
        exec(none_stub(task), namespace)
        self.assertIsNone(namespace["f"](1))
        self.assertIn("Node", namespace)


class CheckReferencesScriptTest(unittest.TestCase):
    def test_example_tasks_are_sound(self):
        completed = support.run_script("check_references.py", EXAMPLES, "--workers", "1", "--quiet")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("8 references, failing 0, stubs passing 0", completed.stderr)

    def test_broken_reference_and_weak_tests_are_reported(self):
        records = [
            task_record("x/wrong", "def f(a):\n    return a + 1\n", ["assert f(1) == 1"]),
            task_record("x/weak", "def f(a):\n    print(a)\n", ["assert f(1) is None"]),
            task_record("x/good", "def f(a):\n    return 2 * a\n", ["assert f(2) == 4"]),
        ]
        with tempfile.TemporaryDirectory() as tmp:
            tasks = Path(tmp) / "tasks.jsonl"
            tasks.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            out = Path(tmp) / "checks.jsonl"
            completed = support.run_script("check_references.py", tasks, "--output", out,
                                           "--workers", "1", "--quiet")
            checks = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        self.assertEqual(completed.returncode, 1)
        self.assertIn("x/wrong: reference failed", completed.stdout)
        self.assertIn("x/weak: the return-None stub passes every test", completed.stdout)
        self.assertNotIn("x/good", completed.stdout)
        self.assertEqual([c["task_id"] for c in checks], ["x/wrong", "x/weak", "x/good"])
        self.assertEqual([c["stub_status"] for c in checks], ["failed", "passed", "failed"])

    def test_missing_file_is_one_line(self):
        completed = support.run_script("check_references.py", "nope.jsonl", "--quiet")
        self.assertEqual(completed.returncode, 2)
        self.assertEqual(completed.stderr.strip(), "check_references.py: error: nope.jsonl: no such file")


if __name__ == "__main__":
    unittest.main()
