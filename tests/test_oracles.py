"""EvalPlus's special oracles are judged out of process like every other test.

MBPP+ 737/787/794 accept any non-None result for True (a regex `re.Match`, say) and None for
False; HumanEval+/32 accepts any root of the polynomial. Before, these tests fell back to the
candidate's process, where their expected values were readable.
"""

import support  # noqa: F401

import unittest

from codeself.datasets.evalplus_tests import _HELPERS
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor


def regex_task():
    return Task(task_id="mbppplus/787", source="mbppplus", prompt="", entry_point="text_match_three",
                starter_code="", public_tests=("assert _evalplus_not_none(text_match_three('abbb')) == True",),
                hidden_tests=("assert _evalplus_not_none(text_match_three('ac')) == False",),
                setup_code=_HELPERS["not_none"], reference_solution=None, split=None,
                metadata={"timeout_s": 2.0})


def poly_task():
    return Task(task_id="humanevalplus/32", source="humanevalplus", prompt="", entry_point="find_zero",
                starter_code="", public_tests=(),
                hidden_tests=("assert abs(_evalplus_poly([-2.0, 0.0, 1.0], find_zero([-2.0, 0.0, 1.0]))) <= 1e-06",),
                setup_code=_HELPERS["zero_of_poly"], reference_solution=None, split=None,
                metadata={"timeout_s": 2.0})


class OracleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def run_program(self, task, program):
        result = self.executor.run(task, program)
        self.assertEqual(result.tests_judged_in_process, 0)  # the point: nothing in-process
        return result

    def test_match_object_counts_as_true_and_none_as_false(self):
        program = "import re\ndef text_match_three(text):\n    return re.search('ab{3}', text)\n"
        self.assertEqual(self.run_program(regex_task(), program).status, "passed")

    def test_bool_results_compared_as_bools(self):
        right = "def text_match_three(text):\n    return 'abbb' in text\n"
        inverted = "def text_match_three(text):\n    return 'abbb' not in text\n"
        self.assertEqual(self.run_program(regex_task(), right).status, "passed")
        result = self.run_program(regex_task(), inverted)
        self.assertEqual((result.status, result.public, result.hidden),
                         ("failed", {"passed": 0, "total": 1}, {"passed": 0, "total": 1}))

    def test_any_root_of_the_polynomial_passes(self):
        # x^2 - 2 has roots +-sqrt(2); both must pass, 1.0 must not (|1 - 2| = 1 > 1e-6).
        for root, status in (("2 ** 0.5", "passed"), ("-(2 ** 0.5)", "passed"), ("1.0", "failed")):
            with self.subTest(root=root):
                program = f"def find_zero(xs):\n    return {root}\n"
                self.assertEqual(self.run_program(poly_task(), program).status, status)


if __name__ == "__main__":
    unittest.main()
