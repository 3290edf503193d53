import random
import unittest
from collections import Counter

import support  # noqa: F401

from codeself.agents.backends import BackendOptions, GenerationRequest, MockBackend, MockConfig, create_backend
from codeself.agents.backends.mock import MAX_SCREENED_MUTANTS, task_solve_probability
from codeself.agents.backends.mutations import (Mutation, add_infinite_loop, break_syntax, mutate,
                                                mutation_candidates)
from codeself.agents.parsing import compiles, parse_completion
from codeself.datasets.task import Task
from codeself.execution.engine import ExecutionConfig, Executor

REFERENCE = ("def count_small(xs, limit):\n    \"\"\"Count items below limit.\"\"\"\n    total = 0\n"
             "    for x in xs:\n        if x < limit:\n            total += 1\n    return total\n")


def make_task(number: int, reference: str = REFERENCE) -> Task:
    return Task(task_id=f"example/{number}", source="example", prompt="Count.", entry_point="count_small",
                starter_code="", public_tests=("assert count_small([1, 5], 3) == 1",),
                hidden_tests=("assert count_small([], 3) == 0",), setup_code="",
                reference_solution=reference, split="test", metadata={})


def run_reference(code: str, *args):
    namespace: dict = {}
    exec(compile(code, "<test>", "exec"), namespace)  # noqa: S102 - our own literal reference
    return namespace["count_small"](*args)


class MutationTest(unittest.TestCase):
    def test_mutations_change_the_program_and_keep_it_compiling(self):
        descriptions = set()
        for seed in range(40):
            mutation = mutate(REFERENCE, random.Random(seed))
            self.assertTrue(compiles(mutation.code), mutation)
            self.assertNotIn("\"\"\"Count items", mutation.description)
            descriptions.add(mutation.description.split()[0])
        # every kind of mutation occurs on this reference
        self.assertEqual(descriptions, {"compare", "off_by_one", "wrong_constant"})

    def test_compare_mutation_is_applied_where_described(self):
        # the only comparison is `x < limit`: Lt -> LtE makes count_small([3], 3) count 3
        for seed in range(60):
            mutation = mutate(REFERENCE, random.Random(seed))
            if mutation.description.startswith("compare"):
                self.assertEqual(mutation.description, "compare Lt->LtE at line 5")
                self.assertEqual(run_reference(mutation.code, [3], 3), 1)
                self.assertEqual(run_reference(REFERENCE, [3], 3), 0)
                return
        self.fail("no compare mutation in 60 seeds")

    def test_while_loops_only_get_loop_safe_condition_mutations(self):
        code = "def f(n):\n    i = 0\n    while i < n and i != 99:\n        i += 1\n    return i\n"
        seen = set()
        for seed in range(40):
            description = mutate(code, random.Random(seed)).description
            self.assertNotIn("line 4", description)  # the loop body (the step) is never touched
            self.assertNotIn("NotEq", description)  # `!=` in a condition could loop forever
            seen.add(description)
        self.assertIn("compare Lt->LtE at line 3", seen)
        self.assertTrue(any(d.startswith("off_by_one 99->") and d.endswith("line 3") for d in seen), seen)

    def test_program_without_sites_loses_a_statement(self):
        code = "def f(xs):\n    \"\"\"Doc.\"\"\"\n    out = sorted(xs)\n    return out\n"
        mutation = mutate(code, random.Random(0))
        self.assertEqual(mutation, Mutation('def f(xs):\n    """Doc."""\n    return out\n',
                                            "dropped the statement at line 3"))

    def test_no_site_falls_back_to_return_none(self):
        mutation = mutate("def f(x):\n    return x\n", random.Random(0))
        self.assertEqual(mutation.code, "def f(x):\n    return None\n")

    def test_candidates_start_with_mutate_and_are_distinct_mutants(self):
        for seed in range(30):
            candidates = list(mutation_candidates(REFERENCE, random.Random(seed)))
            self.assertEqual(candidates[0], mutate(REFERENCE, random.Random(seed)))
            codes = [candidate.code for candidate in candidates]
            self.assertEqual(len(set(codes)), len(codes))
            self.assertNotIn(REFERENCE, codes)
            self.assertTrue(all(compiles(code) for code in codes))

    def test_candidates_of_a_small_program(self):
        # sites: `x + 1` (Add->Sub), the constant 1 (off by one: 0 or 2; wrong constant 1*2+3 = 5);
        # then the one droppable statement `y = x + 1`; then the body replaced by `return None`
        code = "def f(x):\n    y = x + 1\n    return y\n"
        candidates = list(mutation_candidates(code, random.Random(7)))
        self.assertEqual(len(candidates), 5)
        second_lines = {candidate.code.split("\n")[1] for candidate in candidates[:3]}
        self.assertEqual(second_lines - {"    y = x + 0", "    y = x + 2"}, {"    y = x - 1", "    y = x + 5"})
        self.assertEqual(candidates[3:], [
            Mutation("def f(x):\n    return y\n", "dropped the statement at line 2"),
            Mutation("def f(x):\n    return None\n", "no mutable site: body replaced by `return None`")])

    def test_break_syntax_never_compiles(self):
        for seed in range(10):
            self.assertFalse(compiles(break_syntax(REFERENCE, random.Random(seed)).code))

    def test_infinite_loop_goes_after_the_docstring(self):
        looped = add_infinite_loop(REFERENCE, "count_small")
        self.assertIn('"""Count items below limit."""\n    while True:\n        pass\n    total = 0', looped)
        self.assertEqual(add_infinite_loop("x = 1\n", "missing"), "while True:\n    pass\nx = 1\n")


