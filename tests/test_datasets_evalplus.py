import support

import json
import math
import tempfile
import unittest
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeself.datasets.evalplus import NOT_NONE_WRAPPER, evalplus_problem, parse_evalplus, retype_mbpp_args
from codeself.datasets.evalplus_tests import MAX_TEST_CHARS, UnmaterialisedTask, build_task, convert_evalplus

SMALL = support.FIXTURES / "datasets_evalplus_small.jsonl"


@dataclass
class Outcome:
    """Stand-in for the sandbox's CallOutcome."""

    ok: bool
    value: Any = None
    error_type: str | None = None
    message: str = ""


def ok(*values):
    return [Outcome(True, value) for value in values]


def problem(task_id="Mbpp/9", entry_point="f", base=([1],), plus=(), atol=0):
    return evalplus_problem({"task_id": task_id, "prompt": '"""\nWrite f.\n"""\n', "entry_point": entry_point,
                             "canonical_solution": f"def {entry_point}(x):\n    return x\n",
                             "base_input": [list(args) for args in base], "plus_input": [list(a) for a in plus],
                             "atol": atol})


class RetypeTest(unittest.TestCase):
    def test_conversions_follow_evalplus(self):
        self.assertEqual(retype_mbpp_args(2, [[3, 4], [5]]), [(3, 4), (5,)])
        self.assertEqual(retype_mbpp_args(63, [[[1, 2], [3, 4]]]), [[(1, 2), (3, 4)]])
        self.assertEqual(retype_mbpp_args(75, [[[1, 2]], 3]), [[(1, 2)], 3])
        self.assertEqual(retype_mbpp_args(106, [[1], [2, 3]]), [[1], (2, 3)])
        # 115: a non-empty list becomes a set, anything else an empty dict (EvalPlus's quirk).
        self.assertEqual(retype_mbpp_args(115, [[[1, 2], [], {"a": {}}]]), [[{1, 2}, {}, {}]])
        self.assertEqual(retype_mbpp_args(124, ["1e-100", "(-0-1j)"]), (1e-100, complex(-0.0, -1.0)))
        self.assertEqual(retype_mbpp_args(252, ["(1+2j)"]), [complex(1, 2)])
        self.assertEqual(retype_mbpp_args(259, [[[1, 2]], [[3]]]), [((1, 2),), ((3,),)])
        self.assertEqual(retype_mbpp_args(278, [[1, [2, 3], 4]]), [(1, (2, 3), 4)])
        self.assertEqual(retype_mbpp_args(307, [[1], 2, 3]), [(1,), 2, 3])
        self.assertEqual(retype_mbpp_args(580, [[1, [2, [3]]]]), ((1, (2, (3,))),))
        self.assertEqual(retype_mbpp_args(722, [{"a": [1, 2]}, 5]), [{"a": (1, 2)}, 5])
        self.assertEqual(retype_mbpp_args(3, [[1, 2]]), [[1, 2]])  # untouched

    def test_parse_fixture(self):
        mbpp2, mbpp793, he4 = list(parse_evalplus(SMALL))
        self.assertEqual(mbpp2.dataset, "mbpp")
        self.assertEqual(mbpp2.base_inputs, ([(3, 4, 5, 6), (5, 7, 4, 10)], [(1, 2, 3, 4), (5, 4, 3, 7)]))
        self.assertEqual(mbpp2.plus_inputs, ([(), ()],))
        self.assertEqual(mbpp793.plus_inputs, ())
        self.assertEqual(mbpp793.notes, ("plus_input is an empty object; read as no inputs",))
        self.assertEqual(he4.dataset, "humaneval")
        self.assertEqual(he4.reference_program, he4.prompt + "    return sum(xs) / len(xs)\n")
        self.assertEqual(he4.atol, 1e-06)

    def test_bad_record_names_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "bad.jsonl")
            path.write_text('{"task_id": "Mbpp/1", "prompt": "", "entry_point": "f"}\n')
            with self.assertRaisesRegex(ValueError, r"bad.jsonl:1: Mbpp/1: not an EvalPlus record: missing canonical_solution"):
                list(parse_evalplus(path))


