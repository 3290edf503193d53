"""Reward functions: scalar rewards from execution results, plus diagnostics beside them.

`REWARDS` maps a reward name to its scoring function (the `score_sample` signature);
`get_reward(name)` looks one up and names the valid choices when the name is unknown. The
TRL-convention adapter lives in `codeself.rewards.trl` (imported on demand: it pulls in the
parser and the executor).
"""

from __future__ import annotations

from collections.abc import Callable

from codeself.rewards.correctness import (
    REWARD_NAME,
    RewardConfig,
    RewardRecord,
    default_reward_config,
    load_reward_config,
    score_sample,
)

REWARDS: dict[str, Callable[..., RewardRecord]] = {REWARD_NAME: score_sample}


def get_reward(name: str) -> Callable[..., RewardRecord]:
    """The scoring function registered as `name`; ValueError listing valid names otherwise."""
    try:
        return REWARDS[name]
    except KeyError:
        raise ValueError(f"unknown reward {name!r}; valid rewards: {', '.join(sorted(REWARDS))}") from None


__all__ = ["REWARDS", "REWARD_NAME", "RewardConfig", "RewardRecord", "default_reward_config",
           "get_reward", "load_reward_config", "score_sample"]
