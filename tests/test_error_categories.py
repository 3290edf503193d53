"""Error categories: each one pinned by a program that produces it in the real sandbox.

Every category of `codeself.execution.errors.ERROR_CATEGORIES` has a program here (or, for the
two that no candidate program can produce on demand, the parent-side input that does), run
through `Executor.run`, plus the pure mapping and the loading of records written before the
field existed.
"""

import unittest

import support  # noqa: F401
from codeself.agents.parsing import parse_completion
from codeself.agents.pipeline import not_executed_result
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution import runner
from codeself.execution.errors import (ERROR_CATEGORIES, category_of, error_category, error_category_counts,
                                       exception_category, lcb_error_code)
from codeself.execution.result import ExecutionResult

EXECUTOR = None


def setUpModule():
    global EXECUTOR
    # One worker, no calibration, 0.5 s per test: the timeout program costs half a second (the
    # others end in milliseconds; a load-slowed run is rerun before its timeout counts).
    EXECUTOR = Executor(ExecutionConfig(workers=1, timeout_s=0.5, program_timeout_s=4.0, memory_mb=256,
                                        calibrate_timeouts=False, max_value_bytes=10_000))


def tearDownModule():
    EXECUTOR.close()


TASK = Task(task_id="example/f", source="example", prompt="", entry_point="f", starter_code="",
            public_tests=("assert f(2) == 4",), hidden_tests=("assert f(3) == 9",), setup_code="",
            reference_solution=None, split=None, metadata={})

# category -> (program, expected phase, expected LiveCodeBench code)
PROGRAMS = {
    "syntax": ("def f(x)\n    return x * x\n", "syntax", -1),
    "import": ("import no_such_module_anywhere\ndef f(x):\n    return x * x\n", "import", -1),
    "reference": ("def f(x):\n    return undefined_name * x\n", "done", -4),  # every test ran and failed
    "type_value": ("def f(x):\n    return x + 'a'\n", "done", -4),
    "index_key": ("def f(x):\n    return [][x]\n", "done", -4),
    "arithmetic": ("def f(x):\n    return x // 0\n", "done", -4),
    "wrong_answer": ("def f(x):\n    return x + x + 1\n", "done", -2),
    "timeout": ("def f(x):\n    while True:\n        pass\n", "public_tests", -3),
    "resource": ("def f(x):\n    return f(x)\n", "done", -4),  # RecursionError in every test
    "crash": ("def f(x):\n    raise SystemExit(1)\n", "done", -4),  # os._exit is blocked by the scan
    "other": ("def f(x):\n    raise RuntimeError('no')\n", "done", -4),
    "blocked": ("import ctypes\ndef f(x):\n    return x * x\n", "syntax", None),
}


class CategoryThroughTheSandboxTest(unittest.TestCase):
    def test_each_program_gets_its_category(self):
        for category, (program, phase, code) in PROGRAMS.items():
            with self.subTest(category=category):
                result = EXECUTOR.run(TASK, program)
                self.assertEqual((result.error_category, result.phase, result.lcb_error_code),
                                 (category, phase, code), (result.status, result.error_type, result.message))

    def test_passing_program_has_no_category(self):
        result = EXECUTOR.run(TASK, "def f(x):\n    return x * x\n")
        self.assertEqual((result.status, result.error_category, result.lcb_error_code), ("passed", None, None))

    def test_memory_error_is_resource(self):
        result = EXECUTOR.run(TASK, "def f(x):\n    return len(bytearray(10 ** 12))\n")
        self.assertEqual((result.status, result.error_category), ("memory_error", "resource"))

    def test_module_level_failures_are_livecodebench_compilation_errors(self):
        cases = {"reference": "print(undefined_name)\ndef f(x):\n    return x * x\n",
                 "crash": "import sys\nsys.exit(3)\n",
                 "wrong_answer": "def f(x):\n    return x\nassert f(2) == 4\n"}  # the candidate's own example
        for category, program in cases.items():
            with self.subTest(category=category):
                result = EXECUTOR.run(TASK, program)
                self.assertEqual((result.status, result.error_category, result.lcb_error_code),
                                 ("import_error", category, -1))

    def test_no_code_is_not_executed(self):
        parsed = parse_completion("I cannot help with that.", "", "f")
        result = not_executed_result(TASK, parsed, EXECUTOR.isolation)
        self.assertEqual((parsed.parse_status, result.error_category, result.lcb_error_code),
                         ("no_code", "no_code", None))

    def test_sandbox_error_from_the_workers_reply(self):
        # No candidate can make the sandbox fail on demand: the parent's verdict path is fed the
        # reply a failed sandbox sends.
        plan = runner.plan_run(TASK, "def f(x):\n    return x * x\n", EXECUTOR.config)
        result = runner.build_result(plan, {"outcome": "sandbox", "detail": "mount failed"})
        self.assertEqual((result.status, result.error_category, result.lcb_error_code),
                         ("sandbox_error", "sandbox_error", -5))

    def test_a_process_that_dies_mid_tests_is_a_crash(self):
        # os._exit / os.kill are refused by the static scan, so the reply of a child killed by
        # SIGSEGV after its import answer stands in for a program that crashes the interpreter.
        plan = runner.plan_run(TASK, "def f(x):\n    return x * x\n", EXECUTOR.config)
        result = runner.build_result(plan, {"outcome": "died", "signal": 11, "answers": ['{"ok": true}']})
        self.assertEqual((result.status, result.error_type, result.error_category, result.lcb_error_code),
                         ("runtime_error", "SIGSEGV", "crash", -4))

    def test_every_category_is_pinned(self):
        pinned = set(PROGRAMS) | {"no_code", "sandbox_error"}
        self.assertEqual(pinned, set(ERROR_CATEGORIES))


