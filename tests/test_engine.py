"""Executor behaviour: statuses, phases, counts, timeouts, ordering, threads, call_function."""

import os
import signal
import threading
import time
import unittest

import support  # noqa: F401
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor, assemble_program
from codeself.execution.engine import CallOutcome

EXECUTOR = None


def setUpModule():
    global EXECUTOR
    EXECUTOR = Executor(ExecutionConfig(workers=2, timeout_s=2.0, program_timeout_s=6.0, memory_mb=512,
                                        max_value_bytes=100_000))


def tearDownModule():
    EXECUTOR.close()


def wait_until_dead(pid, limit_s=10.0):
    """Until `pid` is a zombie or gone (its parent, the Executor, reaps it later)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except OSError:
            return
        time.sleep(0.01)


def task(public=("assert add(1, 2) == 3",), hidden=("assert add(2, 2) == 4", "assert add(-1, 1) == 0"),
         setup="", starter="", **metadata):
    return Task(task_id="example/add", source="example", prompt="", entry_point="add", starter_code=starter,
                public_tests=tuple(public), hidden_tests=tuple(hidden), setup_code=setup,
                reference_solution=None, split=None, metadata=dict(metadata))


GOOD = "def add(a, b):\n    return a + b\n"


class StatusTest(unittest.TestCase):
    def test_passing_program(self):
        result = EXECUTOR.run(task(), GOOD)
        self.assertEqual((result.status, result.passed, result.phase), ("passed", True, "done"))
        self.assertEqual(result.public, {"passed": 1, "total": 1})
        self.assertEqual(result.hidden, {"passed": 2, "total": 2})
        self.assertEqual([(t.kind, t.index, t.passed) for t in result.tests],
                         [("public", 0, True), ("hidden", 0, True), ("hidden", 1, True)])
        self.assertEqual(result.isolation, EXECUTOR.isolation)
        self.assertEqual(result.tests_judged_in_process, 0)

    def test_wrong_program_messages(self):
        result = EXECUTOR.run(task(), "def add(a, b):\n    return a - b\n")
        self.assertEqual((result.status, result.passed), ("failed", False))
        self.assertEqual(result.public, {"passed": 0, "total": 1})
        # add(2, 2) -> 0 != 4, add(-1, 1) -> -2 != 0: both hidden tests fail
        self.assertEqual(result.hidden, {"passed": 0, "total": 2})
        self.assertIn("-1", result.tests[0].message)  # public: says what came back
        for outcome in result.tests[1:]:
            self.assertNotIn("4", outcome.message)  # hidden: never the expected value
            self.assertNotIn("add(", outcome.message)

    def test_syntax_error_never_runs(self):
        result = EXECUTOR.run(task(), "def add(a, b)\n    return a + b\n")
        self.assertEqual((result.status, result.phase, result.error_type), ("syntax_error", "syntax", "SyntaxError"))
        self.assertEqual(result.tests, ())
        self.assertEqual(result.hidden, {"passed": 0, "total": 2})

    def test_import_error_and_setup_after_candidate(self):
        result = EXECUTOR.run(task(), "raise ValueError('boom')\n")
        self.assertEqual((result.status, result.phase, result.error_type, result.message),
                         ("import_error", "import", "ValueError", "boom"))
        # setup code may use what the candidate defines (MBPP tasks 367 and 927 do)
        with_setup = task(public=("assert add(K.value, 1) == 8",), hidden=(), setup="K = Box(7)")
        result = EXECUTOR.run(with_setup, GOOD + "class Box:\n    def __init__(self, v):\n        self.value = v\n")
        self.assertTrue(result.passed, result.message)

    def test_fallback_tests_are_counted(self):
        hidden = ("for i in range(3):\n    assert add(i, i) == 2 * i",)
        result = EXECUTOR.run(task(hidden=hidden), GOOD)
        self.assertTrue(result.passed)
        self.assertEqual(result.tests_judged_in_process, 1)
        self.assertTrue(result.tests[1].judged_in_process)

    def test_asserts_survive_a_caller_running_python_O(self):
        """The parent compiles the candidate for the child: under `python -O` that compile
        must still keep the candidate's own asserts, and fallback snippets must still assert."""
        import subprocess
        import sys

        script = (
            "import sys; sys.path.insert(0, sys.argv[1])\n"
            "from codeself.datasets.task import Task\n"
            "from codeself.execution import ExecutionConfig, Executor\n"
            "def task(test):\n"
            "    return Task(task_id='o/f', source='o', prompt='', entry_point='f', starter_code='',\n"
            "                public_tests=(test,), hidden_tests=(), setup_code='', reference_solution=None,\n"
            "                split=None, metadata={'timeout_s': 5})\n"
            "guarded = 'def f(x):\\n    assert x > 0, \"positive only\"\\n    return x\\n'\n"
            "with Executor(ExecutionConfig(workers=1)) as executor:\n"
            "    split = executor.run(task('assert f(-1) == -1'), guarded)\n"
            "    fallback = executor.run(task('for v in (1, 2):\\n    assert f(v) == 0'), 'def f(x):\\n    return x\\n')\n"
            "print(split.status, split.error_type, fallback.status, fallback.tests_judged_in_process)\n")
        completed = subprocess.run([sys.executable, "-O", "-c", script, str(support.REPO_ROOT / "src")],
                                   capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout.split(), ["failed", "AssertionError", "failed", "1"])

    def test_task_without_tests_is_not_a_pass(self):
        result = EXECUTOR.run(task(public=(), hidden=()), GOOD)
        self.assertEqual((result.status, result.passed, result.error_type), ("failed", False, "NoTests"))

    def test_atol_from_task_metadata(self):
        program = "def add(a, b):\n    return a + b\n"
        tests = ("assert add(0.1, 0.2) == 0.3",)  # 0.30000000000000004 != 0.3 exactly
        self.assertFalse(EXECUTOR.run(task(public=tests, hidden=()), program).passed)
        self.assertTrue(EXECUTOR.run(task(public=tests, hidden=(), atol=1e-9), program).passed)

    def test_memory_limit_allows_ordinary_use(self):
        program = "def add(a, b):\n    block = bytearray(100 * 2**20)\n    return a + b + block[0]\n"
        self.assertTrue(EXECUTOR.run(task(), program).passed)


