"""scripts/bench_training.py prints its figures; it is run here, never timed here."""

import support

import json
import tempfile
import unittest
from pathlib import Path


class BenchTrainingTest(unittest.TestCase):
    def test_smoke_section_is_the_default(self):
        done = support.run_script("bench_training.py")
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        for algorithm in ("grpo", "ppo", "rloo"):
            self.assertTrue(any(line.startswith(f"smoke {algorithm} example command: ") for line in lines), lines)
        self.assertRegex(done.stdout, r"GRPO policy math, 8 prompts x G 8, 2 iterations, no execution: \d+ steps/s")

    def test_real_metrics_split(self):
        with tempfile.TemporaryDirectory() as tmp:
            records = [{"step": step, "timing": {"generation_s": 30.0, "reward_s": 0.5, "update_s": 29.5,
                                                 "step_s": 60.0, "validation_s": 10.0 if step == 2 else None},
                        "memory": {"peak_rss_mb": 9000.0 + step}} for step in (1, 2)]
            Path(tmp, "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
            # in this process (support.refusal's way): a summary of one file, no interpreter start
            done = support.refusal("bench_training.py", "--real-metrics", tmp)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("per step (mean s): generation 30.00, reward 0.50, update 29.50, step 60.00", done.stdout)
        self.assertIn("reward share of step time: 0.8% (target < 5%: ok)", done.stdout)
        self.assertIn("peak RSS: 9002 MB", done.stdout)

    def test_bad_input_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = support.refusal("bench_training.py", "--real-metrics", tmp)
        self.assertEqual(done.returncode, 2)
        self.assertNotIn("Traceback", done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)


if __name__ == "__main__":
    unittest.main()
