"""Honest learning on real MBPP: practice on the train split must raise pass@1 on the locked test
split over the untrained policy (exact McNemar p < 0.01), for GRPO and for PPO; with a learning
rate of 0 nothing may change."""

import support

import json
import shutil
import tempfile
import unittest
from pathlib import Path

from codeself.reporting.compare import run_comparison, CompareOptions

PRACTICE = ("--max-steps", "6", "--prompts-per-step", "8", "--save-every", "6", "--validation-samples", "1",
            "--learning-rate", "2.0", "--quiet")


class HonestLearningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.cache = str(Path(cls.tmp, "calibration.json"))  # each reference is timed once, not once per run

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def practise(self, algorithm: str, tasks: Path, *extra: str) -> Path:
        out = Path(self.tmp, algorithm + "".join(extra))
        size = ("--samples-per-task", "8") if algorithm == "ppo" else ("--group-size", "8")
        result = support.run_script(f"train_{algorithm}_smoke.py", "--tasks", tasks, "--output-dir", out,
                                    *size, *PRACTICE, "--calibration-cache", self.cache, *extra)
        self.assertEqual(result.returncode, 0, result.stderr)
        return out

    def evaluate(self, tasks: Path, checkpoint: Path, name: str) -> Path:
        output = Path(self.tmp, name + ".jsonl")
        result = support.run_script("run_rollouts.py", "--tasks", tasks, "--split", "test", "--backend", "policy",
                                    "--model", checkpoint, "--samples-per-task", "1", "--temperature", "1",
                                    "--seed", "11", "--output", output, "--quiet",
                                    "--calibration-cache", self.cache)
        self.assertEqual(result.returncode, 0, result.stderr)
        return output

    def test_practice_raises_locked_test_pass_rate(self):
        tasks = support.prepare_real_mbpp(self, self.tmp)
        grpo = self.practise("grpo", tasks)
        base = self.evaluate(tasks, grpo / "checkpoints/step_000000.json", "base")
        for algorithm, run in (("grpo", grpo), ("ppo", self.practise("ppo", tasks))):
            with self.subTest(algorithm):
                best = json.loads((run / "best_checkpoint.json").read_text())
                practised = self.evaluate(tasks, run / best["path"], algorithm)
                result = run_comparison(base, practised, CompareOptions(bootstrap_resamples=200))
                self.assertEqual(result["n"], 500)
                self.assertGreater(result["candidate_rate"], result["baseline_rate"] + 0.1, result["table"])
                self.assertLess(result["mcnemar_exact_p"], 0.01, result["table"])

    def test_zero_learning_rate_changes_nothing(self):
        tasks = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
        out = Path(self.tmp, "frozen")
        result = support.run_script("train_grpo_smoke.py", "--tasks", tasks, "--output-dir", out,
                                    "--learning-rate", "0", "--quiet")
        self.assertEqual(result.returncode, 0, result.stderr)
        first = json.loads((out / "checkpoints/step_000000.json").read_text())["policy"]
        last = json.loads((out / "checkpoints/step_000003.json").read_text())["policy"]
        self.assertEqual(first["params"]["shared"], last["params"]["shared"])
        before = self.evaluate(tasks, out / "checkpoints/step_000000.json", "frozen-before").read_bytes()
        after = self.evaluate(tasks, out / "checkpoints/step_000003.json", "frozen-after")
        strip = lambda text: [{k: v for k, v in json.loads(l).items() if k != "timing"} for l in text.splitlines()]
        self.assertEqual(strip(before.decode()), strip(after.read_text()))


if __name__ == "__main__":
    unittest.main()
