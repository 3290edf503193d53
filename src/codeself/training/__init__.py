"""Training configuration. The trainers themselves need the optional `training` extra."""

from codeself.training.config import GRPORunConfig, PPORunConfig, load_training_config

__all__ = ["GRPORunConfig", "PPORunConfig", "load_training_config"]