class MockBackendTest(unittest.TestCase):
    def generate(self, backend, tasks, indices=(0, 1, 2, 3), seed=0):
        return backend.generate([GenerationRequest(task, "", tuple(indices), seed) for task in tasks])

    def test_deterministic_and_independent_of_batching(self):
        tasks = [make_task(i) for i in range(6)]
        together = self.generate(MockBackend(), tasks)
        apart = [self.generate(MockBackend(), [task], indices=(index,))[0][0]
                 for task in tasks for index in range(4)]
        self.assertEqual([g for batch in together for g in batch], apart)
        self.assertNotEqual(self.generate(MockBackend(), tasks, seed=1), together)

    def test_variants_parse_as_labelled(self):
        tasks = [make_task(i) for i in range(60)]
        seen = Counter()
        for task, generations in zip(tasks, self.generate(MockBackend(), tasks)):
            for generation in generations:
                variant = generation.metadata["mock_variant"]
                parsed = parse_completion(generation.completion, "", "count_small", mode=generation.parse_mode)
                seen[variant] += 1
                if variant == "correct":
                    self.assertEqual(run_reference(parsed.code, [1, 2, 5], 3), 2)
                    self.assertIn(parsed.parse_status, ("ok", "multiple_blocks"))
                elif variant == "syntax_error":
                    self.assertEqual(parsed.parse_status, "syntax_error")
                elif variant == "prose":
                    self.assertEqual(parsed.parse_status, "no_code")
                elif variant == "infinite_loop":
                    self.assertIn("while True:\n        pass", parsed.code)
                else:
                    self.assertEqual(variant, "mutated")
                    self.assertNotEqual(parsed.code, REFERENCE)
        self.assertEqual(set(seen), {"correct", "mutated", "syntax_error", "prose", "infinite_loop"})

    def test_correct_fraction_knob(self):
        for fraction in (0.2, 0.8):
            backend = create_backend("mock", BackendOptions(mock_correct_fraction=fraction))
            variants = [backend.choose_variant(f"example/{task}", index, 0) for task in range(300) for index in range(4)]
            share = variants.count("correct") / len(variants)
            self.assertAlmostEqual(share, fraction, delta=0.07)  # 1200 samples in 300 task clusters: sd ~0.02
            failures = Counter(v for v in variants if v != "correct")
            # failure weights 0.6 / 0.15 / 0.15 / 0.1 of the failures
            self.assertAlmostEqual(failures["mutated"] / sum(failures.values()), 0.6, delta=0.08)

    def test_higher_fraction_is_a_paired_improvement(self):
        low, high = MockBackend(MockConfig(correct_fraction=0.3)), MockBackend(MockConfig(correct_fraction=0.7))
        pairs = [(low.choose_variant(f"t/{task}", index, 0), high.choose_variant(f"t/{task}", index, 0))
                 for task in range(100) for index in range(4)]
        self.assertFalse(any(a == "correct" and b != "correct" for a, b in pairs))  # never correct -> wrong
        self.assertGreater(sum(a != "correct" and b == "correct" for a, b in pairs), 80)  # E = 0.4 * 400

    def test_extremes(self):
        tasks = [make_task(i) for i in range(10)]
        for fraction, expected in ((0.0, False), (1.0, True)):
            backend = MockBackend(MockConfig(correct_fraction=fraction))
            variants = {g.metadata["mock_variant"] == "correct" for b in self.generate(backend, tasks) for g in b}
            self.assertEqual(variants, {expected})

    def test_solve_probability_formula(self):
        # F = 0.5 -> exponent 1 -> p = u; F = 0.8 -> exponent 0.25 -> 0.0625 ** 0.25 = 0.5
        self.assertEqual(task_solve_probability(0.5, 0.3), 0.3)
        self.assertAlmostEqual(task_solve_probability(0.8, 0.0625), 0.5)
        self.assertEqual(task_solve_probability(0.0, 0.9), 0.0)

    def test_needs_full_task_with_reference(self):
        backend = MockBackend()
        with self.assertRaisesRegex(TypeError, "needs the full Task"):
            self.generate(backend, [make_task(0).public_view()])
        with self.assertRaisesRegex(ValueError, "example/0 has none"):
            self.generate(backend, [make_task(0, reference=None)])

    def test_config_validation(self):
        with self.assertRaisesRegex(ValueError, r"in \[0, 1\]"):
            MockConfig(correct_fraction=1.5)
        with self.assertRaisesRegex(ValueError, "unknown mock failure variant"):
            MockConfig(failure_weights={"wrong": 1.0})
        self.assertEqual(MockBackend().config()["mock"]["correct_fraction"], 0.5)


