"""The README's main command, end to end, into a temporary directory."""

import support

import json
import tempfile
import unittest
from pathlib import Path


class RunSmokeTest(unittest.TestCase):
    def test_whole_pipeline_writes_every_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = support.run_script("run_smoke.py", "--output-dir", tmp, "--quiet")
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.splitlines(), [
                f"evaluation report: {Path(tmp, 'report.md')}",
                f"comparison report: {Path(tmp, 'comparison.md')}",
                f"reproducibility manifest: {Path(tmp, 'manifest.md')}",
            ])
            metrics = json.loads(Path(tmp, "metrics.json").read_text(encoding="utf-8"))
            comparison = json.loads(Path(tmp, "comparison.json").read_text(encoding="utf-8"))
            rollouts = Path(tmp, "rollouts.baseline.jsonl").read_text(encoding="utf-8").splitlines()
        # 8 example tasks x 4 samples; the mock marks which samples it meant to be correct,
        # and with screened mutants exactly those pass.
        records = [json.loads(line) for line in rollouts]
        self.assertEqual(len(records), 32)
        intended = sum(r["metadata"]["mock_variant"] == "correct" for r in records) / 32
        self.assertEqual(metrics["pass_at_k"]["1"], intended)
        self.assertEqual(comparison["n"], 3)  # the example file's test split

    def test_bad_task_file_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = support.run_script("run_smoke.py", "--tasks", Path(tmp, "missing.jsonl"),
                                      "--output-dir", tmp, "--quiet")
        self.assertNotEqual(done.returncode, 0)
        self.assertNotIn("Traceback", done.stderr)
        self.assertIn("stage 'prepare' failed", done.stderr.splitlines()[-1])


if __name__ == "__main__":
    unittest.main()