class TimeoutTest(unittest.TestCase):
    def test_per_test_timeout_from_metadata_then_not_run(self):
        program = "import time\ndef add(a, b):\n    if a == 2: time.sleep(30)\n    return a + b\n"
        started = time.monotonic()
        result = EXECUTOR.run(task(timeout_s=0.3), program)
        # not the 30 s sleep: 0.3 s, plus one re-run under 0.3 s x the slowdown measured now (<= x20)
        self.assertLess(time.monotonic() - started, 10.0)
        self.assertEqual((result.status, result.phase), ("timeout", "hidden_tests"))
        self.assertEqual([t.error_type for t in result.tests], [None, "Timeout", "NotRun"])
        self.assertEqual(result.public, {"passed": 1, "total": 1})

    def test_timeout_at_import(self):
        result = EXECUTOR.run(task(timeout_s=0.3), "while True:\n    pass\n")
        self.assertEqual((result.status, result.phase, result.error_type), ("timeout", "import", "Timeout"))

    def test_reference_time_sets_timeout(self):
        config = ExecutionConfig(timeout_floor_s=0.5, timeout_factor=4.0)
        from codeself.execution.runner import test_timeout
        self.assertEqual(test_timeout(task(reference_time_s=0.01), config), 0.5)  # max(0.5, 0.04)
        self.assertEqual(test_timeout(task(reference_time_s=1.0), config), 4.0)  # max(0.5, 4.0)
        self.assertEqual(test_timeout(task(), config), 5.0)  # the config default


