"""A dominating sample's tests split across idle workers in run_many (execution/split.py)."""

import dataclasses
import threading
import time
import unittest
from unittest import mock

import support  # noqa: F401
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor, split
from codeself.execution.protocol import Reply

SLOW = 0.25  # seconds the slow test sleeps (the reference's and the candidates')
REFERENCE = f"import time\ndef f(x):\n    if x == 5:\n        time.sleep({SLOW})\n    return x * 2\n"
TASK = Task(task_id="split/1", source="test", prompt="", starter_code="", reference_solution=REFERENCE,
            split="test", entry_point="f", setup_code="",
            public_tests=("assert f(0) == 0",), hidden_tests=tuple(f"assert f({x}) == {2 * x}" for x in range(1, 10)))
QUICK = Task(task_id="split/2", source="test", prompt="", starter_code="", reference_solution="def g(x):\n    return x\n",
             split="test", entry_point="g", setup_code="", public_tests=("assert g(1) == 1",), hidden_tests=())
CANDIDATES = {
    "correct": REFERENCE,
    "wrong_late": REFERENCE.replace("return x * 2", "return x * 2 if x < 8 else 0"),
    "loops_early": REFERENCE.replace("    return x * 2", "    while x == 2:\n        pass\n    return x * 2"),
    "import_error": "raise ValueError('no')\n",
}
TIMING = ("duration_s", "cpu_time_s", "peak_rss_kb", "stdout_tail", "stderr_tail")


def comparable(result) -> dict:
    record = result.to_json()
    # waits for a CPU added to the limits (execution/supervise.py) happen or not with the load
    record["extra"] = {key: value for key, value in record["extra"].items() if key != "waited_for_cpu_s"}
    return {key: value for key, value in record.items() if key not in TIMING}


class SplitRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=2, timeout_s=2.0, timeout_floor_s=0.3, rerun_timeouts=False))
        cls.executor.timeouts(TASK)  # calibrated: expected ~SLOW s, one test holding it
        cls.executor.timeouts(QUICK)

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def spy(self) -> list:
        """(worker index, steps sent, start, end) for every job the workers get."""
        seen, lock = [], threading.Lock()
        for index, worker in enumerate(list(self.executor._idle.queue)):
            def request(job, on_progress=None, _worker=worker, _index=index, _original=worker.request):
                began = time.monotonic()
                reply = _original(job, on_progress)
                with lock:
                    seen.append((_index, [step.get("probes") for step in job["steps"]], began, time.monotonic()))
                return reply
            worker.request = request
        self.addCleanup(lambda: [vars(worker).pop("request", None) for worker in self.executor._idle.queue])
        return seen

    def test_parts_run_on_two_workers_at_once_each_with_its_own_tests(self):
        with mock.patch.object(split, "SPLIT_MIN_S", 0.05):
            seen = self.spy()
            [result] = list(self.executor.run_many([(TASK, REFERENCE)]))
        self.assertTrue(result.passed, result)
        self.assertEqual(len(seen), 2, seen)
        self.assertEqual({worker for worker, _, _, _ in seen}, {0, 1})
        self.assertLess(max(start for _, _, start, _ in seen), min(end for _, _, _, end in seen))  # in parallel
        # contiguous parts, disjoint: no part is sent another part's tests
        self.assertEqual(sorted(steps for _, steps, _, _ in seen),
                         [[[f"f({x})"] for x in range(6)], [[f"f({x})"] for x in range(6, 10)]])

    def test_merged_results_equal_the_unsplit_ones(self):
        with mock.patch.object(split, "SPLIT_MIN_S", 0.05):
            seen = self.spy()
            results = list(self.executor.run_many([(QUICK, "def g(x):\n    return x\n")]))
            for program in CANDIDATES.values():  # one batch each: over an even share of its batch, so split
                results += self.executor.run_many([(TASK, program)])
        self.assertEqual(len(seen), 1 + 2 * len(CANDIDATES))
        unsplit = [self.executor.run(TASK, program) for program in CANDIDATES.values()]
        self.assertEqual([comparable(r) for r in results[1:]], [comparable(r) for r in unsplit])
        self.assertEqual([r.status for r in results], ["passed", "passed", "failed", "timeout", "import_error"])
        self.assertEqual([t.error_type for t in results[3].tests][1:4], [None, "Timeout", "NotRun"])
        self.assertEqual([t.passed for t in results[2].tests], [True] * 8 + [False] * 2)
        self.assertGreater(results[1].cpu_time_s, 0.0)

    def test_stop_at_first_failure_reports_the_first_failing_part(self):
        executor = Executor(ExecutionConfig(workers=2, timeout_s=2.0, timeout_floor_s=0.3, rerun_timeouts=False,
                                            stop_at_first_failure=True))
        self.addCleanup(executor.close)
        program = REFERENCE.replace("return x * 2", "return x * 2 if x not in (1, 8) else 0")
        with mock.patch.object(split, "SPLIT_MIN_S", 0.05):
            executor.timeouts(TASK)
            [merged] = list(executor.run_many([(TASK, program)]))
        whole = executor.run(TASK, program)
        self.assertEqual((merged.status, merged.phase, merged.error_type), (whole.status, whole.phase, whole.error_type))
        self.assertEqual(merged.status, "failed")
        self.assertTrue(merged.message.startswith("stopped at the first failed test"), merged.message)
        self.assertEqual([t.passed for t in merged.tests][:2], [True, False])
        self.assertEqual(merged.tests[-1].error_type, "NotRun")  # part 2 ran f(8), but after the stop it counts as not run

    def test_not_split_below_the_threshold_or_with_one_worker(self):
        self.assertEqual(split.part_count(0.5, 0.5, 2, 10), 1)  # under SPLIT_MIN_S
        self.assertEqual(split.part_count(35.0, 81.0, 2, 90), 1)  # not over an even share of what was read
        self.assertEqual(split.part_count(35.0, 60.0, 2, 90), 2)
        self.assertEqual(split.part_count(35.0, 35.0, 1, 90), 1)
        self.assertEqual(split.part_count(35.0, 35.0, 8, 3), 3)
        with mock.patch.object(split, "SPLIT_MIN_S", 0.05):
            seen = self.spy()
            [result] = list(Executor.run_many(self.executor, [(QUICK, "def g(x):\n    return x\n")]))
        self.assertEqual((result.status, len(seen)), ("passed", 1))

    def test_split_tests_off_runs_every_sample_in_one_process(self):
        # a program that counts its own calls: split, the second part starts its count afresh
        counting = REFERENCE.replace("return x * 2", "global calls\n    calls = globals().get('calls', 0) + 1\n"
                                                      "    return x * 2 if calls == x + 1 else -1")
        self.assertNotEqual(counting, REFERENCE)
        with mock.patch.object(split, "SPLIT_MIN_S", 0.05):
            [split_run] = list(self.executor.run_many([(TASK, counting)]))
            with mock.patch.object(self.executor, "config", dataclasses.replace(self.executor.config, split_tests=False)):
                seen = self.spy()
                [whole] = list(self.executor.run_many([(TASK, counting)]))
        self.assertEqual(len(seen), 1)
        self.assertEqual(whole.status, "passed", whole.message)
        self.assertEqual(split_run.status, "failed")  # the documented difference (docs/schemas.md, Split runs)

    def test_part_bounds_are_contiguous_balanced_and_never_empty(self):
        self.assertEqual(split.part_bounds((1, 1, 1, 1), 2), [(0, 2), (2, 4)])
        self.assertEqual(split.part_bounds((0, 0, 0, 0, 0, 9, 0, 0), 2), [(0, 6), (6, 8)])
        self.assertEqual(split.part_bounds((9, 0, 0), 3), [(0, 1), (1, 2), (2, 3)])
        self.assertEqual(split.part_bounds((0, 0, 9), 3), [(0, 1), (1, 2), (2, 3)])
        self.assertEqual(split.part_bounds(tuple(range(1, 11)), 2), [(0, 7), (7, 10)])

    def test_a_part_that_did_not_import_stops_the_merge(self):
        ok, answer = '{"ok":true,"n":"1"}', '{"values":[2],"n":"2"}'
        first = Reply("done", answers=(ok, answer, answer), durations=(0.1, 0.2, 0.3), cpu_s=1.0, run_s=1.0)
        second = Reply("done", answers=('{"error":{"type":"X","message":""},"n":"3"}',), cpu_s=0.5, run_s=2.0)
        merged = split.merge([first, second], [(0, 2), (2, 4)], 100)
        self.assertEqual((merged.outcome, merged.answers, merged.cpu_s, merged.run_s),
                         ("malformed", (ok, answer, answer), 1.5, 3.0))
        whole = split.merge([first, Reply("done", answers=(ok, answer, answer))], [(0, 2), (2, 4)], 100)
        self.assertEqual((whole.outcome, len(whole.answers)), ("done", 5))


if __name__ == "__main__":
    unittest.main()
