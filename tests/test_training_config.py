import support

import tempfile
import unittest
from pathlib import Path

from codeself.training import GRPORunConfig, PPORunConfig, load_training_config


class TrainingConfigTest(unittest.TestCase):
    def test_bundled_configs_load(self):
        grpo = load_training_config(support.REPO_ROOT / "configs/training/grpo.toml")
        ppo = load_training_config(support.REPO_ROOT / "configs/training/ppo.toml")
        self.assertIsInstance(grpo, GRPORunConfig)
        self.assertIsInstance(ppo, PPORunConfig)
        # The comparison protocol: both share model, tasks, seed, steps and token budget.
        for name in ("model", "tasks", "seed", "max_steps", "max_completion_tokens"):
            self.assertEqual(getattr(grpo, name), getattr(ppo, name), name)

    def test_practice_on_test_split_is_refused(self):
        with self.assertRaisesRegex(ValueError, "practice must use the 'train' split"):
            GRPORunConfig(train_split="test")

    def test_group_must_fit_batch(self):
        with self.assertRaisesRegex(ValueError, "multiple of num_generations"):
            GRPORunConfig(per_device_batch_size=6, num_generations=4)
        with self.assertRaisesRegex(ValueError, "num_generations must be >= 2"):
            GRPORunConfig(num_generations=1, per_device_batch_size=1)

    def test_unknown_key_and_algorithm_are_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "c.toml"
            path.write_text('algorithm = "grpo"\nlearning_rte = 0.1\n', encoding="utf-8")
            with self.assertRaisesRegex(ValueError, "unknown grpo field.*learning_rte"):
                load_training_config(path)
            path.write_text('algorithm = "dpo"\n', encoding="utf-8")
            with self.assertRaisesRegex(ValueError, "'algorithm' must be one of grpo, ppo"):
                load_training_config(path)


if __name__ == "__main__":
    unittest.main()