class ConcurrencyTest(unittest.TestCase):
    def test_run_many_keeps_input_order(self):
        slow = "import time\ndef add(a, b):\n    time.sleep(0.05)\n    return a + b\n"
        jobs = [(task(), slow if i % 3 == 0 else GOOD if i % 2 == 0 else "def add(a, b): return 0")
                for i in range(12)]
        results = EXECUTOR.run_many(iter(jobs))
        self.assertFalse(isinstance(results, list))  # a lazy iterator, not a list
        expected = [i % 3 == 0 or i % 2 == 0 for i in range(12)]
        self.assertEqual([r.passed for r in results], expected)

    def test_callable_from_many_threads(self):
        outcomes = {}

        def work(index):
            program = GOOD if index % 2 == 0 else "def add(a, b):\n    return a * b\n"
            outcomes[index] = EXECUTOR.run(task(), program).passed

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(outcomes, {i: i % 2 == 0 for i in range(8)})

    def test_forked_copy_of_the_caller_is_refused(self):
        pid = os.fork()
        if pid == 0:  # the forked copy must not talk over the original's pipes
            try:
                EXECUTOR.run(task(), GOOD)
                code = 1
            except RuntimeError:
                code = 0
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertTrue(EXECUTOR.run(task(), GOOD).passed)  # the original still works

    def test_hash_seed_is_fixed_for_reproducibility(self):
        program = "def f():\n    return list({'alpha', 'beta', 'gamma', 'delta', 'eps'})\n"
        first = EXECUTOR.call_function(program, "f", [[]], per_call_timeout_s=2.0)[0].value
        second = EXECUTOR.call_function(program, "f", [[]], per_call_timeout_s=2.0)[0].value
        self.assertEqual(first, second)


    def test_preloaded_random_is_reseeded_in_every_program(self):
        """`random` is imported once in the worker; programs must still not share a sequence."""
        program = "import random\ndef f():\n    return random.getrandbits(64)\n"
        values = {EXECUTOR.call_function(program, "f", [[]], per_call_timeout_s=2.0)[0].value for _ in range(4)}
        self.assertEqual(len(values), 4)

    def test_preloaded_modules_do_not_carry_state_between_programs(self):
        """Modules are imported once in the worker; each program still gets them untouched."""
        spoil = "import math, collections\nmath.pi = 3\ncollections.Counter = None\ndef f():\n    return math.pi\n"
        read = "import math, collections\ndef f():\n    return [math.pi, collections.Counter is None]\n"
        self.assertEqual(EXECUTOR.call_function(spoil, "f", [[]], per_call_timeout_s=2.0)[0].value, 3)
        for _ in range(2 * EXECUTOR.config.workers):  # reaches every worker
            outcome = EXECUTOR.call_function(read, "f", [[]], per_call_timeout_s=2.0)[0]
            self.assertEqual(outcome.value, [3.141592653589793, False])


class StopAtFirstFailureTest(unittest.TestCase):
    """ExecutionConfig.stop_at_first_failure: the parent judges answers as they stream and
    stops the program at its first failed test; verdicts never change, only how much runs."""

    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1, timeout_s=2.0, stop_at_first_failure=True))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def slow_task(self):
        tests = tuple(f"assert add({i}, 0) == {i}" for i in range(30))
        return task(public=tests[:2], hidden=tests[2:])

    def test_stops_after_the_first_failed_test(self):
        wrong_at_3 = "import time\ndef add(a, b):\n    time.sleep(0.02)\n    return -1 if a == 3 else a + b\n"
        result = self.executor.run(self.slow_task(), wrong_at_3)
        self.assertEqual((result.status, result.passed, result.phase), ("failed", False, "hidden_tests"))
        self.assertEqual(result.error_type, "AssertionError")
        self.assertEqual([t.passed for t in result.tests[:4]], [True, True, True, False])
        not_run = [t for t in result.tests if t.error_type == "NotRun"]
        self.assertGreaterEqual(len(not_run), 20)  # 26 remain; a few may have answered before the stop
        self.assertTrue(all(not t.passed for t in not_run))
        self.assertIn("stopped at the first failed test", result.message)
        self.assertEqual(result.public, {"passed": 2, "total": 2})
        self.assertEqual(result.hidden["total"], 28)
        full = EXECUTOR.run(self.slow_task(), wrong_at_3)  # the shared executor runs every test
        self.assertEqual((full.status, full.hidden), ("failed", {"passed": 27, "total": 28}))

    def test_passing_and_other_outcomes_are_unchanged(self):
        slow_task = self.slow_task()
        self.assertEqual(self.executor.run(slow_task, GOOD).hidden, {"passed": 28, "total": 28})
        for program in ("def add(a, b)\n", "import no_such_module_here\n", "def add(a, b):\n    while True:\n        pass\n",
                        "def add(a, b):\n    raise ValueError('no')\n"):
            with self.subTest(program=program):
                quick = task(timeout_s=0.2)
                stopped, full = self.executor.run(quick, program), EXECUTOR.run(quick, program)
                self.assertEqual((stopped.status, stopped.passed), (full.status, full.passed))
        self.assertTrue(self.executor.run(slow_task, GOOD).passed)  # the worker is still in step

    def test_a_late_stop_is_not_taken_for_the_next_job(self):
        """A stop that reaches the worker after its run has finished must be skipped."""
        from codeself.execution import worker

        read_fd, write_fd = os.pipe()
        import marshal
        import struct

        for message in ({"stop": True}, {"stop": True}, {"program": "x = 1"}):
            body = marshal.dumps(message)
            os.write(write_fd, struct.pack(">I", len(body)) + body)
        os.close(write_fd)
        try:
            self.assertEqual(worker._read_job(read_fd), {"program": "x = 1"})
            self.assertIsNone(worker._read_job(read_fd))
        finally:
            os.close(read_fd)


