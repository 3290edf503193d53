"""Per-test timeouts: the rule (pure), calibration from the reference solution at run time,
its cache and its concurrency, and an Executor used after close()."""

import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

import support  # noqa: F401
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.calibration import CalibrationCache
from codeself.execution.runner import TIMEOUT_SOURCES, Calibration, calibration_timeouts, timeouts_for

EXECUTOR = None
# Default 30 s: a run that stops within a few seconds proves the calibrated limit was used.
CONFIG = ExecutionConfig(workers=2, timeout_s=30.0, program_timeout_s=30.0, timeout_factor=4.0,
                         timeout_floor_s=0.2, calibration_timeout_s=5.0, memory_mb=512)
SLEEPY_REFERENCE = "import time\ndef f(x):\n    time.sleep(0.15)\n    return x + 1\n"  # limits 4 x ~0.15 s
TESTS = {"public": ("assert f(1) == 2",), "hidden": ("assert f(2) == 3",)}


def setUpModule():
    global EXECUTOR
    EXECUTOR = Executor(CONFIG)


def tearDownModule():
    EXECUTOR.close()


def task(task_id, reference=SLEEPY_REFERENCE, public=TESTS["public"], hidden=TESTS["hidden"], **metadata):
    return Task(task_id=task_id, source="example", prompt="", entry_point="f", starter_code="",
                public_tests=tuple(public), hidden_tests=tuple(hidden), setup_code="",
                reference_solution=reference, split=None, metadata=dict(metadata))


def sleeper(seconds):
    return f"import time\ndef f(x):\n    time.sleep({seconds})\n    return x + 1\n"


class RuleTest(unittest.TestCase):
    """timeouts_for on literal inputs; config: default 30, backstop 30 (cap 300), x4, floor 0.2."""

    def test_every_source_is_listed(self):
        made = {timeouts_for(task("t", timeout_s=2.0), CONFIG).source,
                timeouts_for(task("t", reference_time_s=0.1), CONFIG).source,
                timeouts_for(task("t"), CONFIG, Calibration(tests_s=(0.1, 0.1))).source,
                timeouts_for(task("t"), CONFIG).source,
                timeouts_for(task("t"), CONFIG, Calibration(error="x")).source,
                calibration_timeouts(task("t"), CONFIG).source}
        self.assertEqual(made, set(TIMEOUT_SOURCES))

    def test_calibrated_per_test_import_and_backstop(self):
        measured = Calibration(import_s=0.01, tests_s=(0.01, 2.0))
        limits = timeouts_for(task("t"), CONFIG, measured)
        self.assertEqual(limits.source, "calibrated")
        self.assertEqual(limits.tests_s, (0.2, 8.0))  # max(0.2, 4 x 0.01), max(0.2, 4 x 2.0)
        self.assertEqual(limits.import_s, 30.0)  # never below the default, nor the largest test limit
        self.assertEqual(limits.program_s, 38.2)  # import 30 + tests 8.2 > the 30 s backstop
        self.assertEqual(limits.extra(), {"timeout_source": "calibrated", "test_timeout_s": 8.0,
                                          "program_timeout_s": 38.2})

    def test_backstop_is_capped(self):
        config = ExecutionConfig(timeout_s=5.0, program_timeout_s=30.0, max_program_timeout_s=60.0)
        limits = timeouts_for(task("t"), config, Calibration(tests_s=(10.0, 10.0)))
        self.assertEqual(limits.tests_s, (40.0, 40.0))  # 4 x 10 each
        self.assertEqual(limits.import_s, 40.0)
        self.assertEqual(limits.program_s, 60.0)  # 40 + 80 = 120, capped at 60

    def test_default_backstop_covers_every_test(self):
        # 100 tests at the default 5 s: 5 + 100 x 5 = 505 s, capped at max_program_timeout_s 300;
        # the old fixed 30 s backstop stopped correct programs whose tests each took 0.5 s.
        config = ExecutionConfig(timeout_s=5.0, program_timeout_s=30.0, max_program_timeout_s=300.0)
        many = Task(task_id="t", source="x", prompt="", entry_point="f", starter_code="",
                    public_tests=(), hidden_tests=("assert f(1) == 1",) * 100, setup_code="",
                    reference_solution=None, split=None, metadata={})
        self.assertEqual(timeouts_for(many, config).program_s, 300.0)

    def test_metadata_comes_first_and_failures_fall_back(self):
        measured = Calibration(tests_s=(1.0, 1.0))
        explicit = timeouts_for(task("t", timeout_s=0.5), CONFIG, measured)
        # backstop: max(program_timeout_s 30, 0.5 + 2 x 0.5) = 30
        self.assertEqual((explicit.source, explicit.tests_s, explicit.import_s, explicit.program_s),
                         ("task", (0.5, 0.5), 0.5, 30.0))
        known = timeouts_for(task("t", reference_time_s=0.01), CONFIG, measured)
        self.assertEqual((known.source, known.tests_s), ("reference_time", (0.2, 0.2)))  # max(0.2, 0.04)
        failed = timeouts_for(task("t"), CONFIG, Calibration(error="reference failed (AssertionError)"))
        # backstop raised to cover the import and both tests at the default: 30 + 2 x 30 = 90
        self.assertEqual(failed.extra(), {"timeout_source": "default (reference failed calibration)",
                                          "test_timeout_s": 30.0, "program_timeout_s": 90.0,
                                          "calibration_error": "reference failed (AssertionError)"})
        self.assertEqual(timeouts_for(task("t"), CONFIG).source, "default")

    def test_config_validation(self):
        with self.assertRaisesRegex(ValueError, "timeout_factor"):
            ExecutionConfig(timeout_factor=0.5)
        with self.assertRaisesRegex(ValueError, "max_program_timeout_s"):
            ExecutionConfig(program_timeout_s=30.0, max_program_timeout_s=10.0)


