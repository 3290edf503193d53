import support

import tempfile
import unittest
from pathlib import Path

from codeself.training import GRPOConfig, PPOConfig, RLOOConfig, load_training_config
from codeself.training.config import config_from_json


class TrainingConfigTest(unittest.TestCase):
    def test_bundled_configs_load(self):
        grpo = load_training_config(support.REPO_ROOT / "configs/training/grpo.toml")
        self.assertIsInstance(grpo, GRPOConfig)
        self.assertIsInstance(load_training_config(support.REPO_ROOT / "configs/training/ppo.toml"), PPOConfig)
        smoke = {name: load_training_config(support.REPO_ROOT / f"configs/training/{name}_smoke.toml")
                 for name in ("grpo", "ppo", "rloo")}
        self.assertIsInstance(smoke["rloo"], RLOOConfig)
        # The comparison protocol: the smoke runs share policy, tasks, seed, steps and sample budget.
        for name in ("model", "tasks", "seed", "max_steps", "prompts_per_step", "learning_rate"):
            self.assertEqual(len({getattr(c, name) for c in smoke.values()}), 1, name)
        self.assertEqual(len({c.samples_per_prompt for c in smoke.values()}), 1)

    def test_practice_on_test_split_is_refused(self):
        with self.assertRaisesRegex(ValueError, "practice must use the 'train' split"):
            GRPOConfig(train_split="test")

    def test_bad_values_are_refused(self):
        with self.assertRaisesRegex(ValueError, "num_generations must be >= 2"):
            GRPOConfig(num_generations=1)
        with self.assertRaisesRegex(ValueError, r"num_generations must be >= 2 \(k: RLOO's baseline"):
            RLOOConfig(num_generations=1)
        with self.assertRaisesRegex(ValueError, "scale_rewards must be one of group, batch, none"):
            GRPOConfig(scale_rewards="std")
        with self.assertRaisesRegex(ValueError, "loss_type"):
            GRPOConfig(loss_type="sum")
        with self.assertRaisesRegex(ValueError, "validation only"):
            PPOConfig(validation_split="test")

    def test_trl_booleans_and_hash(self):
        self.assertEqual(GRPOConfig(scale_rewards=True).scale_rewards, "group")
        self.assertEqual(GRPOConfig(scale_rewards=False).scale_rewards, "none")
        self.assertEqual(GRPOConfig().clip_high, 0.2)
        self.assertEqual(GRPOConfig(epsilon_high=0.28).clip_high, 0.28)
        config = GRPOConfig(model="mock", seed=3)
        self.assertEqual(config_from_json(config.to_json()), config)
        self.assertEqual(config.config_hash(), GRPOConfig(model="mock", seed=3, output_dir="elsewhere").config_hash())
        self.assertNotEqual(config.config_hash(), GRPOConfig(model="mock", seed=4).config_hash())

    def test_timeout_floor_is_hashed_only_when_set(self):
        default = GRPOConfig(model="mock", seed=3)
        self.assertNotIn("timeout_floor_s", default.to_json())  # earlier runs keep their hashes
        fast = GRPOConfig(model="mock", seed=3, timeout_floor_s=0.25)
        self.assertEqual(fast.to_json()["timeout_floor_s"], 0.25)
        self.assertNotEqual(fast.config_hash(), default.config_hash())  # it can change verdicts
        self.assertEqual(config_from_json(fast.to_json()), fast)
        self.assertEqual(config_from_json(default.to_json()), default)
        with self.assertRaisesRegex(ValueError, "timeout_floor_s must be > 0"):
            GRPOConfig(timeout_floor_s=0)

    def test_a_bad_value_is_blamed_on_its_flag_or_its_key(self):
        flags = {"samples_per_task": "--samples-per-task", "num_ppo_epochs": "--num-ppo-epochs", "lam": "--lam"}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "c.toml"
            path.write_text('algorithm = "ppo"\nmodel = "mock"\nsamples_per_task = 0\nlam = 2.0\n', encoding="utf-8")
            with self.assertRaises(ValueError) as raised:
                load_training_config(path)
            self.assertEqual(str(raised.exception), f"{path}: lam = 2.0: must be in [0, 1]")
            with self.assertRaises(ValueError) as raised:  # overridden by a flag: the flag and its value
                load_training_config(path, {"lam": 0.9, "samples_per_task": 4, "num_ppo_epochs": 0}, flags)
            self.assertEqual(str(raised.exception), "--num-ppo-epochs 0: must be >= 1")
            with self.assertRaises(ValueError) as raised:  # a flag that was not given takes no blame
                load_training_config(path, {"lam": 0.9}, flags)
            self.assertEqual(str(raised.exception), f"{path}: samples_per_task = 0: must be >= 1")

    def test_unknown_key_and_algorithm_are_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "c.toml"
            path.write_text('algorithm = "grpo"\nlearning_rte = 0.1\n', encoding="utf-8")
            with self.assertRaisesRegex(ValueError, "unknown grpo field.*learning_rte"):
                load_training_config(path)
            path.write_text('algorithm = "dpo"\n', encoding="utf-8")
            with self.assertRaisesRegex(ValueError, "'algorithm' must be one of grpo, ppo, rloo"):
                load_training_config(path)


if __name__ == "__main__":
    unittest.main()
