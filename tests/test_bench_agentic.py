"""scripts/bench_agentic.py at toy sizes: it runs and prints every figure (speed itself is the
benchmark's business, not a unit test's; the --hf part needs a model: only its bad input here)."""

import support

import unittest

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


class BenchAgenticTest(unittest.TestCase):
    def test_prints_loop_server_and_memory_figures(self):
        done = support.run_script("bench_agentic.py", "--tasks", EXAMPLES, "--limit", "4", "--workers", "1",
                                  "--clients", "2", "--episodes", "8", "--memory-episodes", "20")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, r"loop: run_agentic.py [\d.]+ s; execute_samples.py on the same \d+ programs")
        self.assertRegex(done.stdout, r"server: 8 steps from 2 clients in [\d.]+ s = \d+ steps/s")
        self.assertIn("p99", done.stdout)
        self.assertIn("0 errors", done.stdout)
        self.assertRegex(done.stdout, r"memory: server RSS \(MB\) every \d+ episodes over 20:( [\d.]+)+")

    def test_bad_sizes_are_one_line(self):
        done = support.run_script("bench_agentic.py", "--clients", "0", "--skip-loop")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--clients must be >= 1", done.stderr)
        done = support.run_script("bench_agentic.py", "--hf", "--hf-samples", "0", "--skip-loop", "--skip-server")
        self.assertEqual((done.returncode, done.stderr.count("\n")), (2, 1), done.stderr)
        self.assertIn("--hf-samples", done.stderr)


if __name__ == "__main__":
    unittest.main()
