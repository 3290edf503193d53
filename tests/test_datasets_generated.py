"""The generated task distribution (`prepare_datasets.py --format generated`) and rule 9 of the validator."""

import support

import json
import re
import tempfile
import unittest
from collections import Counter, defaultdict
from pathlib import Path

from codeself.datasets.generated import (
    FAMILIES, HELDOUT_FAMILY_NAMES, HELDOUT_SPLIT, OPENERS, GeneratorConfig, family_table, generate_tasks,
    reveals, write_generated,
)
from codeself.datasets.task import SPLITS
from codeself.datasets.validate import TaskFileValidator, masked_prompt, validate_files
from codeself.jsonl import dumps_record

NEAR_DUPLICATE_FIXTURE = support.FIXTURES / "datasets_bad_near_duplicate.jsonl"
SMALL = GeneratorConfig(seed=0, train=40, validation=8, test=16, test_heldout_families=16)


class DefaultDistributionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tasks = list(generate_tasks(GeneratorConfig()))

    def test_counts_and_record_shape(self):
        self.assertEqual(Counter(task.split for task in self.tasks),
                         {"train": 320, "validation": 64, "test": 128, HELDOUT_SPLIT: 96})
        self.assertEqual(len({task.task_id for task in self.tasks}), len(self.tasks))
        for task in self.tasks:
            family = task.metadata["family"]
            self.assertRegex(task.task_id, rf"^gen/{family}/\d+$")
            self.assertEqual((task.source, task.starter_code, task.setup_code), ("generated", "", ""))
            self.assertEqual(len(task.public_tests), 1)
            self.assertGreaterEqual(len(task.hidden_tests), 3)
            self.assertIn(f"`{task.entry_point}(", task.prompt)

    def test_held_out_families_only_in_their_split(self):
        families = defaultdict(set)
        for task in self.tasks:
            families[task.split].add(task.metadata["family"])
        self.assertEqual(families[HELDOUT_SPLIT], set(HELDOUT_FAMILY_NAMES))
        practice = {family.name for family in FAMILIES} - set(HELDOUT_FAMILY_NAMES)
        self.assertGreaterEqual(len(practice), 30)
        for split in ("train", "validation", "test"):
            self.assertEqual(families[split], practice, split)

    def test_template_pairs_never_cross_splits(self):
        splits_of = defaultdict(set)
        for task in self.tasks:
            template = task.metadata["template"]
            splits_of[(task.metadata["family"], template["opener"], template["description"])].add(task.split)
        self.assertEqual([key for key, splits in splits_of.items() if len(splits) > 1], [])

    def test_file_validates_without_problem_or_warning(self):
        validator = TaskFileValidator()
        problems = [problem for line, task in enumerate(self.tasks, start=1)
                    for problem in validator.check_record("gen.jsonl", line, task.to_json())]
        self.assertEqual((problems, validator.warnings), ([], []))

    def test_hidden_expected_values_not_in_prompt(self):
        for task in self.tasks:
            for test in task.hidden_tests:
                expected = eval(test.split(" == ", 1)[1], {})  # the generator writes `assert call == literal`
                self.assertFalse(reveals(test, expected, task.prompt), (task.task_id, test))

    def test_sampled_references_pass_and_none_stubs_fail(self):
        for task in self.tasks[::7]:
            with self.subTest(task=task.task_id):
                namespace = {}
                exec(task.reference_solution, namespace)
                for test in task.public_tests + task.hidden_tests:
                    exec(test, namespace)  # raises AssertionError on a wrong expected value
                stub = {task.entry_point: lambda *args: None}
                failures = 0
                for test in task.public_tests + task.hidden_tests:
                    try:
                        exec(test, dict(stub))
                    except AssertionError:
                        failures += 1
                self.assertGreater(failures, 0)


class GeneratorUnitsTest(unittest.TestCase):
    def test_same_seed_same_bytes_other_seed_other_bytes(self):
        with tempfile.TemporaryDirectory() as tmp:
            paths = [Path(tmp, name) for name in ("a.jsonl", "b.jsonl", "c.jsonl")]
            for path, seed in zip(paths, (0, 0, 1)):
                write_generated(path, GeneratorConfig(**{**SMALL.__dict__, "seed": seed}))
            a, b, c = (path.read_bytes() for path in paths)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_a_split_depends_only_on_its_own_count(self):
        # Task i of a split is drawn from Random(f"{seed}:{split}:{i}:{attempt}"): more train
        # tasks do not change the test tasks (ids may shift, prompts and tests do not).
        def test_split(config):
            return [(t.prompt, t.hidden_tests) for t in generate_tasks(config) if t.split == "test"]
        bigger = GeneratorConfig(**{**SMALL.__dict__, "train": 60})
        self.assertEqual(test_split(SMALL), test_split(bigger))

    def test_bad_counts_are_refused(self):
        for bad in (-1, True, 2.5):
            with self.assertRaisesRegex(ValueError, "the count of split 'train' must be an integer >= 0"):
                GeneratorConfig(train=bad)

    def test_masked_prompt_worked_example(self):
        # Backticked spans and the entry point -> <id>; numbers -> <n>; lower case; spaces collapsed.
        self.assertEqual(masked_prompt("Write `add_k(xs)` that adds  3 to each of `xs`.", "add_k"),
                         "write <id> that adds <n> to each of <id>.")
        # The entry point is masked where it is called or defined, not as a plain word.
        self.assertEqual(masked_prompt("def gcd (a, b): gcd of 2.5 items", "gcd"), "def <id>(a, b): gcd of <n> items")

    def test_descriptions_stay_distinct_after_masking(self):
        # The template partition keeps each family's masked prompts in one split; this makes
        # sure no two families (or two descriptions) can share a masked prompt either.
        seen = {}
        for family in FAMILIES:
            for index, description in enumerate(family.descriptions):
                key = masked_prompt(re.sub(r"\$\w+", "X", description), "")
                self.assertNotIn(key, seen, (family.name, index))
                seen[key] = (family.name, index)
        self.assertGreaterEqual(len(OPENERS), 3)

    def test_family_table_in_docs_matches_code(self):
        doc = (support.REPO_ROOT / "docs" / "generated_tasks.md").read_text(encoding="utf-8")
        self.assertIn(family_table(), doc)


