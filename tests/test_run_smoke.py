"""The README's main command, end to end, into a temporary directory."""

import support

import json
import os
import stat
import tempfile
import unittest
from pathlib import Path


class RunSmokeTest(unittest.TestCase):
    def test_whole_pipeline_writes_every_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            previous = os.umask(0o022)  # the usual umask, inherited by the run and its stages
            try:
                done = support.run_script("run_smoke.py", "--output-dir", tmp, "--quiet")
            finally:
                os.umask(previous)
            self.assertEqual(done.returncode, 0, done.stderr)
            # every output is readable by a collaborator: what a plain open()/mkdir() gives under 022
            modes = {str(path.relative_to(tmp)): stat.S_IMODE(path.stat().st_mode) for path in Path(tmp).rglob("*")}
            self.assertGreater(len(modes), 40)
            self.assertEqual({name: oct(mode) for name, mode in modes.items() if mode not in (0o644, 0o755)}, {})
            self.assertEqual(done.stdout.splitlines(), [
                f"evaluation report: {Path(tmp, 'report.md')}",
                f"comparison report: {Path(tmp, 'comparison.md')}",
                f"training report: {Path(tmp, 'ppo_vs_grpo_report.md')}",
                f"reproducibility manifest: {Path(tmp, 'manifest.md')}",
            ])
            comparison = json.loads(Path(tmp, "comparison.json").read_text(encoding="utf-8"))
            untrained = [json.loads(line) for line in
                         Path(tmp, "rollouts.untrained.jsonl").read_text(encoding="utf-8").splitlines()]
            grpo_metrics = [json.loads(line) for line in
                            Path(tmp, "grpo_run", "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
            first = json.loads(Path(tmp, "grpo_run", "checkpoints", "step_000000.json").read_text())
            last = json.loads(Path(tmp, "grpo_run", "checkpoints", "step_000003.json").read_text())
            report = Path(tmp, "ppo_vs_grpo_report.md").read_text(encoding="utf-8")
        # practice really changed the policy, on the train split only
        self.assertNotEqual(first["policy"]["params"], last["policy"]["params"])
        self.assertEqual(len(grpo_metrics), 3)
        # the test split (3 example tasks x 4 samples) is evaluated for the untrained policy
        self.assertEqual({r["split"] for r in untrained}, {"test"})
        self.assertEqual(len(untrained), 12)
        self.assertEqual(comparison["n"], 3)
        self.assertIn("grpo", report.lower())
        self.assertIn("ppo", report.lower())

    def test_bad_task_file_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = support.run_script("run_smoke.py", "--tasks", Path(tmp, "missing.jsonl"),
                                      "--output-dir", tmp, "--quiet")
        self.assertNotEqual(done.returncode, 0)
        self.assertNotIn("Traceback", done.stderr)
        self.assertIn("stage 'prepare' failed", done.stderr.splitlines()[-1])


if __name__ == "__main__":
    unittest.main()