class CallFunctionTest(unittest.TestCase):
    def test_values_come_back_typed(self):
        program = "def f(x, y):\n    return (x, set(y), {x: y})\n"
        outcomes = EXECUTOR.call_function(program, "f", [[1, [2, 3]], [(4,), (5,)]], per_call_timeout_s=2.0)
        self.assertEqual([o.value for o in outcomes], [(1, {2, 3}, {1: [2, 3]}), ((4,), {5}, {(4,): (5,)})])
        self.assertTrue(all(o.ok and o.error_type is None for o in outcomes))

    def test_slow_call_times_out_and_later_calls_still_run(self):
        program = "import time\ndef f(x):\n    if x == 2: time.sleep(30)\n    return x * 10\n"
        outcomes = EXECUTOR.call_function(program, "f", [[1], [2], [3]], per_call_timeout_s=0.3)
        self.assertEqual([(o.ok, o.value, o.error_type) for o in outcomes],
                         [(True, 10, None), (False, None, "Timeout"), (True, 30, None)])

    def test_huge_value_is_reported_not_returned(self):
        program = "def f(n):\n    return ['x' * 100] * n\n"  # 10,000 x ~100 bytes > 100,000 limit
        big, small = EXECUTOR.call_function(program, "f", [[10_000], [2]], per_call_timeout_s=2.0)
        self.assertEqual((big.ok, big.error_type), (False, "ValueTooLarge"))
        self.assertEqual(small.value, ["x" * 100] * 2)

    def test_errors_and_import_failures(self):
        outcomes = EXECUTOR.call_function("def f(x):\n    return 1 // x\n", "f", [[0], [1]], per_call_timeout_s=2.0)
        self.assertEqual([(o.ok, o.error_type) for o in outcomes], [(False, "ZeroDivisionError"), (True, None)])
        broken = EXECUTOR.call_function("import nosuchmodule_xyz\n", "f", [[0], [1]], per_call_timeout_s=2.0)
        self.assertEqual([o.error_type for o in broken], ["ModuleNotFoundError"] * 2)
        self.assertIsInstance(broken[0], CallOutcome)


class RecoveryTest(unittest.TestCase):
    def test_dead_worker_is_replaced(self):
        with Executor(ExecutionConfig(workers=1, timeout_s=2.0)) as executor:
            pid = executor.worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            wait_until_dead(pid)
            first = executor.run(task(), GOOD)
            self.assertEqual((first.status, first.error_type), ("runtime_error", "ProcessDied"))
            self.assertTrue(executor.run(task(), GOOD).passed)
        with self.assertRaises(RuntimeError):
            executor.run(task(), GOOD)


class WorkerStopTest(unittest.TestCase):
    def test_every_worker_and_its_sandbox_is_gone_after_close(self):
        executor = Executor(ExecutionConfig(workers=2, timeout_s=2.0))
        pids = executor.worker_pids()
        self.assertEqual(len(set(pids)), 2)
        executor.close()
        for pid in pids:
            with self.assertRaises(ProcessLookupError):  # exited and reaped, not a zombie
                os.kill(pid, 0)

    def test_wait_exit_wakes_on_the_exit_and_times_out_otherwise(self):
        import subprocess
        import sys

        from codeself.execution.worker_handle import _wait_exit

        quick = subprocess.Popen([sys.executable, "-c", "pass"])
        _wait_exit(quick, 30.0)
        self.assertEqual(quick.returncode, 0)
        _wait_exit(quick, 30.0)  # reaped already: returns at once
        stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            with self.assertRaises(subprocess.TimeoutExpired):
                _wait_exit(stuck, 0.05)
            self.assertIsNone(stuck.returncode)
        finally:
            stuck.kill()
            stuck.wait()


class AssembleProgramTest(unittest.TestCase):
    def test_keys_in_order_of_precedence(self):
        t = task(starter="def add(a, b):\n")
        self.assertEqual(assemble_program(t, {"completion": "    return a + b\n"}), "def add(a, b):\n    return a + b\n")
        self.assertEqual(assemble_program(t, {"solution": "S", "code": "C", "completion": "X"}), "S")
        self.assertEqual(assemble_program(t, {"code": "C", "completion": "X"}), "C")
        self.assertEqual(assemble_program(t, {"code": None, "completion": "X"}), "def add(a, b):\nX")
        with self.assertRaisesRegex(ValueError, "none of"):
            assemble_program(t, {"task_id": "x"})

    def test_config_validation(self):
        with self.assertRaisesRegex(ValueError, "sandbox must be one of"):
            ExecutionConfig(sandbox="docker-ish")
        with self.assertRaisesRegex(ValueError, "workers"):
            ExecutionConfig(workers=0)


if __name__ == "__main__":
    unittest.main()
