"""Version 2 of the generated distribution: 18 held-out families, and validation/test kept apart from train.

The overlap is recomputed here from the task records alone (ast-normalised solutions and asserts), so
the test does not trust the generator's own bookkeeping.
"""

import support

import ast
import json
import tempfile
import unittest
from collections import Counter, defaultdict
from pathlib import Path

from codeself.datasets.generated import (
    HELDOUT_FAMILY_NAMES, HELDOUT_SPLIT, GeneratorConfig, distribution, generate_tasks, name_partition,
    write_generated,
)
from codeself.datasets.validate import TaskFileValidator


def normalised(code):
    return ast.unparse(ast.parse(code))


def overlap_with_train(tasks):
    """split -> (tasks with a train task's solution, tasks sharing an assert with train), recomputed."""
    train = [t for t in tasks if t.split == "train"]
    solutions = {normalised(t.reference_solution) for t in train}
    asserts = {normalised(a) for t in train for a in t.public_tests + t.hidden_tests}
    counts = defaultdict(lambda: [0, 0])
    for task in tasks:
        if task.split != "train":
            counts[task.split][0] += normalised(task.reference_solution) in solutions
            counts[task.split][1] += any(normalised(a) in asserts for a in task.public_tests + task.hidden_tests)
    return {split: tuple(pair) for split, pair in counts.items()}


class Version2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tasks = list(generate_tasks(GeneratorConfig(version=2)))

    def test_counts_families_and_ids(self):
        self.assertEqual(Counter(t.split for t in self.tasks),
                         {"train": 320, "validation": 64, "test": 128, HELDOUT_SPLIT: 216})
        heldout = Counter(t.metadata["family"] for t in self.tasks if t.split == HELDOUT_SPLIT)
        self.assertGreaterEqual(len(heldout), 16)
        self.assertEqual(set(heldout.values()), {12})
        self.assertTrue(set(HELDOUT_FAMILY_NAMES) < set(heldout))
        practised = {t.metadata["family"] for t in self.tasks if t.split != HELDOUT_SPLIT}
        self.assertEqual(len(practised), 36)
        self.assertFalse(practised & set(heldout))
        self.assertTrue(all(t.task_id.startswith("gen2/") and t.metadata["generator_version"] == 2
                            for t in self.tasks))

    def test_no_evaluation_task_repeats_a_train_solution_or_assert(self):
        self.assertEqual(overlap_with_train(self.tasks),
                         {"validation": (0, 0), "test": (0, 0), HELDOUT_SPLIT: (0, 0)})

    def test_the_kept_function_name_never_appears_in_train(self):
        for family in distribution(2).practice_families():
            kept = name_partition(family, 0)["test"]
            self.assertEqual(len(kept), 1)
            self.assertNotIn(kept[0], name_partition(family, 0)["train"])
        train_names = {(t.metadata["family"], t.entry_point) for t in self.tasks if t.split == "train"}
        eval_names = {(t.metadata["family"], t.entry_point) for t in self.tasks if t.split in ("validation", "test")}
        self.assertFalse(train_names & eval_names)

    def test_file_validates_without_problem_or_warning(self):
        validator = TaskFileValidator()
        problems = [problem for line, task in enumerate(self.tasks, start=1)
                    for problem in validator.check_record("gen2.jsonl", line, task.to_json())]
        self.assertEqual((problems, validator.warnings), ([], []))


class OverlapManifestTest(unittest.TestCase):
    def test_both_versions_record_the_overlap_they_have(self):
        """Version 1's test split shares solutions and asserts with train (41 and 117 of 128, as
        issue 16 counted); the manifest says so, and version 2's says 0."""
        for version, test_overlap in ((1, (41, 117)), (2, (0, 0))):
            with self.subTest(version=version), tempfile.TemporaryDirectory() as tmp:
                config = GeneratorConfig(version=version)
                manifest = write_generated(Path(tmp, "t.jsonl"), config, manifest_path=Path(tmp, "m.json"))
                self.assertEqual(json.loads(Path(tmp, "m.json").read_text()), manifest)
                recomputed = overlap_with_train(list(generate_tasks(config)))
                self.assertEqual(recomputed["test"], test_overlap)
                for split, (same_solution, sharing) in recomputed.items():
                    entry = manifest["overlap_with_train"][split]
                    self.assertEqual((entry["same_reference_solution"], entry["sharing_an_assert"]),
                                     (same_solution, sharing))
                self.assertEqual(manifest["generator"]["version"], version)
                self.assertEqual(len(manifest["generator"]["heldout_families"]), {1: 8, 2: 18}[version])

    def test_script_flag_and_bad_version(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "v2.jsonl")
            result = support.run_script("prepare_datasets.py", "--format", "generated", "--generator-version", "2",
                                        "--train", "36", "--validation", "8", "--test", "8",
                                        "--test-heldout-families", "18", "--output", out, "--quiet")
            self.assertEqual((result.returncode, result.stderr), (0, ""))
            self.assertIn("test: 0 of 8 tasks have a train task's reference solution, 0 share an assert", result.stdout)
            bad = support.refusal("prepare_datasets.py", "--format", "generated", "--generator-version", "3",
                                  "--output", Path(tmp, "x.jsonl"))  # in this process: refused by argparse
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--generator-version: invalid choice: 3", bad.stderr)
        self.assertEqual(len(bad.stderr.strip().splitlines()[-1:]), 1)


if __name__ == "__main__":
    unittest.main()


class TrainOverlapTest(unittest.TestCase):
    def test_hand_made_overlaps_are_counted_whatever_the_layout_and_order(self):
        from codeself.datasets.splits import TrainOverlap
        from codeself.datasets.task import Task

        def task(split, solution, public, hidden):
            return Task(task_id=f"t/{split}", source="t", prompt="p", entry_point="f", starter_code="",
                        public_tests=public, hidden_tests=hidden, setup_code="", reference_solution=solution,
                        split=split, metadata={})
        train = task("train", "def f(x):\n    return x+1\n", ("assert f(1) == 2",), ("assert f(0)==1",))
        # same code with other spacing; a hidden assert equal to train's up to layout
        twin = task("test", "def f(x):  return (x + 1)", ("assert f(5) == 6",), ("assert f( 0 ) == 1",))
        # shares only a public assert (train's public one), other code
        public_only = task("test", "def f(x):\n    return 1 + x\n", ("assert f(1) == 2",), ("assert f(7) == 8",))
        apart = task("validation", "def f(x):\n    return x - -1\n", ("assert f(2) == 3",), ("assert f(3) == 4",))
        overlap = TrainOverlap()
        for item in (twin, public_only, apart, train):  # train last: counted at the end, not on the fly
            overlap.add(item)
        self.assertEqual(overlap.counts(), {
            "test": {"tasks": 2, "same_reference_solution": 1, "sharing_an_assert": 2, "sharing_a_hidden_assert": 1},
            "validation": {"tasks": 1, "same_reference_solution": 0, "sharing_an_assert": 0,
                           "sharing_a_hidden_assert": 0}})
        self.assertEqual([overlap.repeats_train(t) for t in (twin, public_only, apart)], [True, True, False])