class MappingTest(unittest.TestCase):
    def test_exception_names_follow_their_builtin_base(self):
        self.assertEqual(exception_category("ModuleNotFoundError"), "import")
        self.assertEqual(exception_category("UnicodeDecodeError"), "type_value")  # a ValueError
        self.assertEqual(exception_category("UnboundLocalError"), "reference")  # a NameError
        self.assertEqual(exception_category("RecursionError"), "resource")  # before its base RuntimeError
        self.assertEqual(exception_category("KeyboardInterrupt"), "other")
        self.assertEqual(exception_category("MyOwnError"), "other")
        self.assertEqual(exception_category("UnsupportedValue"), "wrong_answer")
        self.assertEqual(exception_category("SIGSEGV"), "crash")
        self.assertEqual(exception_category(None), "other")

    def test_status_decides_before_the_error_type(self):
        # a candidate naming its exception "Timeout" in a failed test is not a timeout
        self.assertEqual(error_category("failed", "done", "Timeout", {}), "other")
        self.assertEqual(error_category("timeout", "hidden_tests", "Timeout", {}), "timeout")
        self.assertEqual(error_category("runtime_error", "public_tests", "signal 99", {}), "crash")
        self.assertEqual(error_category("runtime_error", "public_tests", "SIGXFSZ", {}), "resource")
        self.assertEqual(error_category("failed", "done", "NoTests", {}), "other")
        self.assertIsNone(error_category("passed", "done", None, {}))

    def test_livecodebench_codes(self):
        self.assertEqual(lcb_error_code("timeout", "import"), -3)
        self.assertEqual(lcb_error_code("type_value", "import"), -1)
        self.assertEqual(lcb_error_code("wrong_answer", "hidden_tests"), -2)
        self.assertIsNone(lcb_error_code("blocked", "syntax"))


OLD_RECORD = {  # an execution result as written before error_category existed
    "status": "failed", "passed": False, "phase": "done", "public": {"passed": 0, "total": 1},
    "hidden": {"passed": 1, "total": 1},
    "tests": [{"kind": "public", "index": 0, "passed": False, "error_type": "IndexError",
               "message": "list index out of range", "judged_in_process": False},
              {"kind": "hidden", "index": 0, "passed": True, "error_type": None, "message": "",
               "judged_in_process": False}],
    "tests_judged_in_process": 0, "isolation": "rlimits", "error_type": "IndexError",
    "message": "1 of 2 tests failed", "duration_s": 0.1, "cpu_time_s": 0.0, "peak_rss_kb": 0,
    "stdout_tail": "", "stderr_tail": "", "blocked_reason": None, "extra": {}}


class OldRecordsTest(unittest.TestCase):
    def test_from_json_derives_the_missing_fields(self):
        result = ExecutionResult.from_json(OLD_RECORD)
        self.assertEqual((result.error_category, result.lcb_error_code), ("index_key", -4))
        again = ExecutionResult.from_json(result.to_json())  # stored values are recomputed, not passed in
        self.assertEqual(again, result)

    def test_counts_of_mixed_old_and_new_records(self):
        new = EXECUTOR.run(TASK, "def f(x):\n    return x * x\n")
        records = [{"execution": OLD_RECORD}, {"execution": new.to_json()}, new]
        counts = error_category_counts(records)
        self.assertEqual(list(counts), ["passed", *ERROR_CATEGORIES])
        # OLD_RECORD: IndexError -> index_key; the passing result twice (as a record and as an object)
        self.assertEqual({k: v for k, v in counts.items() if v}, {"passed": 2, "index_key": 1})

    def test_a_stored_category_outside_the_list_is_refused(self):
        with self.assertRaisesRegex(ValueError, "not one of"):
            category_of({"execution": {**OLD_RECORD, "error_category": "oops"}})
        with self.assertRaisesRegex(ValueError, "contradicts"):
            category_of({"execution": {**OLD_RECORD, "error_category": None}})


if __name__ == "__main__":
    unittest.main()
