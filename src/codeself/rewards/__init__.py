"""Reward functions: scalar rewards from execution results, plus diagnostics beside them.

`REWARDS` maps a reward name to its scoring function (the `score_sample` signature; a
training config's `reward` names one); `get_reward(name)` looks one up and names the valid
choices when the name is unknown. What a reward adds up is configured in a reward TOML
(configs/rewards/, `load_reward_config`) from the reward components registered in
`codeself.rewards.registry` (`register_component`): the one extension point for rollouts, the
multi-turn environment and the trainers. The TRL-convention adapter lives in
`codeself.rewards.trl` (imported on demand: it pulls in the parser and the executor).
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
from codeself.rewards.registry import (
    COMPONENTS,
    Answer,
    ComponentConfig,
    RewardComponent,
    Scored,
    Setting,
    component_terms,
    get_component,
    register_component,
)

REWARDS: dict[str, Callable[..., RewardRecord]] = {REWARD_NAME: score_sample}


def get_reward(name: str) -> Callable[..., RewardRecord]:
    """The scoring function registered as `name`; ValueError listing valid names otherwise."""
    try:
        return REWARDS[name]
    except KeyError:
        raise ValueError(f"unknown reward {name!r}; valid rewards: {', '.join(sorted(REWARDS))}") from None


__all__ = ["COMPONENTS", "REWARDS", "REWARD_NAME", "Answer", "ComponentConfig", "RewardComponent",
           "RewardConfig", "RewardRecord", "Scored", "Setting", "component_terms", "default_reward_config",
           "get_component", "get_reward", "load_reward_config", "register_component", "score_sample"]
