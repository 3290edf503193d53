"""`reward_v0_correctness`: a correctness-first scalar reward with diagnostics beside it.

The scalar is built so that test outcomes dominate: every passing program scores in
[pass_reward - bonus_max, pass_reward + bonus_max] and every failing one in
[fail_reward, fail_reward + partial_credit_weight], and `RewardConfig` refuses weights for
which those ranges come closer than `min_gap`. Quality and efficiency bonuses therefore only
reorder passing programs among themselves; they can never lift a failing program above a
passing one. The exact formula is in docs/schemas.md, "Reward records".
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeself.datasets.task import Task
from codeself.execution.result import ExecutionResult
from codeself.rewards import quality

REWARD_NAME = "reward_v0_correctness"
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[3] / "configs" / "rewards" / "reward_v0.toml"


@dataclass(frozen=True)
class RewardConfig:
    """Weights of reward_v0 (configs/rewards/reward_v0.toml); validated on construction."""

    name: str = REWARD_NAME
    pass_reward: float = 1.0  # base reward of a program passing every public and hidden test
    fail_reward: float = 0.0  # base reward of any other outcome
    partial_credit_weight: float = 0.0  # failing: + weight * fraction of hidden tests passed
    quality_weight: float = 0.0  # passing: + weight * (2 * quality_score - 1), in [-w, w]
    efficiency_weight: float = 0.0  # passing: + weight * efficiency_score, in [-w, w]
    min_gap: float = 0.1  # required distance between the best failing and worst passing reward
    complexity_threshold: int = 10  # cyclomatic complexity above which quality_score drops

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "name":
                if not isinstance(value, str) or not value:
                    raise ValueError("reward config: 'name' must be a non-empty string")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"reward config: {item.name!r} must be a finite number, got {value!r}")
        for name in ("partial_credit_weight", "quality_weight", "efficiency_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"reward config: {name!r} must be >= 0, got {getattr(self, name)}")
        if self.min_gap < 1e-6:  # well above float rounding of the component sums
            raise ValueError(f"reward config: 'min_gap' must be >= 1e-6, got {self.min_gap}")
        if self.complexity_threshold < 1:
            raise ValueError("reward config: 'complexity_threshold' must be >= 1")
        if self.max_failing_reward + self.min_gap > self.min_passing_reward:
            raise ValueError(
                "reward config: a failing program could score within min_gap of a passing one: "
                f"fail_reward + partial_credit_weight = {self.max_failing_reward:g} but "
                f"pass_reward - quality_weight - efficiency_weight = {self.min_passing_reward:g} "
                f"(need a gap of at least min_gap = {self.min_gap:g}); lower the bonus or "
                "partial-credit weights or raise pass_reward")

    @property
    def bonus_max(self) -> float:
        return self.quality_weight + self.efficiency_weight

    @property
    def max_failing_reward(self) -> float:
        return self.fail_reward + self.partial_credit_weight

    @property
    def min_passing_reward(self) -> float:
        return self.pass_reward - self.bonus_max

    @classmethod
    def from_mapping(cls, values: dict[str, Any], source: str = "reward config") -> "RewardConfig":
        return config_from_mapping(cls, values, source)


def config_from_mapping(cls: type, values: dict[str, Any], source: str) -> Any:
    """`cls(**values)` for a config dataclass, refusing unknown keys in one line naming `source`
    (a misspelt TOML key must not silently keep its default)."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(known)}")
    return cls(**values)


def load_reward_config(path: str | Path | None = None) -> RewardConfig:
    """Load a RewardConfig from TOML; None -> the bundled configs/rewards/reward_v0.toml.

    When the bundled file is not shipped (an installed wheel), the dataclass defaults apply;
    a test keeps the two identical.
    """
    if path is None:
        if not DEFAULT_CONFIG_PATH.is_file():
            return RewardConfig()
        path = DEFAULT_CONFIG_PATH
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such reward config file") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: invalid TOML: {error}") from None
    return RewardConfig.from_mapping(values, source=str(path))


@functools.lru_cache(maxsize=1)
def check_reward_with_execution(config: RewardConfig, stop_at_first_failure: bool) -> None:
    """Partial credit counts the hidden tests a failing program passed; a run stopped at its
    first failure does not run the rest, so the two together would under-reward silently."""
    if stop_at_first_failure and config.partial_credit_weight > 0:
        raise ValueError(f"reward config {config.name!r} gives partial credit (partial_credit_weight = "
                         f"{config.partial_credit_weight:g}), which needs every test run: drop "
                         "stop_at_first_failure (--stop-at-first-failure) or the partial credit")


