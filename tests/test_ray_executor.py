"""The Ray executor (`--executor ray`) on a real two-node Ray cluster started here on 127.0.0.1.

Without the distributed extra only the stdlib checks run (config validation, the one-line
error); with it (`.ci/run` runs this file again in a virtual environment that has Ray), a
cluster of two nodes with one CPU each is started once for the module, by `LocalCluster`,
and stopped by the PIDs it started.
"""

import dataclasses
import importlib.util
import json
import os
import random
import signal
import tempfile
import time
import unittest
from pathlib import Path

import support

from codeself.datasets.humaneval import humaneval_to_task, iter_humaneval_records
from codeself.execution.engine import ExecutionConfig, Executor

HAVE_RAY = importlib.util.find_spec("ray") is not None
NO_RAY = "needs the distributed extra (pip install 'codeself[distributed]'); .ci/run runs it in a venv with Ray"
SMALL = support.FIXTURES / "datasets_humaneval_small.jsonl"
TASKS = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
SLOW_PASS = "import time\n\ndef {name}(*args):\n    time.sleep(0.1)\n    return _real(*args)\n"


def small_tasks():
    return [humaneval_to_task(record) for _, record in iter_humaneval_records(SMALL)]


def hand_written_jobs(tasks):
    """Canonical solutions plus hand-written wrong ones with known verdicts, per task."""
    jobs = []
    for task in tasks:
        name = task.entry_point
        jobs += [(task, task.reference_solution),
                 (task, f"def {name}(*args):\n    return None\n"),  # failed (wrong answer)
                 (task, f"def {name}(*args):\n    raise KeyError('no')\n"),  # failed (KeyError per test)
                 (task, f"def {name}(*args)\n    return 1\n"),  # syntax_error
                 (task, f"import sys\nsys.exit(0)\ndef {name}(*args):\n    return 1\n"),  # import_error
                 (task, f"import os\ndef {name}(*args):\n    os._exit(0)\n")]  # blocked by the static scan
    jobs.append((tasks[0], f"def {tasks[0].entry_point}(*args):\n    while True:\n        pass\n"))  # timeout
    return jobs


def example_samples(tmp) -> Path:
    samples = Path(tmp, "samples.jsonl")
    samples.write_text(json.dumps({"task_id": "example/digit_sum", "solution": "def digit_sum(n): return 0"}) + "\n")
    return samples


def execute_example(tmp, *flags, env=None):
    """execute_samples.py on one example sample with `flags`, in a child with `env` (default: this one's)."""
    command = ["--tasks", TASKS, "--samples", example_samples(tmp), "--output", Path(tmp, "out.jsonl"), *flags]
    if env is None:
        return support.run_script("execute_samples.py", *command)
    import subprocess
    import sys

    return subprocess.run([sys.executable, str(support.SCRIPTS / "execute_samples.py"), *map(str, command)],
                          cwd=support.REPO_ROOT, capture_output=True, text=True, timeout=300, env=env)


def verdict(result):
    """What must not change between engines: status, counts and every test's outcome."""
    return (result.status, result.phase, result.error_type, result.public, result.hidden,
            [(t.kind, t.index, t.passed, t.error_type, t.judged_in_process) for t in result.tests])


def local_verdicts(jobs):
    with Executor(ExecutionConfig(workers=2)) as executor:
        return [verdict(result) for result in executor.run_many(jobs)]


class WithoutRayTest(unittest.TestCase):
    def test_config_fields_are_checked(self):
        with self.assertRaisesRegex(ValueError, "executor must be one of local, ray"):
            ExecutionConfig(executor="spark")
        with self.assertRaisesRegex(ValueError, "only used with executor 'ray'"):
            ExecutionConfig(ray_address="10.0.0.1:6379")

    def test_ray_address_without_ray_executor_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = execute_example(tmp, "--ray-address", "127.0.0.1:1")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, "execute_samples.py: error: --ray-address needs --executor ray\n")

    def test_bench_ray_address_needs_executor_ray(self):
        result = support.run_script("bench_execution.py", "--ray-address", "127.0.0.1:1", "--data-dir", "/nonexistent")
        self.assertEqual((result.returncode, result.stderr),
                         (2, "bench_execution.py: error: --ray-address needs --executor ray\n"))

    @unittest.skipIf(HAVE_RAY, "ray is installed; the missing-extra message cannot be seen")
    def test_missing_extra_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = execute_example(tmp, "--executor", "ray")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn("--executor ray needs the 'ray' package", result.stderr)
        self.assertIn("pip install 'codeself[distributed]'", result.stderr)