class CalibrationTest(unittest.TestCase):
    def test_calibrated_limit_lets_slower_pass_and_stops_loops(self):
        sleepy = task("example/sleepy")
        runs = EXECUTOR.calibration_runs
        # three runs at once (each waits while the first to arrive times the reference): twice the
        # reference (within factor 4), an endless loop, the reference itself
        programs = (sleeper(0.3), "def f(x):\n    while True:\n        pass\n", SLEEPY_REFERENCE)
        with ThreadPoolExecutor(max_workers=len(programs)) as pool:
            slower, looping, reference = pool.map(lambda program: EXECUTOR.run(sleepy, program), programs)
        self.assertTrue(slower.passed, slower.message)
        self.assertEqual(slower.extra["timeout_source"], "calibrated")
        # 4 x ~0.15 s, plus some scheduling noise: nowhere near the 30 s default
        self.assertTrue(0.6 <= slower.extra["test_timeout_s"] < 4.0, slower.extra)
        self.assertEqual((looping.status, looping.error_type, looping.phase), ("timeout", "Timeout", "public_tests"))
        self.assertLess(looping.duration_s, 10.0)  # killed at the calibrated limit, not at 30 s
        self.assertEqual(reference.status, "passed")
        self.assertEqual(EXECUTOR.calibration_runs, runs + 1)  # once for the task, then cached

    def test_cache_key_follows_reference_and_tests(self):
        runs = EXECUTOR.calibration_runs
        fast = "def f(x):\n    return x + 1\n"
        EXECUTOR.run(task("example/key", reference=fast), fast)
        EXECUTOR.run(task("example/key", reference=fast), fast)  # same: cached
        EXECUTOR.run(task("example/key", reference=fast, hidden=("assert f(5) == 6",)), fast)  # other tests
        result = EXECUTOR.run(task("example/key", reference=fast + "\n"), fast)  # other reference
        self.assertEqual(EXECUTOR.calibration_runs, runs + 3)
        self.assertTrue(0.2 <= result.extra["test_timeout_s"] < 1.0)  # fast reference: about the floor

    def test_failing_reference_falls_back_to_default(self):
        runs = EXECUTOR.calibration_runs
        wrong = task("example/wrong-reference", reference="def f(x):\n    return x\n")
        result = EXECUTOR.run(wrong, "def f(x):\n    return x + 1\n")
        self.assertTrue(result.passed)  # the candidate is judged on the tests, not the reference
        self.assertEqual(result.extra["timeout_source"], "default (reference failed calibration)")
        self.assertEqual(result.extra["calibration_error"], "reference failed (AssertionError)")
        # default 30 s per phase; backstop 30 (import) + 2 x 30 (tests) = 90
        self.assertEqual((result.extra["test_timeout_s"], result.extra["program_timeout_s"]), (30.0, 90.0))
        EXECUTOR.run(wrong, "def f(x):\n    return x + 1\n")
        self.assertEqual(EXECUTOR.calibration_runs, runs + 1)  # the failure is cached too

    def test_reference_timing_out_in_calibration(self):
        config = ExecutionConfig(workers=1, timeout_s=2.0, calibration_timeout_s=0.3)
        with Executor(config) as executor:
            result = executor.run(task("example/slow-reference", reference=sleeper(5)), sleeper(0))
        self.assertTrue(result.passed)
        self.assertEqual(result.extra["timeout_source"], "default (reference failed calibration)")
        self.assertEqual(result.extra["calibration_error"], "reference timeout (Timeout)")
        self.assertEqual(result.extra["test_timeout_s"], 2.0)

    def test_no_reference_or_disabled_means_default(self):
        result = EXECUTOR.run(task("example/no-reference", reference=None), sleeper(0))
        self.assertEqual(result.extra["timeout_source"], "default")
        with Executor(ExecutionConfig(workers=1, timeout_s=2.0, calibrate_timeouts=False)) as executor:
            result = executor.run(task("example/disabled"), sleeper(0))
            self.assertEqual((result.extra["timeout_source"], executor.calibration_runs), ("default", 0))

    def test_four_threads_calibrate_once(self):
        shared = task("example/threads")
        runs = EXECUTOR.calibration_runs
        start, results = threading.Barrier(4), {}

        def work(index):
            start.wait()
            results[index] = EXECUTOR.run(shared, sleeper(0.1 * (index % 2)))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(EXECUTOR.calibration_runs, runs + 1)
        self.assertEqual(sorted(results), [0, 1, 2, 3])
        self.assertTrue(all(r.passed and r.extra["timeout_source"] == "calibrated" for r in results.values()))
        self.assertEqual(len({r.extra["test_timeout_s"] for r in results.values()}), 1)

    def test_run_many_calibrates_each_task_once_and_keeps_order(self):
        tasks = [task(f"example/many-{i}", reference=sleeper(0.05)) for i in range(3)]
        runs = EXECUTOR.calibration_runs
        programs = [sleeper(0), "def f(x):\n    return x\n", "def f(x)\n"]  # pass, fail, syntax error
        jobs = [(tasks[i % 3], programs[i % 3]) for i in range(9)]
        statuses = [result.status for result in EXECUTOR.run_many(iter(jobs))]
        self.assertEqual(statuses, ["passed", "failed", "syntax_error"] * 3)
        self.assertEqual(EXECUTOR.calibration_runs, runs + 3)


