"""Practice: the trainers and their configs.

`config` and the stdlib smoke policy need nothing beyond the standard library; the real-model
trainer (`trl_trainer`) imports the optional `training` extra lazily, on use.
"""

from codeself.training.config import (ALGORITHMS, GRPOConfig, GRPORunConfig, PPOConfig, PPORunConfig,
                                      RLOOConfig, RunConfig, load_training_config)

__all__ = ["ALGORITHMS", "GRPOConfig", "GRPORunConfig", "PPOConfig", "PPORunConfig", "RLOOConfig",
           "RunConfig", "load_training_config"]