_cluster = None
_saved_env: dict = {}


def setUpModule():
    global _cluster
    if HAVE_RAY:
        from codeself.execution.ray_cluster import LocalCluster

        _cluster = LocalCluster((1, 1)).__enter__()  # head + one joined node, 1 CPU each
        _saved_env.update({name: os.environ.get(name) for name in _cluster.client_env})
        os.environ.update(_cluster.client_env)  # this process and the scripts it runs use its token


def tearDownModule():
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if _cluster is not None:
        _cluster.stop()
        leftover = _cluster.pids()
        assert not leftover, f"cluster processes still alive: {leftover}"


@unittest.skipUnless(HAVE_RAY, NO_RAY)
class RayExecutorTest(unittest.TestCase):
    def executor(self, **limits):
        from codeself.execution.ray_pool import RayExecutor

        executor = RayExecutor(ExecutionConfig(executor="ray", ray_address=_cluster.address, workers=1), **limits)
        self.addCleanup(executor.close)
        return executor

    def test_hand_written_fixture_same_verdicts_as_the_local_engine(self):
        jobs = hand_written_jobs(small_tasks())
        executor = self.executor()
        self.assertEqual(len(executor.actors()), 2)  # one per node: 1 CPU each, 1 worker each
        results = list(executor.run_many(jobs))
        self.assertEqual([verdict(result) for result in results], local_verdicts(jobs))
        statuses = {result.status for result in results}
        self.assertEqual(statuses, {"passed", "failed", "syntax_error", "import_error", "blocked", "timeout"})
        self.assertTrue(all(result.extra["host"] for result in results))
        self.assertEqual(len({result.extra["ray_node"] for result in results}), 2)  # both nodes ran programs
        self.assertEqual(executor.isolation, results[0].isolation)

    def test_language_tasks_same_verdicts_as_the_local_engine(self):
        """--executor ray passes C++/Java/JavaScript/Rust tasks through: each actor's local Executor
        runs them in its own sandbox (a reference passes, a wrong and a non-compiling answer do not)."""
        from codeself.datasets.generated import GeneratorConfig
        from codeself.datasets.generated_languages import generate_language_tasks
        from codeself.execution.languages.toolchains import missing

        config = GeneratorConfig(seed=0, version=2, train=0, validation=0, test=0, test_heldout_families=1)
        jobs = []
        for language in [language for language in ("cpp", "js") if not missing(language)]:
            [task] = generate_language_tasks(config, language)  # index_of_max: position_of_max(values)
            wrong = task.reference_solution.replace("Math.max(...values)", "0").replace("- values.begin()", "")
            jobs += [(task, task.reference_solution), (task, wrong)]
        if not jobs:
            self.skipTest("no C++ or JavaScript toolchain here")
        results = list(self.executor().run_many(jobs))
        self.assertEqual([verdict(result) for result in results], local_verdicts(jobs))
        self.assertEqual([result.status for result in results][:2], ["passed", "compile_error"] if
                         jobs[0][0].language == "cpp" else ["passed", "failed"])

    def test_real_humaneval_canonical_and_mutants_same_verdicts(self):
        from codeself.agents.backends.mutations import mutate

        tasks = [humaneval_to_task(record) for _, record in
                 iter_humaneval_records(support.data_file(self, "HumanEval.jsonl.gz"))]
        rng = random.Random(0)
        jobs = [(task, task.reference_solution) for task in tasks]
        jobs += [(task, mutate(task.reference_solution, rng).code) for task in tasks]
        ray_verdicts = [verdict(result) for result in self.executor().run_many(jobs)]
        local = local_verdicts(jobs)
        self.assertEqual(ray_verdicts, local)
        self.assertEqual(sum(v[0] == "passed" for v in local[:len(tasks)]), len(tasks))
        self.assertGreater(sum(v[0] != "passed" for v in local[len(tasks):]), len(tasks) // 2)

    def slow_jobs(self, count):
        task = small_tasks()[0]
        program = task.reference_solution.replace(f"def {task.entry_point}(", "def _real(")
        return [(task, program + "\n" + SLOW_PASS.format(name=task.entry_point))] * count

    def interrupt_mid_batch(self, executor, action, count=96):
        """Run `count` slow passing programs; after the first result, `action(pid of actor 0)`.
        Chunks hold up to 16 programs and an actor two chunks, so a third of the programs are
        still waiting then: actor 0 is sure to hold work when it is hit."""
        victim = executor.actors()[0]["pid"]
        results = []
        for result in executor.run_many(self.slow_jobs(count)):
            results.append(result)
            if len(results) == 1:
                action(victim)
        return results

    def test_killed_actor_programs_are_retried_and_the_batch_completes(self):
        executor = self.executor()
        results = self.interrupt_mid_batch(executor, lambda pid: os.kill(pid, signal.SIGKILL))
        self.assertEqual([result.status for result in results], ["passed"] * 96)
        self.assertGreater(executor.retried, 0)
        self.assertEqual(executor.replacements, 1)

    def test_hung_actor_is_found_by_its_heartbeat(self):
        executor = self.executor(heartbeat_s=0.5, heartbeat_timeout_s=3.0)
        stopped = []

        def freeze(pid):
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        started = time.monotonic()
        results = self.interrupt_mid_batch(executor, freeze)
        self.assertEqual([result.status for result in results], ["passed"] * 96)
        self.assertGreater(executor.retried, 0)
        self.assertLess(time.monotonic() - started, 60)

    def test_twice_lost_program_is_a_sandbox_error_and_the_batch_completes(self):
        executor = self.executor(call_timeout_s=2.0)
        # a 10 s per-test limit: the remote call's 2 s deadline is what stops the sleeper
        task = dataclasses.replace(small_tasks()[0], metadata={"timeout_s": 10.0})
        sleeper = f"import time\ndef {task.entry_point}(*args):\n    time.sleep(2.5)\n    return args[0] * 2\n"
        jobs = [(task, task.reference_solution), (task, sleeper), (task, task.reference_solution)]
        results = list(executor.run_many(jobs))  # each call times out at 2 s: the actor is taken as hung
        self.assertEqual([result.status for result in results], ["passed", "sandbox_error", "passed"])
        self.assertEqual(results[1].error_category, "sandbox_error")
        self.assertIn("deadline", results[1].message)

    def test_outer_deadline_ends_the_batch(self):
        executor = self.executor(batch_timeout_s=3.0)
        task = small_tasks()[0]
        slow = [(task, f"import time\ndef {task.entry_point}(*args):\n    time.sleep(0.6)\n    return 1\n")] * 20
        started = time.monotonic()
        results = list(executor.run_many(slow))
        self.assertLess(time.monotonic() - started, 20)
        self.assertEqual(len(results), 20)
        self.assertIn("sandbox_error", {result.status for result in results})

    def test_call_function_and_run(self):
        executor = self.executor()
        task = small_tasks()[0]
        self.assertTrue(executor.run(task, task.reference_solution).passed)
        outcomes = executor.call_function("def f(x):\n    return x + 1\n", "f", [[1], [2]], per_call_timeout_s=2.0)
        self.assertEqual([outcome.value for outcome in outcomes], [2, 3])

    def test_scripts_run_on_the_cluster(self):
        with tempfile.TemporaryDirectory() as tmp:
            tasks, samples = Path(tmp, "tasks.jsonl"), Path(tmp, "samples.jsonl")
            prepared = support.run_script("prepare_datasets.py", "--format", "humaneval", "--input", SMALL,
                                          "--output", tasks, "--quiet")
            self.assertEqual(prepared.returncode, 0, prepared.stderr)
            samples.write_text("".join(json.dumps({"task_id": f"HumanEval/{i}", "completion": "    return None\n"})
                                       + "\n" for i in range(3)))
            outputs = {}
            for placement in (("--executor", "local"), ("--executor", "ray", "--ray-address", _cluster.address)):
                out = Path(tmp, f"{placement[1]}.jsonl")
                result = support.run_script("execute_samples.py", "--tasks", tasks, "--samples", samples,
                                            "--output", out, "--quiet", "--workers", "1", *placement)
                self.assertEqual(result.returncode, 0, result.stderr)
                outputs[placement[1]] = [json.loads(line)["execution"] for line in out.read_text().splitlines()]
            self.assertEqual([r["status"] for r in outputs["ray"]], [r["status"] for r in outputs["local"]])
            self.assertTrue(all(r["extra"]["host"] for r in outputs["ray"]))
            rollouts = Path(tmp, "rollouts.jsonl")
            result = support.run_script("run_rollouts.py", "--tasks", tasks, "--backend", "mock", "--samples-per-task",
                                        "2", "--output", rollouts, "--quiet", "--workers", "1", "--executor", "ray",
                                        "--ray-address", _cluster.address)
            self.assertEqual(result.returncode, 0, result.stderr)
            records = [json.loads(line) for line in rollouts.read_text().splitlines()]
            self.assertEqual(len(records), 6)
            self.assertTrue(all("host" in r["timing"] and "host" not in r["execution"]["extra"] for r in records))
            on_ray = ("--executor", "ray", "--ray-address", _cluster.address, "--workers", "1")
            agentic = support.run_script("run_agentic.py", "--tasks", TASKS, "--trace-output", Path(tmp, "traces.jsonl"),
                                         "--backend", "mock", "--max-revisions", "1", "--limit", "3", "--quiet", *on_ray)
            self.assertEqual(agentic.returncode, 0, agentic.stderr)
            trained = support.run_script("train_grpo_smoke.py", "--tasks", TASKS, "--output-dir", Path(tmp, "grpo"),
                                         "--group-size", "2", "--max-steps", "1", "--quiet", *on_ray)
            self.assertEqual(trained.returncode, 0, trained.stderr)

    def test_unreachable_address_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = execute_example(tmp, "--executor", "ray", "--ray-address", "127.0.0.1:1")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn("cannot reach the Ray cluster at 127.0.0.1:1", result.stderr)


@unittest.skipUnless(HAVE_RAY, NO_RAY)
class RayClusterEdgesTest(unittest.TestCase):
    """In children: Ray keeps one authentication token per process, and these clusters differ."""

    def test_cluster_without_cpus_is_one_clear_error(self):
        from codeself.execution.ray_cluster import LocalCluster

        with LocalCluster((0,)) as empty, tempfile.TemporaryDirectory() as tmp:
            result = execute_example(tmp, "--executor", "ray", "--ray-address", empty.address,
                                     env={**os.environ, **empty.client_env})
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn(f"the Ray cluster at {empty.address} has no CPUs to run sandboxes on", result.stderr)
        self.assertEqual(empty.pids(), [])

    def test_local_instance_is_started_and_stopped_for_the_run(self):
        env = {name: value for name, value in os.environ.items() if not name.startswith("RAY_")}
        with tempfile.TemporaryDirectory() as tmp:
            result = execute_example(tmp, "--executor", "ray", "--workers", "1", "--quiet", env=env)
            self.assertEqual(result.returncode, 0, result.stderr)
            [record] = [json.loads(line) for line in Path(tmp, "out.jsonl").read_text().splitlines()]
        self.assertEqual(record["execution"]["status"], "failed")
        self.assertTrue(record["execution"]["extra"]["host"])
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)  # the summary line only: no Ray noise


@unittest.skipUnless(HAVE_RAY, NO_RAY)
class BenchExecutionRayTest(unittest.TestCase):
    def test_prints_ray_against_local(self):
        import gzip

        with tempfile.TemporaryDirectory() as tmp:
            with open(SMALL, "rb") as source, gzip.open(Path(tmp, "HumanEval.jsonl.gz"), "wb") as target:
                target.write(source.read())
            result = support.run_script("bench_execution.py", "--executor", "ray", "--data-dir", tmp, "--workers", "2",
                                        "--repeat", "4", "--rounds", "1", timeout=600)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("local Ray cluster: 2 nodes on 127.0.0.1 with 1 + 1 CPUs", result.stdout)
        self.assertRegex(result.stdout, r"ray \(2 actors, 2 workers\) .* 12 programs, .* 12 passed\)")
        self.assertRegex(result.stdout, r"\nray / local = \d+\.\d\d  \(target >= 0\.8; best rounds; medians: \d+\.\d\d\)\n")
        self.assertIn("the driver (this process) spends", result.stdout)


if __name__ == "__main__":
    unittest.main()
