"""The worker's forker (execution/forker.py) and the pinning of workers to CPUs (worker_cpus).

The forker forks every program's child from a copy of the warm worker taken before its first
job, so the worker may keep what it learns across runs (compiled probes: hidden inputs)
without any of it reaching a child; a forker that dies costs its worker, which is replaced.
"""

import os
import signal
import time
import unittest
from dataclasses import replace
from unittest import mock

import support  # noqa: F401
from support import descendants
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.sandbox import children_by_parent
from codeself.execution.worker_handle import worker_cpus

MARKER = "zq-probe-input-5521"


def task(task_id, entry_point, hidden):
    return Task(task_id=task_id, source="example", prompt="", entry_point=entry_point, starter_code="",
                public_tests=(), hidden_tests=tuple(hidden), setup_code="", reference_solution=None, split=None)


# Looks for the marker (built at run time: this program's own constants do not hold it) in
# the objects of the candidate's process that the collector knows and its modules' globals,
# in what each refers to (a cache's dict), and one level into containers (a cache's keys, a
# step's probes).
SEARCH = '''
import gc, sys
def wanted():
    return "-".join(["zq", "probe", "input", "5521"])  # not a constant: the compiler would fold a "+"
def look(value, depth=0):
    if isinstance(value, str):
        return wanted() in value
    if type(value).__name__ == "code":
        return any(look(constant, depth) for constant in value.co_consts)
    if depth == 0 and isinstance(value, (list, tuple, set, frozenset)):
        return any(look(item, 1) for item in value)
    if depth == 0 and isinstance(value, dict):
        return any(look(key, 1) or look(item, 1) for key, item in value.items())
    return False
def found():
    roots = gc.get_objects()
    for module in list(sys.modules.values()):
        roots += list(vars(module).values())
    return sum(look(value) for root in roots for value in [root, *gc.get_referents(root)])
'''


class ForkerTest(unittest.TestCase):
    def test_a_later_program_finds_no_earlier_probe(self):
        """The worker compiled (and keeps) a probe holding the marker; the next program, on the
        same worker, finds it nowhere in its memory."""
        earlier = task("forker/earlier", "size", [f"assert size({MARKER!r}) == {len(MARKER)}"] * 3)
        later = task("forker/later", "found", ["assert found() == 0"])
        with Executor(ExecutionConfig(workers=1, timeout_s=10)) as executor:
            for _ in range(2):  # the second run of the earlier task uses the worker's cached probes
                self.assertEqual(executor.run(earlier, "def size(s):\n    return len(s)\n").status, "passed")
            result = executor.run(later, SEARCH)
        self.assertEqual(result.status, "passed", result.tests)

    def test_the_search_finds_the_probe_of_its_own_run(self):
        """The search above can fail: inside the run whose probe holds the marker, it finds it."""
        own = task("forker/own", "found", [f"assert found({MARKER!r}) == 0"])
        program = SEARCH.replace("def found():", "def found(_):")
        with Executor(ExecutionConfig(workers=1, timeout_s=10)) as executor:
            result = executor.run(own, program)
        self.assertEqual(result.status, "failed")

    def test_a_killed_forker_costs_its_worker_only(self):
        """SIGKILL the forker: the run that next needs it fails as its worker's death does
        (runtime_error, docs/schemas.md), the worker exits and is replaced, and the runs after
        it pass. (In rlimits mode as root, a program can kill its forker: tests/test_hostile.py.)"""
        echo = task("forker/echo", "f", ["assert f(2) == 3"])
        program = "def f(x):\n    return x + 1\n"
        with Executor(ExecutionConfig(workers=1, timeout_s=10)) as executor:
            self.assertEqual(executor.run(echo, program).status, "passed")
            before = executor.worker_pids()
            os.kill(self.forker_of(executor), signal.SIGKILL)
            results = [executor.run(echo, program) for _ in range(4)]
            after = executor.worker_pids()
        self.assertNotEqual(before, after)  # the worker was replaced
        failed = [result for result in results if result.status != "passed"]
        self.assertEqual([(result.status, result.error_type) for result in failed], [("runtime_error", "ProcessDied")])
        self.assertIn("worker", failed[0].message)

    @staticmethod
    def forker_of(executor) -> int:
        """The forker: the one process below the worker whose children (the child waiting for
        the next job) have none of their own."""
        worker = executor.worker_pids()[0]
        for _ in range(100):
            tree = children_by_parent(live_only=True)
            found = [pid for pid in descendants(worker)
                     if tree.get(pid) and not any(tree.get(child) for child in tree[pid])]
            if len(found) == 1:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no single forker below {worker}: {found}")


class PinningTest(unittest.TestCase):
    def test_one_cpu_each_only_when_the_workers_match_the_cpus(self):
        config = ExecutionConfig(workers=2)  # pinned by default
        with mock.patch("os.sched_getaffinity", return_value={4, 1}):
            self.assertEqual(worker_cpus(config), [1, 4])
            self.assertEqual(worker_cpus(replace(config, pin_workers=False)), [None, None])
            self.assertEqual(worker_cpus(replace(config, workers=3)), [None] * 3)
        with mock.patch("os.sched_getaffinity", return_value={0, 1, 2, 3}):
            self.assertEqual(worker_cpus(config), [None, None])  # beside other work: never pinned
        with mock.patch("os.sched_getaffinity", return_value={2}):
            self.assertEqual(worker_cpus(replace(config, workers=1)), [None])

    def test_workers_and_their_programs_stay_on_their_cpu(self):
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            self.skipTest(f"this process may use {len(allowed)} CPU: nothing to pin")
        for pin in (True, False):
            with self.subTest(pin_workers=pin), \
                    Executor(ExecutionConfig(workers=len(allowed), pin_workers=pin)) as executor:
                echo = task("forker/pinned", "f", ["assert f(2) == 3"])
                self.assertEqual(executor.run(echo, "def f(x):\n    return x + 1\n").status, "passed")
                kept = []  # per worker: the distinct CPU sets of its processes
                for worker in executor.worker_pids():
                    kept.append({frozenset(os.sched_getaffinity(pid)) for pid in [worker, *descendants(worker)]})
                if pin:  # one CPU per worker, each its own, shared by all its processes
                    self.assertTrue(all(len(sets) == 1 and len(next(iter(sets))) == 1 for sets in kept), kept)
                    self.assertEqual(sorted(cpu for sets in kept for cpus in sets for cpu in cpus), allowed)
                else:
                    self.assertEqual(kept, [{frozenset(allowed)}] * len(allowed))


if __name__ == "__main__":
    unittest.main()
