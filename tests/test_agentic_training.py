"""Training with episodes: multi-turn smoke practice. The TRL routes of the environment (the
environment_factory adapter and the rollout_func route) are tested in test_agentic_trl."""

import support

import json
import math
import tempfile
import unittest
from pathlib import Path

from codeself.training.policy import Sample, SoftmaxPolicy

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


class MultiTurnPolicyTest(unittest.TestCase):
    def test_multi_turn_log_probs_and_gradient_are_per_turn_sums(self):
        policy = SoftmaxPolicy.initial(seed=0, correct_fraction=0.4)
        first, second = Sample.from_names("mutated", "fenced"), Sample.from_names("correct", "unfenced")
        episode = Sample.from_turns([first, second])
        self.assertEqual(episode.actions, first.actions + second.actions)
        self.assertEqual(policy.token_logprobs("t", episode),
                         policy.token_logprobs("t", first) + policy.token_logprobs("t", second))
        joint = policy.gradient([("t", episode, [0.3, 0.1, -0.2, 0.5])])
        split = policy.gradient([("t", first, [0.3, 0.1]), ("t", second, [-0.2, 0.5])])
        for name in ("plan", "form"):
            for a, b in zip(joint.shared[name], split.shared[name]):
                self.assertTrue(math.isclose(a, b, abs_tol=1e-12))


class MultiTurnSmokeTest(unittest.TestCase):
    def train_call(self, script: str, out: Path, *extra: str) -> tuple:
        return (script, "--tasks", EXAMPLES, "--output-dir", out, "--max-steps", "2", "--workers", "1", "--quiet",
                *support.FAST_TIMEOUTS, *extra)

    def test_grpo_and_rloo_practise_two_turn_episodes(self):
        with tempfile.TemporaryDirectory() as tmp:
            scripts = ("train_grpo_smoke.py", "train_rloo_smoke.py")
            # both at once; one sample per validation task: validation is not what is checked here
            runs = support.run_scripts(*(self.train_call(script, Path(tmp, script), "--max-revisions", "1",
                                                         "--validation-samples", "1") for script in scripts))
            for script, done in zip(scripts, runs):
                out = Path(tmp, script)
                self.assertEqual(done.returncode, 0, done.stderr)
                metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
                for key in ("turns/pass_rate", "turns/fix_rate", "turns/regression_rate", "turns/identical_rate"):
                    self.assertIn(key, metrics[-1])
                self.assertEqual(len(metrics[-1]["turns/pass_rate"]), 2)
                rollouts = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
                self.assertTrue(all(len(r["turns"]) == 2 and r["reward"]["name"] == "cocos_progressive" for r in rollouts))
                for record in rollouts:  # the reward is CoCoS's on the recorded progress, gamma 0.5
                    r1, r2 = record["reward"]["components"]["progress"]
                    self.assertAlmostEqual(record["reward"]["reward"], 0.5 * r1 + (r2 - r1))
                config = json.loads((out / "config.json").read_text())
                self.assertEqual(config["config"]["max_revisions"], 1)

    def test_single_turn_hash_unchanged_and_ppo_refused(self):
        from codeself.training.config import GRPOConfig

        self.assertNotIn("max_revisions", GRPOConfig(model="mock").to_json())
        self.assertNotEqual(GRPOConfig(model="mock").config_hash(), GRPOConfig(model="mock", max_revisions=1).config_hash())
        with tempfile.TemporaryDirectory() as tmp:
            # in this process (support.refusal): refused before any work
            done = support.refusal(*self.train_call("train_ppo_smoke.py", Path(tmp, "ppo"), "--max-revisions", "1"))
            self.assertEqual(done.returncode, 2)
            self.assertIn("--max-revisions 1: must be 0 with ppo, and with a real model but for grpo", done.stderr)
        from codeself.training.config import RLOOConfig

        GRPOConfig(model="SmolLM2-135M-Instruct", max_revisions=1)  # real models practise episodes with grpo
        with self.assertRaisesRegex(ValueError, "max_revisions must be 0 with ppo, and with a real model but for grpo"):
            RLOOConfig(model="SmolLM2-135M-Instruct", max_revisions=1)


if __name__ == "__main__":
    unittest.main()
