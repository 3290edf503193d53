"""The version-2 held-out families (`generated_families_v2`): references, prompts, leaks, inputs."""

import support

import random
import re
import unittest

from codeself.datasets.generated import (
    FAMILIES, HELDOUT_FAMILY_NAMES, HELDOUT_SPLIT, MIN_TESTS, OPENERS, Draw, generate_split, make_task, reveals,
    run_reference,
)
from codeself.datasets.generated_families_v2 import V2_HELDOUT_FAMILIES
from codeself.datasets.validate import TaskFileValidator, masked_prompt

BY_NAME = {family.name: family for family in V2_HELDOUT_FAMILIES}
DRAWS = 30  # draws per family, seeds 0..29
TASKS_PER_FAMILY = 12  # what version 2 asks of each held-out family

# (family, constants, arguments, expected), each worked out by hand from the description.
WORKED_EXAMPLES = (
    ("rotate_left", {"k": 3}, ([1, 2, 3, 4, 5],), [4, 5, 1, 2, 3]),
    ("rotate_left", {"k": 3}, ([1, 2],), [2, 1]),  # three single rotations of a 2-list = one
    ("rotate_left", {"k": 1}, ([],), []),
    ("chunk_list", {"k": 2}, ([1, 2, 3, 4, 5],), [[1, 2], [3, 4], [5]]),
    ("chunk_list", {"k": 4}, ([],), []),
    ("count_occurrences", {}, (["a", "b", "a"],), {"a": 2, "b": 1}),
    ("gcd", {}, (12, 18), 6),
    ("gcd", {}, (0, 5), 5),
    ("gcd", {}, (7, 0), 7),
    ("is_prime", {}, (2,), True),
    ("is_prime", {}, (13,), True),
    ("is_prime", {}, (1,), False),
    ("is_prime", {}, (9,), False),
    ("is_prime", {}, (-3,), False),
    ("alternate_case", {}, ("ab cD",), "Ab cD"),  # indices 0 'a' -> 'A', 3 'c' stays, 4 'D' stays
    ("alternate_case", {}, ("XYZ",), "XyZ"),
    ("run_length_encode", {}, ("aabccc",), [("a", 2), ("b", 1), ("c", 3)]),
    ("run_length_encode", {}, ("",), []),
    ("unzip_pairs", {}, ([("x", 1), ("y", 2)],), (["x", "y"], [1, 2])),
    ("unzip_pairs", {}, ([],), ([], [])),
    ("index_of_max", {}, ([3, 9, 2, 9],), 1),
    ("interleave", {}, ([1, 2, 3], [7]), [1, 7, 2, 3]),
    ("interleave", {}, ([], [4, 5]), [4, 5]),
)


def all_pairs(family):
    return [(opener, desc) for opener in range(len(OPENERS)) for desc in range(len(family.descriptions))]


def draws(family):
    """The tasks of DRAWS seeded draws (None for a rejected draw), as the generator makes them."""
    return [make_task(family, HELDOUT_SPLIT, all_pairs(family), random.Random(seed), 0) for seed in range(DRAWS)]


def split_test(test):
    """`assert call == literal` (the generator's form) -> (call, expected value)."""
    call, literal = test[len("assert "):].split(" == ", 1)
    return call, eval(literal, {})


def failures(namespace, tests):
    """How many of `tests` fail (AssertionError) against the functions in `namespace`."""
    count = 0
    for test in tests:
        try:
            exec(test, dict(namespace))
        except AssertionError:
            count += 1
    return count