class NearDuplicateRuleTest(unittest.TestCase):
    def test_hand_made_cross_split_near_duplicate_is_a_problem(self):
        problems = [p.format() for p in validate_files([NEAR_DUPLICATE_FIXTURE])]
        path = NEAR_DUPLICATE_FIXTURE
        self.assertEqual(problems, [f"{path}:2: fx/plus_five: leak: near-duplicate prompt of fx/add_three ({path}:1) "
                                    "but split 'test' vs 'train': equal once names and numbers are masked"])

    def test_without_opt_in_it_is_a_warning(self):
        validator = TaskFileValidator()
        records = [json.loads(line) for line in NEAR_DUPLICATE_FIXTURE.read_text().splitlines()]
        problems = [p for line, record in enumerate(records, start=1)
                    for p in validator.check_record("f", line, dict(record, metadata={}))]
        self.assertEqual(problems, [])
        self.assertEqual([w.task_id for w in validator.warnings], ["fx/plus_five"])

    def test_same_split_is_fine(self):
        validator = TaskFileValidator()
        records = [json.loads(line) for line in NEAR_DUPLICATE_FIXTURE.read_text().splitlines()]
        problems = [p for line, record in enumerate(records, start=1)
                    for p in validator.check_record("f", line, dict(record, split="train"))]
        self.assertEqual((problems, validator.warnings), ([], []))


class PrepareGeneratedScriptTest(unittest.TestCase):
    def test_generate_with_counts_and_manifest(self):
        with tempfile.TemporaryDirectory() as tmp:
            out, manifest = Path(tmp, "gen.jsonl"), Path(tmp, "gen.manifest.json")
            result = support.run_script("prepare_datasets.py", "--format", "generated", "--seed", "3",
                                        "--train", "12", "--validation", "4", "--test", "4",
                                        "--test-heldout-families", "8", "--output", out, "--manifest", manifest,
                                        "--quiet")
            self.assertEqual((result.returncode, result.stderr), (0, ""))
            data = json.loads(manifest.read_text())
            overlap_lines = [f"{split}: {o['same_reference_solution']} of {o['tasks']} tasks have a train task's "
                             f"reference solution, {o['sharing_an_assert']} share an assert with train "
                             f"({o['sharing_a_hidden_assert']} a hidden one)"
                             for split in SPLITS if split in data["overlap_with_train"]
                             for o in [data["overlap_with_train"][split]]]
            self.assertEqual(result.stdout.splitlines(),
                             [f"wrote 28 tasks to {out} (train 12, validation 4, test 4, test_heldout_families 8)",
                              *overlap_lines, f"wrote split manifest to {manifest}"])
            expected = list(generate_tasks(GeneratorConfig(seed=3, train=12, validation=4, test=4,
                                                           test_heldout_families=8)))
            self.assertEqual(out.read_text().splitlines(), [dumps_record(t.to_json()) for t in expected])
            check = support.run_script("validate_task_schema.py", out)
        self.assertEqual((data["format"], data["method"], data["seed"], data["input"]),
                         ("generated", "generated", 3, {"file": None, "sha256": None}))
        self.assertEqual(check.stdout, "valid: 28 task(s) in 1 file(s)\n")

    def test_bad_combinations_are_one_line_errors(self):
        cases = {
            ("--format", "generated", "--train", "-1"):
                "the count of split 'train' must be an integer >= 0, got -1",
            ("--format", "generated", "--input", "x.jsonl"):
                "--format generated takes no --input: tasks come from --seed and the split counts "
                "(--train, --validation, --test, --test-heldout-families)",
            ("--format", "mbpp", "--input", "x.jsonl", "--test", "5"): "--test: only with --format generated",
            ("--format", "mbpp", "--input", "x.jsonl", "--generator-version", "2"):
                "--generator-version: only with --format generated",
            ("--format", "humaneval"): "--format humaneval needs --input",
        }
        with tempfile.TemporaryDirectory() as tmp:
            for args, message in cases.items():
                with self.subTest(args=args):
                    result = support.run_script("prepare_datasets.py", *args, "--output", Path(tmp, "o.jsonl"))
                    self.assertEqual((result.returncode, result.stdout), (2, ""))
                    self.assertEqual(result.stderr, f"prepare_datasets.py: error: {message}\n")
            self.assertFalse(Path(tmp, "o.jsonl").exists())


if __name__ == "__main__":
    unittest.main()
