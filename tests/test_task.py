import support  # noqa: F401

import dataclasses
import unittest

from codeself.datasets.task import PublicTask, Task


def record(**overrides):
    base = {
        "task_id": "example/1", "source": "example", "prompt": "Add two numbers.",
        "entry_point": "add", "starter_code": "", "public_tests": ["assert add(1, 2) == 3"],
        "hidden_tests": ["assert add(2, 2) == 4"], "setup_code": "",
        "reference_solution": "def add(a, b):\n    return a + b\n", "split": "test",
        "metadata": {}, "schema_version": 1,
    }
    base.update(overrides)
    return base


class TaskTest(unittest.TestCase):
    def test_round_trip(self):
        task = Task.from_json(record())
        self.assertEqual(task.to_json(), record())
        self.assertEqual(task.hidden_tests, ("assert add(2, 2) == 4",))

    def test_unknown_fields_are_kept_in_metadata(self):
        task = Task.from_json(record(difficulty="easy"))
        self.assertEqual(task.metadata["extra_fields"], {"difficulty": "easy"})

    def test_missing_and_wrong_type_fields_are_named(self):
        broken = record()
        del broken["hidden_tests"]
        with self.assertRaisesRegex(ValueError, "missing required field.*hidden_tests"):
            Task.from_json(broken)
        with self.assertRaisesRegex(ValueError, "'prompt' must be a string, got int"):
            Task.from_json(record(prompt=3))
        with self.assertRaisesRegex(ValueError, "'split' must be one of"):
            Task.from_json(record(split="dev"))
        with self.assertRaisesRegex(ValueError, "list of strings"):
            Task.from_json(record(hidden_tests=["ok", 3]))

    def test_schema_version_defaults_to_current(self):
        legacy = record()
        del legacy["schema_version"]
        self.assertEqual(Task.from_json(legacy).schema_version, 1)
        with self.assertRaisesRegex(ValueError, "'schema_version' must be an integer"):
            Task.from_json(record(schema_version="1"))

    def test_task_is_frozen(self):
        task = Task.from_json(record())
        with self.assertRaises(dataclasses.FrozenInstanceError):
            task.prompt = "changed"

    def test_public_view_has_no_hidden_fields(self):
        view = Task.from_json(record()).public_view()
        self.assertIsInstance(view, PublicTask)
        names = {f.name for f in dataclasses.fields(view)}
        self.assertNotIn("hidden_tests", names)
        self.assertNotIn("reference_solution", names)
        self.assertEqual(view.public_tests, ("assert add(1, 2) == 3",))


if __name__ == "__main__":
    unittest.main()