class FamilyDeclarationTest(unittest.TestCase):
    def test_ten_new_families(self):
        names = [family.name for family in V2_HELDOUT_FAMILIES]
        self.assertEqual(len(names), 10)
        self.assertEqual(len(set(names)), 10)
        self.assertEqual(set(names) & {family.name for family in FAMILIES}, set())
        self.assertEqual(set(names) & set(HELDOUT_FAMILY_NAMES), set())

    def test_names_and_descriptions_give_variety(self):
        for family in V2_HELDOUT_FAMILIES:
            with self.subTest(family=family.name):
                self.assertGreaterEqual(len(family.function_names), 3)
                self.assertGreaterEqual(len(family.descriptions), 2)
                for choices in family.arg_names:
                    self.assertGreaterEqual(len(choices), 3)
                # Argument names are drawn independently, so two arguments must never share a choice.
                flat = [name for choices in family.arg_names for name in choices]
                self.assertEqual(len(flat), len(set(flat)))

    def test_descriptions_stay_distinct_after_masking(self):
        # No two descriptions of any family, version 1 or 2, may share a masked prompt.
        seen = {}
        for family in FAMILIES + V2_HELDOUT_FAMILIES:
            for index, description in enumerate(family.descriptions):
                key = masked_prompt(re.sub(r"\$\w+", "X", description), "")
                self.assertNotIn(key, seen, (family.name, index))
                seen[key] = (family.name, index)

    def test_references_match_worked_examples(self):
        self.assertEqual({example[0] for example in WORKED_EXAMPLES}, set(BY_NAME))
        for name, params, args, expected in WORKED_EXAMPLES:
            with self.subTest(family=name, args=args):
                family = BY_NAME[name]
                arg_names = tuple(choices[0] for choices in family.arg_names)
                chosen = Draw(family, (0, 0), "f", arg_names, params)
                self.assertEqual(run_reference(chosen.solution(), "f", [args]), [expected])


class FamilyDrawsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tasks = {family.name: draws(family) for family in V2_HELDOUT_FAMILIES}

    def test_most_draws_accepted_and_prompts_vary(self):
        for name, tasks in self.tasks.items():
            with self.subTest(family=name):
                accepted = [task for task in tasks if task is not None]
                self.assertGreaterEqual(len(accepted), DRAWS * 4 // 5)
                self.assertGreaterEqual(len({task.prompt for task in accepted}), 16)

    def test_tests_are_many_distinct_and_hidden(self):
        for name, tasks in self.tasks.items():
            for task in filter(None, tasks):
                with self.subTest(family=name, prompt=task.prompt):
                    tests = task.public_tests + task.hidden_tests
                    self.assertGreaterEqual(len({split_test(test)[0] for test in tests}), MIN_TESTS)
                    self.assertIn(f"`{task.entry_point}(", task.prompt)
                    for test in task.hidden_tests:
                        self.assertFalse(reveals(test, split_test(test)[1], task.prompt), test)

    def test_references_pass_and_simple_stubs_fail(self):
        for name, tasks in self.tasks.items():
            for task in filter(None, tasks):
                with self.subTest(family=name, prompt=task.prompt):
                    namespace = {}
                    exec(task.reference_solution, namespace)
                    tests = task.public_tests + task.hidden_tests
                    self.assertEqual(failures(namespace, tests), 0)
                    # Hidden expected values differ, so one remembered answer cannot pass them all;
                    # returning None or the first argument unchanged fails too.
                    self.assertGreaterEqual(len({repr(split_test(t)[1]) for t in task.hidden_tests}), 2)
                    for stub in (lambda *args: None, lambda *args: args[0]):
                        self.assertGreater(failures({task.entry_point: stub}, tests), 0)

    def test_same_draw_same_task(self):
        family = V2_HELDOUT_FAMILIES[0]
        again = make_task(family, HELDOUT_SPLIT, all_pairs(family), random.Random(0), 0)
        self.assertEqual(again.to_json(), self.tasks[family.name][0].to_json())


class HeldOutSplitTest(unittest.TestCase):
    def test_twelve_tasks_per_family_validate(self):
        # The version-2 held-out split: version 1's held-out families plus these, 12 tasks each.
        families = tuple(f for f in FAMILIES if f.name in HELDOUT_FAMILY_NAMES) + V2_HELDOUT_FAMILIES
        partitions = {family.name: {HELDOUT_SPLIT: all_pairs(family)} for family in families}
        tasks = list(generate_split(HELDOUT_SPLIT, TASKS_PER_FAMILY * len(families), families, partitions, 0))
        validator = TaskFileValidator()
        problems = [problem for line, task in enumerate(tasks, start=1)
                    for problem in validator.check_record("gen.jsonl", line,
                                                          dict(task.to_json(), task_id=f"gen/{line}"))]
        self.assertEqual((problems, validator.warnings), ([], []))
        counts = {}
        for task in tasks:
            counts[task.metadata["family"]] = counts.get(task.metadata["family"], 0) + 1
        self.assertEqual(counts, {family.name: TASKS_PER_FAMILY for family in families})


if __name__ == "__main__":
    unittest.main()