# `x * 2` -> `x + 2` is an equivalent mutant on these tests (2 + 2 == 4, an int); every
# other mutant of `scale` (2 -> 1, 3 or 7; `return None`) fails the public test.
SCALE = "def scale(x):\n    return x * 2\n"
# On an empty list every mutant passes both tests: `>` -> `>=`, 0 -> -1/1/2, the dropped loop
# and `return None` all return None without touching anything.
ADD_BONUS = ("def add_bonus(scores, bonus):\n    for i in range(len(scores)):\n"
             "        if scores[i] > 0:\n            scores[i] += bonus\n")
ALL_MUTATED = MockConfig(correct_fraction=0.0, failure_weights={"mutated": 1.0})


def weak_task(name: str, reference: str, public: str, hidden: str) -> Task:
    return Task(task_id=f"weak/{name}", source="example", prompt="Weakly tested.", entry_point=name,
                starter_code="", public_tests=(public,), hidden_tests=(hidden,), setup_code="",
                reference_solution=reference, split="test", metadata={})


def passes_scale_tests(code: str) -> bool:
    namespace: dict = {}
    exec(compile(code, "<test>", "exec"), namespace)  # noqa: S102 - our own literal mutants
    return namespace["scale"](2) == 4 and isinstance(namespace["scale"](3), int)


class ScreeningTest(unittest.TestCase):
    """The mock with a real sandbox attached: `mutated` samples are mutants that fail."""

    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1, timeout_s=2.0, program_timeout_s=6.0))
        cls.scale = weak_task("scale", SCALE, "assert scale(2) == 4", "assert isinstance(scale(3), int)")
        cls.add_bonus = weak_task("add_bonus", ADD_BONUS, "assert add_bonus([], 5) is None",
                                  "assert add_bonus([], 0) is None")

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def generate(self, backend, task, seed=0, count=24):
        return backend.generate([GenerationRequest(task, "", tuple(range(count)), seed)])[0]

    def screened(self, config=ALL_MUTATED):
        backend = MockBackend(config)
        backend.attach_executor(self.executor)
        return backend

    def test_equivalent_mutants_are_skipped(self):
        plain = self.generate(MockBackend(ALL_MUTATED), self.scale)
        screened = self.generate(self.screened(), self.scale)
        self.assertEqual({g.metadata["mock_screened"] for g in plain}, {False})
        self.assertEqual({g.metadata["mock_screened"] for g in screened}, {True})
        self.assertEqual({g.metadata["mock_variant"] for g in screened}, {"mutated"})
        for before, after in zip(plain, screened):
            code = parse_completion(after.completion, "", "scale").code
            self.assertFalse(passes_scale_tests(code), code)
            if before.metadata["mock_mutation"] != "arith Mult->Add at line 2":
                self.assertEqual(after.completion, before.completion)  # failing first mutants unchanged
        # the unscreened mock emitted the equivalent mutant for some samples (E = 24 / 4 = 6)
        self.assertTrue(any(passes_scale_tests(parse_completion(g.completion, "", "scale").code) for g in plain))

    def test_no_failing_mutant_falls_back_to_an_honest_label(self):
        backend = self.screened()
        for generation in self.generate(backend, self.add_bonus, count=6):
            self.assertEqual(generation.metadata["mock_variant"], "syntax_error")
            self.assertEqual(generation.metadata["mock_fallback"], "no failing mutant")
            self.assertTrue(generation.metadata["mock_screened"])
            parsed = parse_completion(generation.completion, "", "add_bonus")
            self.assertEqual(parsed.parse_status, "syntax_error")
        # 5 mutants, plus the other direction of the off-by-one: 6 distinct programs at most
        self.assertLessEqual(backend.screen.executions, 6)
        self.assertLessEqual(backend.screen.executions, MAX_SCREENED_MUTANTS)
        plain = self.generate(MockBackend(ALL_MUTATED), self.add_bonus, count=6)
        self.assertEqual({g.metadata["mock_variant"] for g in plain}, {"mutated"})

    def test_verdicts_are_cached_and_outputs_deterministic(self):
        backend = self.screened()
        first = self.generate(backend, self.scale, seed=5)
        executions = backend.screen.executions
        self.assertGreater(executions, 0)
        self.assertEqual(self.generate(backend, self.scale, seed=5), first)
        self.assertEqual(backend.screen.executions, executions)  # every verdict came from the cache
        self.assertEqual(self.generate(self.screened(), self.scale, seed=5), first)  # a fresh cache agrees

    def test_detaching_stops_screening(self):
        backend = self.screened()
        backend.attach_executor(None)
        self.assertIsNone(backend.screen)
        self.assertEqual(self.generate(backend, self.scale), self.generate(MockBackend(ALL_MUTATED), self.scale))


class RegistryTest(unittest.TestCase):
    def test_unknown_backend_lists_valid_names(self):
        with self.assertRaisesRegex(ValueError, "unknown backend 'gpt'; choose one of: hf, mock, openai, policy, static"):
            create_backend("gpt")


if __name__ == "__main__":
    unittest.main()
