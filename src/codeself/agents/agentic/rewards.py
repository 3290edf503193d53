"""Episode rewards of the multi-turn environment, selectable by name (`EPISODE_REWARDS`).

Notation: an episode has T model turns t = 1..T. After turn t the program standing is scored by
r_t = (public + hidden tests passed) / (public + hidden tests), r_t = 0 for a reply with no code.
r_0 = 0 in solve mode; in repair mode r_0 is the starting (buggy) program's fraction.

* `cocos` — CoCoS's accumulated progressive reward (arXiv 2505.23060):

      R = Σ_{t=1}^{T} γ^{T−t} (r_t − r_{t−1})            (γ = `gamma`, 0.5 by default)

  For T = 2 and r_0 = 0 this is r_2 − (1 − γ) r_1; with binary outcomes and γ = 0.5:
  wrong→right 1, right→wrong −0.5, right→right 0.5, wrong→wrong 0. Later turns weigh more, so
  improving is rewarded over getting it right and keeping it.
* `rlef` — RLEF's terminal reward (arXiv 2410.02089): R = +1 when the final submission passes
  every hidden test, −1 otherwise.

Penalties, delivered at the step that earns them (so the Gym return is R + Σ_t p_t):

      p_t = − step_penalty − identical_penalty · [code_t == code_{t−1}] − no_code_penalty · [no code in reply t]

`no_code_penalty` defaults to 0.2 for `rlef` (a reply with no code must score below a wrong
program) and 0 for `cocos` (whose r_t is already 0 for it); the other two default to 0.

Reward components (`reward_config`, a reward TOML of configs/rewards; none by default): each
turn's program is also scored by the components of `codeself.rewards.registry` that the TOML
weights (reward_v0's quality and efficiency bonuses, partial credit, and any registered one),
and their terms c_t (`turn_components`) are added to that step: the step returns p_t + Σ c_t.
The TOML's pass/fail base is not added: in an episode, R is that. The environment returns
p_t (+ Σ c_t) at every step and adds R at the last one.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codeself.datasets.task import Task

EPISODE_REWARDS = ("cocos", "rlef")
DEFAULT_NO_CODE_PENALTY = {"cocos": 0.0, "rlef": 0.2}


@dataclass(frozen=True)
class EpisodeRewardConfig:
    """The field metadata is the help of the flags of scripts/run_agentic.py and serve_env.py
    (`codeself.cli.add_episode_flags`)."""

    name: str = field(default="cocos", metadata={  # one of EPISODE_REWARDS
        "flag": "--reward", "help": "episode reward: cocos (progressive) or rlef (terminal +1/-1)"})
    gamma: float = field(default=0.5, metadata={"help": "cocos: discount of earlier improvements, γ^(T−t)"})
    no_code_penalty: float | None = field(default=None, metadata={  # None: DEFAULT_NO_CODE_PENALTY[name]
        "help": "subtracted for a reply with no code",
        "default_help": ", ".join(f"{value:g} for {name}" for name, value in DEFAULT_NO_CODE_PENALTY.items())})
    step_penalty: float = field(default=0.0, metadata={  # a cost for using revisions
        "help": "subtracted per model turn"})
    identical_penalty: float = field(default=0.0, metadata={
        "help": "subtracted for resubmitting the previous program unchanged"})
    reward_config: str | None = field(default=None, metadata={
        "help": "reward TOML (configs/rewards) whose weighted components (quality, efficiency, ... any registered "
                "in codeself.rewards.registry) are added to each turn's reward; its pass/fail base is not",
        "default_help": "none"})

    def __post_init__(self) -> None:
        if self.name not in EPISODE_REWARDS:
            raise ValueError(f"unknown episode reward {self.name!r}; choose one of {', '.join(EPISODE_REWARDS)}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        for name in ("no_code_penalty", "step_penalty", "identical_penalty"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be >= 0 (it is subtracted), got {value}")
        self.components()  # a bad reward TOML fails here, in one line

    def components(self) -> Any:
        """The RewardConfig of `reward_config` (None without one)."""
        if self.reward_config is None:
            return None
        try:  # cached per file version: a step must not reread the TOML, an edited file must be reread
            version = os.stat(self.reward_config).st_mtime_ns
        except OSError:
            version = None
        return _load_reward_config(self.reward_config, version)

    @property
    def no_code(self) -> float:
        return DEFAULT_NO_CODE_PENALTY[self.name] if self.no_code_penalty is None else self.no_code_penalty

    def to_json(self) -> dict[str, Any]:
        values = {"name": self.name, "gamma": self.gamma, "no_code_penalty": self.no_code,
                  "step_penalty": self.step_penalty, "identical_penalty": self.identical_penalty}
        if self.reward_config is not None:  # its content, not its path (absent: the hash is unchanged)
            values["reward_config"] = self.components().to_json()
        return values


@functools.lru_cache(maxsize=16)
def _load_reward_config(path: str, version: int | None) -> Any:
    from codeself.rewards import load_reward_config

    return load_reward_config(path)


def progressive_reward(progress: Sequence[float], gamma: float, r0: float = 0.0) -> float:
    """CoCoS: Σ_{t=1}^{T} γ^{T−t} (r_t − r_{t−1}) over `progress` = [r_1, ..., r_T].

    >>> progressive_reward([0.0, 1.0], 0.5)  # wrong -> right: 0.5·0 + 1·1
    1.0
    >>> progressive_reward([1.0, 0.0], 0.5)  # right -> wrong: 0.5·1 + 1·(−1)
    -0.5
    """
    total, previous, count = 0.0, r0, len(progress)
    for t, value in enumerate(progress, start=1):
        total += gamma ** (count - t) * (value - previous)
        previous = value
    return total


def rlef_reward(final_hidden_passed: bool) -> float:
    """RLEF's terminal reward: +1 when the final submission passes every hidden test, else −1."""
    return 1.0 if final_hidden_passed else -1.0


def step_penalty(config: EpisodeRewardConfig, *, identical: bool, no_code: bool) -> float:
    """p_t of the module docstring (≤ 0)."""
    return 0.0 - (config.step_penalty + config.identical_penalty * identical + config.no_code * no_code)


def terminal_reward(config: EpisodeRewardConfig, progress: Sequence[float], r0: float,
                    final_hidden_passed: bool) -> float:
    """R of the module docstring, given every turn's r_t and the final submission's hidden verdict."""
    if config.name == "cocos":
        return progressive_reward(progress, config.gamma, r0)
    return rlef_reward(final_hidden_passed)


def turn_components(config: EpisodeRewardConfig, task: Task, code: str | None, parse_status: str,
                    execution: Any, *, turn: int, previous_code: str | None) -> dict[str, float]:
    """c_t of the module docstring: the weighted component terms of this turn's program, by
    component name ({} without a reward_config)."""
    reward_config = config.components()
    if reward_config is None:
        return {}
    from codeself.rewards import Answer, component_terms

    answer = Answer(task, code, parse_status, execution, turn=turn, previous_code=previous_code)
    return component_terms(reward_config.component_configs, answer)[0]


def tests_passed_fraction(public: dict[str, int], hidden: dict[str, int]) -> float:
    """r_t: the fraction of all tests passed (0 when the task has none)."""
    total = public["total"] + hidden["total"]
    return (public["passed"] + hidden["passed"]) / total if total else 0.0