class BuildTaskTest(unittest.TestCase):
    def test_equality_tests_from_outputs(self):
        task = build_task(problem(base=([1], [2]), plus=([3],)), ok(float("inf"), {1}, set()), public_count=1)
        self.assertEqual(task.task_id, "mbppplus/9")
        self.assertEqual(task.source, "mbppplus")
        self.assertEqual(task.prompt, "Write f.")
        self.assertEqual(task.public_tests, ("assert f(1) == float('inf')",))
        self.assertEqual(task.hidden_tests, ("assert f(2) == {1}", "assert f(3) == set()"))
        # A float output with file atol 0 gets EvalPlus's default float tolerance.
        self.assertEqual(task.metadata["atol"], 1e-6)
        self.assertEqual((task.metadata["base_tests"], task.metadata["plus_tests"]), (2, 1))
        self.assertEqual(task.metadata["test_sets"], {"base": [0, 1], "plus": [2]})

    def test_failures_and_oversized_values_are_recorded(self):
        big = list(range(MAX_TEST_CHARS))
        outcomes = [Outcome(True, 1), Outcome(False, None, "TimeoutError", "slow"), Outcome(True, big)]
        task = build_task(problem(base=([1],), plus=([2], [3])), outcomes)
        self.assertEqual(task.public_tests, ())  # one usable test: it must stay hidden
        self.assertEqual(task.hidden_tests, ("assert f(1) == 1",))
        skipped = task.metadata["unmaterialised_inputs"]
        self.assertEqual(skipped[0], {"input_set": "plus", "index": 0, "reason": "reference failed: TimeoutError: slow"})
        self.assertEqual(skipped[1]["index"], 1)
        self.assertRegex(skipped[1]["reason"], r"test would be \d+ characters")

    def test_nan_scalar_and_container(self):
        task = build_task(problem(base=([1],), plus=([2],)), ok(float("nan"), 1))
        self.assertEqual(task.public_tests, ("assert math.isnan(f(1))",))
        self.assertEqual(task.setup_code, "import math\n")
        task = build_task(problem(base=([1],), plus=([2],)), ok([float("nan")], 1))
        self.assertEqual(task.metadata["unmaterialised_inputs"][0]["reason"], "expected value holds NaN inside a container")

    def test_special_oracles(self):
        any_output = build_task(problem("Mbpp/164", "are_equivalent", base=([1], [2])), ok(True, False))
        self.assertEqual(any_output.hidden_tests, ("are_equivalent(2)",))
        self.assertEqual(any_output.metadata["oracle"], "any_output")
        set_equal = build_task(problem("Mbpp/2", "similar_elements", base=([[1]], [[2]])), ok((1,), (2, 3)))
        self.assertEqual(set_equal.hidden_tests, ("assert set(similar_elements((2,))) == {2, 3}",))
        not_none = problem("Mbpp/787", "text_match_three", base=(["ab"],), plus=(["x"],))
        self.assertEqual(not_none.expected_program[1], NOT_NONE_WRAPPER)
        task = build_task(not_none, ok(True, False))
        self.assertEqual(task.hidden_tests, ("assert _evalplus_not_none(text_match_three('x')) == False",))
        self.assertTrue(task.metadata["all_plus_outputs_none"])
        namespace = {}
        exec(task.setup_code, namespace)
        self.assertEqual([namespace["_evalplus_not_none"](v) for v in (None, False, "m", 0)], [False, False, True, True])

    def test_no_usable_output(self):
        with self.assertRaises(UnmaterialisedTask):
            build_task(problem(base=([1],)), [Outcome(False, None, "UnsupportedValue", "Counter")])
        skipped = []
        tasks = list(convert_evalplus([problem(base=([1],))], lambda p: [Outcome(False, None, "E", "m")],
                                      on_skip=lambda task_id, reason: skipped.append(task_id)))
        self.assertEqual((tasks, skipped), ([], ["mbppplus/9"]))

    def test_convert_fixture_with_in_process_reference(self):
        def compute_expected(p):  # trusted fixture code only
            program, function = p.expected_program
            namespace = {}
            exec(program, namespace)
            return [Outcome(True, namespace[function](*args)) for args in p.all_inputs]

        tasks = list(convert_evalplus(parse_evalplus(SMALL), compute_expected))
        self.assertEqual([t.task_id for t in tasks], ["mbppplus/2", "mbppplus/793", "humanevalplus/4"])
        self.assertEqual(tasks[0].public_tests, ("assert set(similar_elements((3, 4, 5, 6), (5, 7, 4, 10))) == {4, 5}",))
        self.assertEqual(tasks[2].starter_code, tasks[2].prompt)
        self.assertEqual(tasks[2].metadata["atol"], 1e-06)
        for task in tasks:
            namespace = {}
            exec(task.reference_solution + "\n" + task.setup_code, namespace)
            for test in task.public_tests + task.hidden_tests:
                exec(test, dict(namespace))


class EvalPlusScriptTest(unittest.TestCase):
    def test_with_engine_converts_fixture_and_validates(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "out.jsonl")
            result = support.run_script("prepare_datasets.py", "--format", "evalplus", "--input", SMALL,
                                        "--output", out, "--quiet")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, f"wrote 3 tasks to {out} (unassigned 3)\n")
            check = support.run_script("validate_task_schema.py", out)
            self.assertEqual(check.stdout, "valid: 3 task(s) in 1 file(s)\n")
            tasks = [json.loads(line) for line in out.read_text().splitlines()]
        self.assertEqual(tasks[1]["task_id"], "mbppplus/793")
        self.assertEqual(tasks[1]["hidden_tests"], ["assert last([1, 1, 1, 2, 3, 4], 1) == 2"])
        self.assertEqual(tasks[2]["hidden_tests"], ["assert mean([1, 2, 4]) == 2.3333333333333335", "assert mean([0.5]) == 0.5"])


class EvalPlusRealDataTest(unittest.TestCase):
    def test_parse_mbppplus(self):
        path = support.data_file(self, "MbppPlus.jsonl")
        problems = {p.task_id: p for p in parse_evalplus(path)}
        self.assertEqual(len(problems), 399)
        self.assertEqual(problems["Mbpp/793"].plus_inputs, ())
        self.assertIsInstance(problems["Mbpp/2"].base_inputs[0][0], tuple)
        self.assertIsInstance(problems["Mbpp/124"].plus_inputs[0][1], complex)
        self.assertTrue(all(math.isfinite(p.atol) for p in problems.values()))
        self.assertEqual(sorted({p.atol for p in problems.values()}), [0.0, 0.0001])


if __name__ == "__main__":
    unittest.main()
