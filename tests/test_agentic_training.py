"""Training with episodes: the TRL environment_factory adapter (without TRL) and multi-turn smoke practice."""

import support

import inspect
import json
import math
import tempfile
import typing
import unittest
from pathlib import Path

from codeself.agents.agentic.env import EnvConfig
from codeself.agents.agentic.rewards import EpisodeRewardConfig
from codeself.agents.agentic.trl_env import EPISODE_OVER, AgenticEnvFactory, CodeSelfToolEnv, agentic_episode_return
from codeself.execution.engine import ExecutionConfig, Executor
from codeself.training.policy import Sample, SoftmaxPolicy

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
WRONG = "def digit_sum(n):\n    return 0\n"
RIGHT = "def digit_sum(n):\n    return sum(int(d) for d in str(n))\n"


class TRLAdapterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def factory(self, **config) -> AgenticEnvFactory:
        return AgenticEnvFactory(str(EXAMPLES), EnvConfig(**config), executor=self.executor)

    def test_tool_signature_is_what_trl_reads(self):
        hints = typing.get_type_hints(CodeSelfToolEnv.submit_code)
        self.assertEqual(hints, {"code": str, "return": str})
        doc = CodeSelfToolEnv.submit_code.__doc__
        self.assertIn("Args:\n            code:", doc)
        self.assertIn("Returns:", doc)
        # TRL lists the class's functions; all public ones but reset and get_reward become tools
        functions = [name for name, _ in inspect.getmembers(CodeSelfToolEnv, predicate=inspect.isfunction)]
        self.assertEqual([name for name in functions if not name.startswith("_")], ["get_reward", "reset", "submit_code"])

    def test_tool_schema_with_transformers_where_installed(self):
        try:
            from transformers.utils import get_json_schema
        except ImportError:
            self.skipTest("transformers is not installed: the tool schema TRL builds from it is not checked")
        schema = get_json_schema(CodeSelfToolEnv(self.factory()).submit_code)
        self.assertEqual(schema["function"]["name"], "submit_code")
        self.assertEqual(schema["function"]["parameters"]["required"], ["code"])
        self.assertEqual(schema["function"]["parameters"]["properties"]["code"]["type"], "string")

    def test_episode_through_the_tool_and_the_reward_function(self):
        factory = self.factory(max_revisions=2)
        envs = [factory(), factory(), factory()]
        for env in envs:
            self.assertIsNone(env.reset(task_id="example/digit_sum", prompt="ignored column"))
        feedback = envs[0].submit_code(WRONG)
        self.assertIn("Failed public test 1", feedback)
        self.assertTrue(envs[0].submit_code(RIGHT).endswith(EPISODE_OVER))  # public pass ends it
        self.assertEqual(envs[0].submit_code(RIGHT), EPISODE_OVER)
        envs[1].submit_code(WRONG)  # one wrong call, then the model stops: ended by the reward function
        rewards = agentic_episode_return(completions=["", "", f"```python\n{RIGHT}```"], environments=envs)
        # env 0: r = [0.25, 1] -> 0.5 * 0.25 + 0.75 = 0.875; env 1: ended after r1 = 0.25 -> 0.25;
        # env 2: never called the tool, its final reply is the submission: r1 = 1 -> 1.0
        self.assertEqual(rewards, [0.875, 0.25, 1.0])
        self.assertEqual(envs[1].env.trace().stop_reason, "client")
        owned = factory()  # the environment's own reward hook: no call at all is a reply without code
        owned.reset(task_id="example/digit_sum")
        self.assertEqual(owned.get_reward(), 0.0)
        self.assertEqual(owned.env.trace().turns[0].parse_status, "no_code")

    def test_repair_rows_and_bad_rows(self):
        env = self.factory(mode="repair", reward=EpisodeRewardConfig("rlef"))()
        shown = env.reset(task_id="example/gcd_of_list", seed=2)
        self.assertTrue(shown.startswith("This program was written for the task above:"))
        self.assertIn("Failed public test", shown)
        with self.assertRaisesRegex(ValueError, "task_id"):
            env.reset(prompt="no id")
        with self.assertRaisesRegex(ValueError, "environments="):
            agentic_episode_return(completions=["x"])

    def test_trl_is_not_imported(self):
        import sys

        self.assertNotIn("trl", sys.modules)


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
                *extra)

    def train(self, script: str, out: Path, *extra: str):
        return support.run_script(*self.train_call(script, out, *extra))

    def test_grpo_and_rloo_practise_two_turn_episodes(self):
        with tempfile.TemporaryDirectory() as tmp:
            scripts = ("train_grpo_smoke.py", "train_rloo_smoke.py")
            runs = support.run_scripts(*(self.train_call(script, Path(tmp, script), "--max-revisions", "1")
                                         for script in scripts))  # both at once
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
            done = self.train("train_ppo_smoke.py", Path(tmp, "ppo"), "--max-revisions", "1")
            self.assertEqual(done.returncode, 2)
            self.assertIn("--max-revisions 1: must be 0 with ppo or a real model: multi-turn practice is for the smoke "
                          "policy with grpo or rloo", done.stderr)


if __name__ == "__main__":
    unittest.main()