class CalibrationCacheFileTest(unittest.TestCase):
    """ExecutionConfig.calibration_cache: measured once, reused by the next Executor."""

    def config(self, path):
        import dataclasses

        return dataclasses.replace(CONFIG, workers=1, calibration_cache=path)

    def test_second_executor_reuses_the_measurement(self):
        import json
        import os
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "calibration.json")
            example = task("example/cached", reference=sleeper(0.05))
            with Executor(self.config(path)) as first:
                limits = first.timeouts(example)
                failing = task("example/cached-fails", reference="def f(x):\n    return 0\n")
                self.assertEqual(first.timeouts(failing).source, "default (reference failed calibration)")
                self.assertEqual(first.calibration_runs, 2)
            with open(path, encoding="utf-8") as handle:
                stored = json.load(handle)
            self.assertEqual(stored["format"], "codeself-calibration/1")
            self.assertEqual(len(stored["entries"]), 1)  # the failed measurement is not kept
            (key, entry), = stored["entries"].items()
            self.assertIn(":example/cached:", key)
            self.assertEqual(len(entry["tests_s"]), 2)
            with Executor(self.config(path)) as second:
                self.assertEqual(second.timeouts(example), limits)
                self.assertEqual(second.run(example, sleeper(0)).extra["timeout_source"], "calibrated")
                self.assertEqual(second.calibration_runs, 0)
                changed = task("example/cached", reference=sleeper(0.05), hidden=("assert f(5) == 6",))
                second.timeouts(changed)  # other tests: another digest, measured again
                self.assertEqual(second.calibration_runs, 1)
            with open(path, encoding="utf-8") as handle:
                self.assertEqual(len(json.load(handle)["entries"]), 2)  # merged, not replaced

    def test_a_file_that_is_not_a_cache_is_refused_and_kept(self):
        import os
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tasks.jsonl")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write('{"task_id": "x"}\n')
            with self.assertRaisesRegex(ValueError, "not a codeself-calibration/1 file"):
                Executor(self.config(path))
            with open(path, encoding="utf-8") as handle:
                self.assertEqual(handle.read(), '{"task_id": "x"}\n')


class CalibrationCacheTest(unittest.TestCase):
    def test_lru_and_one_measurement_per_key(self):
        cache = CalibrationCache(size=2)
        one, two = Calibration(tests_s=(1.0,)), Calibration(tests_s=(2.0,))
        self.assertIs(cache.get_or_measure(("a", "d"), lambda: one), one)
        self.assertIs(cache.get_or_measure(("a", "d"), lambda: two), one)  # kept: not measured again
        cache.get_or_measure(("b", "d"), lambda: two)
        cache.get_or_measure(("c", "d"), lambda: two)  # size 2: evicts "a", the least recently used
        self.assertIs(cache.get_or_measure(("a", "d"), lambda: two), two)
        self.assertEqual(cache.runs, 4)  # a, b, c, a again
        with self.assertRaises(ZeroDivisionError):
            cache.get_or_measure(("x", "d"), lambda: 1 / 0)
        self.assertIs(cache.get_or_measure(("x", "d"), lambda: one), one)  # a failed measurement is not kept


class ClosedExecutorTest(unittest.TestCase):
    def test_run_after_close_raises_and_starts_nothing(self):
        executor = Executor(ExecutionConfig(workers=1, timeout_s=2.0))
        executor.close()
        for program in ("def f(x):\n    return x + 1\n", "def f(x)\n"):  # runs, or never would
            with self.assertRaisesRegex(RuntimeError, "closed"):
                executor.run(task("example/closed", reference=None), program)
        with self.assertRaisesRegex(RuntimeError, "closed"):
            list(executor.run_many([(task("example/closed"), "def f(x):\n    return x + 1\n")]))
        with self.assertRaisesRegex(RuntimeError, "closed"):
            executor.call_function("def f(x):\n    return x\n", "f", [[1]], per_call_timeout_s=1.0)
        self.assertEqual(executor.worker_pids(), [])  # no worker was respawned


if __name__ == "__main__":
    unittest.main()
