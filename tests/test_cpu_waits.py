"""Time a program waits for a CPU is added to its limits as it runs (execution/supervise.py).

This test process, and so the workers it starts and their programs, is kept on one CPU
for the module, beside one CPU-burning process of our own there (it ends by itself within a
minute, and is killed by PID when the test ends). So a program gets half that CPU whatever
the machine's other CPUs do: the scheduler cannot move either away, and the burner leads a
session of its own (efficiency_bench.cpu_burners), so a kernel that shares the CPU between
sessions (autogroup) splits it between the workers' session and the burner's. A program
that needs 0.2 s of CPU then needs about 0.4 s of wall time: under a fixed 0.3 s limit it
passes only when its waits are credited, which the result records. (Burners spread over
both CPUs gave a program anywhere from a third to a whole CPU, by how the scheduler placed
them and grouped the sessions: at a third, an endless loop's credit reaches its bound,
MAX_STRETCH, and the loop is re-run; with a whole one, nothing waits.) An endless loop
still times out, having had its limit in CPU, and is not run again (rerun.py). A sleeping
program gets no credit (it never waits for a CPU). The kernel's counter is read through a
procfs the candidate never sees: a candidate finds no directory among its descriptors.
Checked on both sandbox levels and on an ordinary user's path.
"""

import json
import os
import time
import unittest

import support

from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.efficiency_bench import cpu_burners
from codeself.execution.supervise import MAX_STRETCH, run_queue_counters

BUSY = "import time\ndef f(x):\n    start = time.process_time()\n    while time.process_time() - start < 0.2:\n" \
       "        pass\n    return x + 1\n"
LOOP = "def f(x):\n    while True:\n        pass\n"
SLEEP = "import time\ndef f(x):\n    time.sleep(60)\n"
# every descriptor the candidate holds that is a directory (the worker's procfs would be one)
PEEK = "import os\ndef f(x):\n    found = []\n    for fd in range(3, 1024):\n        try:\n" \
       "            os.listdir(fd)\n        except OSError:\n            continue\n        found.append(fd)\n" \
       "    return found\n"
# hostile: loads the machine itself (six CPU-burning processes of its own, inside its sandbox) so
# that it waits for a CPU, to have its limit stretched; bounded forks, all killed with the sandbox
SELF_LOADING = "import os\ndef f(x):\n    for _ in range(6):\n        if os.fork() == 0:\n" \
               "            while True:\n                pass\n    while True:\n        pass\n"
LIMIT_S = 0.3
TASK = Task(task_id="waits/f", source="example", prompt="", entry_point="f", starter_code="",
            public_tests=("assert f(1) == 2",), hidden_tests=(), setup_code="", reference_solution=None,
            split=None, metadata={"timeout_s": LIMIT_S})

UNPRIVILEGED = """import json, sys
sys.path[:0] = sys.argv[1:3]  # tests/, src/
import test_cpu_waits as case
from codeself.execution import ExecutionConfig, Executor
with Executor(ExecutionConfig(workers=1, static_scan=False)) as executor:
    results = {name: executor.run(case.TASK, program) for name, program in (("busy", case.BUSY), ("loop", case.LOOP))}
    print(json.dumps({"isolation": executor.isolation,
                      **{name: [r.status, r.cpu_time_s, r.extra] for name, r in results.items()}}))
"""


class CpuWaitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        allowed = os.sched_getaffinity(0)
        cls.addClassCleanup(os.sched_setaffinity, 0, allowed)
        os.sched_setaffinity(0, {max(allowed)})  # inherited by the burner, the workers and their programs
        cls.burner_pid, = cls.enterClassContext(cpu_burners(1, limit_s=60.0))
        time.sleep(0.2)

    def assert_credited(self, status, cpu_time_s, extra, program):
        if program == "busy":
            self.assertEqual(status, "passed", extra)
        else:
            self.assertEqual(status, "timeout", extra)
            self.assertGreaterEqual(cpu_time_s, 0.6 * LIMIT_S, extra)  # it had its limit, in CPU
            self.assertLess(cpu_time_s, 4 * LIMIT_S, extra)
        self.assertGreater(extra["waited_for_cpu_s"], 0.0, extra)
        self.assertEqual(extra["test_timeout_s"], LIMIT_S)  # the limit itself is unchanged
        self.assertNotIn("timeout_rerun", extra)  # credited: never run a second time

    def test_waits_are_credited_on_each_sandbox_level(self):
        for level in ("namespaces", "rlimits"):
            with self.subTest(sandbox=level), Executor(ExecutionConfig(workers=1, static_scan=False,
                                                                       sandbox=level)) as executor:
                for name, program in (("busy", BUSY), ("loop", LOOP)):
                    result = executor.run(TASK, program)
                    self.assert_credited(result.status, result.cpu_time_s, result.extra, name)
                # rlimits: the worker's descriptor is on the host's /proc, so this matters most there
                peeked = executor.run(Task.from_json({**TASK.to_json(), "public_tests": ["assert f(1) == []"]}), PEEK)
                self.assertEqual(peeked.status, "passed", peeked.message)
                if level == "rlimits":
                    continue  # a sleep's (no) credit does not depend on the level
                slept = executor.run(TASK, SLEEP)
                self.assertEqual(slept.status, "timeout")
                self.assertLess(slept.extra.get("waited_for_cpu_s", 0.0), 0.1, slept.extra)
                self.assertLess(slept.duration_s, 2.0)

    def test_a_program_that_loads_the_machine_itself_stretches_its_limit_a_bounded_time(self):
        # without the re-run (which would run it once more, as before waits were credited)
        with Executor(ExecutionConfig(workers=1, static_scan=False, rerun_timeouts=False)) as executor:
            result = executor.run(TASK, SELF_LOADING)
        self.assertEqual(result.status, "timeout", result.message)
        self.assertLess(result.duration_s, MAX_STRETCH * LIMIT_S + 0.5, result.extra)

    def test_waits_are_credited_on_an_ordinary_users_path(self):
        found = json.loads(support.run_unprivileged(self, UNPRIVILEGED, 2_000_400_000))
        self.assertEqual(found["isolation"], "namespaces")
        for name in ("busy", "loop"):
            self.assert_credited(*found[name], name)

    def test_the_counter_is_read_through_the_descriptor_given(self):
        self.assertIsNone(run_queue_counters(-1, os.getpid()))
        proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
        try:
            before = run_queue_counters(proc, self.burner_pid)
            with cpu_burners(1, limit_s=60.0):  # a second burner on the CPU: each waits for the other
                time.sleep(0.4)
                after = run_queue_counters(proc, self.burner_pid)
            self.assertIsNotNone(after)
            ran, waited = (now - then for now, then in zip(after, before or (0.0, 0.0)))
            self.assertGreater(waited, 0.1)
            self.assertGreater(ran, 0.1)
            self.assertLess(ran + waited, 0.6)  # both count time within the 0.4 s (+ the counters' lag)
            self.assertIsNone(run_queue_counters(proc, 1 << 30))  # no such process
        finally:
            os.close(proc)


if __name__ == "__main__":
    unittest.main()