def default_reward_config() -> RewardConfig:
    return load_reward_config(None)


@dataclass(frozen=True)
class RewardRecord:
    """A scalar reward, the terms it is the sum of, and diagnostics that are not part of it."""

    name: str  # reward function name, e.g. "reward_v0_correctness"
    reward: float  # the scalar used for training and reported as reward
    components: dict[str, float]  # additive terms; their sum (in key order) is `reward`
    diagnostics: dict[str, Any]  # recorded for analysis only

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reward": self.reward,
                "components": dict(self.components), "diagnostics": dict(self.diagnostics)}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "RewardRecord":
        missing = [key for key in ("name", "reward", "components", "diagnostics") if key not in record]
        if missing:
            raise ValueError(f"reward record: missing field(s) {', '.join(missing)}")
        return cls(name=record["name"], reward=float(record["reward"]),
                   components=dict(record["components"]), diagnostics=dict(record["diagnostics"]))


def _fraction(counts: dict[str, int] | None) -> float | None:
    if not counts or not counts.get("total"):
        return None
    return counts["passed"] / counts["total"]


@functools.lru_cache(maxsize=4096)
def _reference_signals(reference: str | None) -> dict[str, Any] | None:
    return quality.quality_signals(reference)


def combine(passed: bool, hidden_pass_fraction: float, quality_score: float | None,
            efficiency_score: float | None, config: RewardConfig) -> dict[str, float]:
    """The additive components of the scalar reward (see docs/schemas.md, "Reward records")."""
    if passed:
        q_bonus = 0.0 if quality_score is None else config.quality_weight * (2 * quality_score - 1)
        e_bonus = 0.0 if efficiency_score is None else config.efficiency_weight * efficiency_score
        return {"correctness": config.pass_reward, "partial_credit": 0.0,
                "quality_bonus": q_bonus, "efficiency_bonus": e_bonus}
    return {"correctness": config.fail_reward,
            "partial_credit": config.partial_credit_weight * hidden_pass_fraction,
            "quality_bonus": 0.0, "efficiency_bonus": 0.0}


def score_sample(task: Task, code: str | None, parse_status: str,
                 execution: ExecutionResult | None, *, config: RewardConfig | None = None) -> RewardRecord:
    """Score one sample. `execution` None means the sample was not run (e.g. no code found)."""
    config = config or default_reward_config()
    passed = bool(execution is not None and execution.passed and execution.status == "passed")
    status = execution.status if execution is not None else None
    hidden = _fraction(execution.hidden) if execution is not None else None
    public = _fraction(execution.public) if execution is not None else None
    python = task.language == "python"
    # the quality signals read Python's syntax tree: other languages have none (no bonus, no penalty)
    signals = quality.quality_signals(code) if python else None
    q_score = quality.quality_score(signals, _reference_signals(task.reference_solution) if python else None,
                                    complexity_threshold=config.complexity_threshold)
    ratios = quality.efficiency(execution.duration_s, execution.cpu_time_s, task.metadata) if passed else None
    e_score = quality.efficiency_score(ratios)
    components = combine(passed, hidden or 0.0, q_score, e_score, config)
    # Python: the code parses (signals are None iff no code or no parse); other languages: it compiled
    syntax_valid = signals is not None if python else code is not None and execution is not None \
        and status != "compile_error"
    diagnostics = {
        "status": status, "passed": passed, "parse_status": parse_status,
        "parse_ok": code is not None, "syntax_valid": syntax_valid,
        "executed": execution is not None, "blocked": status == "blocked",
        "timeout": status == "timeout", "sandbox_error": status == "sandbox_error",
        "public_pass_fraction": public, "hidden_pass_fraction": hidden,
        "pass_fraction": _fraction(_total_counts(execution)),
        "quality": signals, "quality_score": q_score,
        "efficiency": ratios, "efficiency_score": e_score,
    }
    return RewardRecord(name=config.name, reward=sum(components.values()),
                        components=components, diagnostics=diagnostics)


def _total_counts(execution: ExecutionResult | None) -> dict[str, int] | None:
    if execution is None:
        return None
    return {"passed": execution.public.get("passed", 0) + execution.hidden.get("passed", 0),
            "total": execution.public.get("total", 0) + execution.hidden.get("total", 0)}
