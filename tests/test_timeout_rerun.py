"""A timeout is re-run once under limits measured now before it counts (execution/rerun.py).

The first limit is forced low through the task's stored reference time (as if measured on a
faster or quieter machine): the program times out under it, the reference re-timed now gives
a limit it fits in, and the re-run passes, recording `extra["timeout_rerun"]`. Endless
programs still time out, within a few of their limits.
"""

import unittest
from unittest import mock

import support  # noqa: F401
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution import rerun, runner

# 0.1 s of CPU per call, whatever the load (a wall-clock sleep would not be slowed by it)
BUSY = "import time\ndef f(x):\n    start = time.process_time()\n    while time.process_time() - start < 0.1:\n" \
       "        pass\n    return x + 1\n"
CONFIG = dict(workers=1, timeout_s=2.0, timeout_factor=4.0, timeout_floor_s=0.05, static_scan=False)


def task(reference=BUSY, **metadata):
    return Task(task_id="rerun/f", source="example", prompt="", entry_point="f", starter_code="",
                public_tests=("assert f(1) == 2",), hidden_tests=(), setup_code="", reference_solution=reference,
                split=None, metadata=dict(metadata))


class TimeoutRerunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(**CONFIG))
        cls.addClassCleanup(cls.executor.close)

    def test_a_program_slower_than_a_stale_limit_passes_on_its_rerun(self):
        stale = task(reference_time_s=0.001)  # first limit: the 0.05 s floor, half the 0.1 s it needs
        self.assertEqual(runner.timeouts_for(stale, self.executor.config).tests_s, (0.05,))
        result = self.executor.run(stale, BUSY)
        self.assertEqual(result.status, "passed", result.message)
        record = result.extra["timeout_rerun"]
        self.assertEqual((record["first_status"], record["first_test_timeout_s"], record["limits_from"]),
                         ("timeout", 0.05, "reference"))
        self.assertGreaterEqual(result.extra["test_timeout_s"], 0.4)  # 4 x the re-timed 0.1 s

        with Executor(ExecutionConfig(**CONFIG, rerun_timeouts=False)) as without:
            first = without.run(stale, BUSY)
        self.assertEqual(first.status, "timeout")
        self.assertNotIn("timeout_rerun", first.extra)

    def test_endless_programs_still_time_out(self):
        fixed = task(reference=None, timeout_s=0.1)
        for program in ("def f(x):\n    while True:\n        pass\n", "import time\ndef f(x):\n    time.sleep(60)\n"):
            result = self.executor.run(fixed, program)
            self.assertEqual(result.status, "timeout")
            # re-run only when the machine is slower now, or the program waited for a CPU
            rerun_record = result.extra.get("timeout_rerun")
            if rerun_record is not None:
                self.assertEqual(rerun_record["limits_from"], "slowdown")
                self.assertGreaterEqual(result.extra["test_timeout_s"], 0.1)
            self.assertLess(result.duration_s, 0.1 * 2 * rerun.MAX_SLOWDOWN + 5.0)

    def test_waiting_for_a_cpu_is_told_from_sleeping(self):
        waited = {"cpu_s": 0.03, "run_s": 0.3, "nivcsw": 7}  # a busy loop on a loaded machine
        slept = {"cpu_s": 0.002, "run_s": 0.3, "nivcsw": 0}
        busy = {"cpu_s": 0.29, "run_s": 0.3, "nivcsw": 3}  # a busy loop that had a CPU
        self.assertEqual([rerun.waited_for_cpu(reply) for reply in (waited, slept, busy, {})],
                         [True, False, False, False])

    def test_slowdown_is_wall_over_cpu_time_of_a_fixed_program(self):
        # one 10 s bucket throughout: two calls straddling a bucket's end would measure twice
        with mock.patch.object(rerun, "_bucket", return_value=-1):
            slowdown = self.executor._rerun.slowdown()
            self.assertGreaterEqual(slowdown, 1.0)
            self.assertLessEqual(slowdown, rerun.MAX_SLOWDOWN)
            self.assertEqual(self.executor._rerun.slowdown(), slowdown)  # shared while fresh


if __name__ == "__main__":
    unittest.main()
