"""`reward_v0_correctness`: a correctness-first scalar reward with diagnostics beside it.

The scalar is the correctness base (`pass_reward` or `fail_reward`) plus one term per reward
component (`codeself.rewards.registry`): reward_v0's three (partial credit, quality and
efficiency bonuses, `codeself.rewards.components`), then any others a `[components.<name>]`
table of the reward TOML adds. It is built so that test outcomes dominate: `RewardConfig`
adds up every component's worst case and refuses weights for which the best failing reward
comes closer than `min_gap` to the worst passing one. Bonuses therefore only reorder passing
programs among themselves; they can never lift a failing program above a passing one. The
exact formula is in docs/schemas.md, "Reward records".
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
from codeself.rewards.components import V0_COMPONENTS, counts_fraction
from codeself.rewards.registry import Answer, ComponentConfig, component_config, component_terms

REWARD_NAME = "reward_v0_correctness"
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CONFIG_PATH = REPO_ROOT / "configs" / "rewards" / "reward_v0.toml"
# the flat reward_v0 keys that configure the built-in components: component -> {table key: flat key}
V0_KEYS = {"partial_credit": {"weight": "partial_credit_weight"},
           "quality_bonus": {"weight": "quality_weight", "complexity_threshold": "complexity_threshold"},
           "efficiency_bonus": {"weight": "efficiency_weight"}}


@dataclass(frozen=True)
class RewardConfig:
    """A reward config (configs/rewards/*.toml); validated on construction. The flat fields are
    the correctness base and reward_v0's components; `components` are further registered
    components, in order (their `[components.<name>]` tables)."""

    name: str = REWARD_NAME
    pass_reward: float = 1.0  # base reward of a program passing every public and hidden test
    fail_reward: float = 0.0  # base reward of any other outcome
    partial_credit_weight: float = 0.0  # failing: + weight * fraction of hidden tests passed
    quality_weight: float = 0.0  # passing: + weight * (2 * quality_score - 1), in [-w, w]
    efficiency_weight: float = 0.0  # passing: + weight * efficiency_score, in [-w, w]
    min_gap: float = 0.1  # required distance between the best failing and worst passing reward
    complexity_threshold: int = 10  # cyclomatic complexity above which quality_score drops
    components: tuple[ComponentConfig, ...] = ()  # further components, after reward_v0's three

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "components":
                self._check_components()
            elif item.name == "name":
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
            others = " + the other components' extremes" if self.components else ""
            raise ValueError(
                "reward config: a failing program could score within min_gap of a passing one: "
                f"fail_reward + partial_credit_weight{others} = {self.max_failing_reward:g} but "
                f"pass_reward - quality_weight - efficiency_weight{others} = {self.min_passing_reward:g} "
                f"(need a gap of at least min_gap = {self.min_gap:g}); lower the bonus, penalty or "
                "partial-credit weights or raise pass_reward")

    def _check_components(self) -> None:
        names = [c.name for c in self.components]
        if not all(isinstance(c, ComponentConfig) for c in self.components):
            raise ValueError("reward config: 'components' must be ComponentConfig values (use from_mapping)")
        for name in names:
            if name in V0_COMPONENTS:
                keys = ", ".join(V0_KEYS[name].values())
                raise ValueError(f"reward config: {name!r} is reward_v0's own component; set {keys}")
            if names.count(name) > 1:
                raise ValueError(f"reward config: component {name!r} is listed twice")
            ComponentConfig(name, 0.0).component  # unknown name: one line listing the valid ones

    @property
    def bonus_max(self) -> float:
        return self.quality_weight + self.efficiency_weight

    @property
    def max_failing_reward(self) -> float:
        """The highest reward a failing sample can get (every component at its failing best)."""
        return self.fail_reward + self.partial_credit_weight + sum(
            c.bound()[1] for c in self.components if c.component.counts(False))

    @property
    def min_passing_reward(self) -> float:
        """The lowest reward a passing sample can get (every component at its passing worst)."""
        return self.pass_reward - self.bonus_max + sum(
            c.bound()[0] for c in self.components if c.component.counts(True))

    @property
    def component_configs(self) -> tuple[ComponentConfig, ...]:
        """Every component of this reward, in record order: reward_v0's three, then `components`."""
        v0 = tuple(ComponentConfig(name, getattr(self, keys["weight"]),
                                   tuple((key, getattr(self, flat)) for key, flat in keys.items() if key != "weight"))
                   for name, keys in V0_KEYS.items())
        return v0 + self.components

    def to_json(self) -> dict[str, Any]:
        """The TOML's content: flat fields, plus `components` (name -> table) when there are any."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "components"}
        if self.components:
            values["components"] = {c.name: c.to_json() for c in self.components}
        return values

    @classmethod
    def from_mapping(cls, values: dict[str, Any], source: str = "reward config") -> "RewardConfig":
        """From a parsed TOML: flat keys, and `[components.<name>]` tables, either for reward_v0's
        components (the same as their flat keys; giving both is refused) or for other registered
        ones. Unknown keys and component names are refused in one line."""
        values = dict(values)
        tables = values.pop("components", {})
        if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
            raise ValueError(f"{source}: 'components' must be tables [components.<name>] of weight and settings")
        extra = []
        for name, table in tables.items():
            settings = component_config(name, table, source)
            if name not in V0_KEYS:
                extra.append(settings)
                continue
            for key, flat in V0_KEYS[name].items():
                if key in table and flat in values:
                    raise ValueError(f"{source}: {flat} and [components.{name}] {key} both given; keep one")
                if key in table:
                    values[flat] = table[key]
        return config_from_mapping(cls, {**values, **({"components": tuple(extra)} if extra else {})}, source)


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
    if not path.exists() and not path.is_absolute() and (REPO_ROOT / path).is_file():
        path = REPO_ROOT / path  # the repo-relative configs/rewards/... from any working directory
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
    first failure does not run the rest, so the two together would under-reward silently (and
    so for any component declaring `needs_every_test`)."""
    if not stop_at_first_failure:
        return
    for item in config.component_configs:
        needs = item.component.needs_every_test
        if needs and item.weight > 0:
            raise ValueError(f"reward config {config.name!r} gives {needs} ({item.name} weight = {item.weight:g}), "
                             "which needs every test run: drop stop_at_first_failure (--stop-at-first-failure) "
                             f"or the weight of {item.name}")


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
    answer = Answer(task, code, parse_status, execution)
    terms, diagnostics = component_terms(config.component_configs, answer, outcome_diagnostics(answer))
    components = {"correctness": config.pass_reward if answer.passed else config.fail_reward, **terms}
    return RewardRecord(name=config.name, reward=sum(components.values()), components=components,
                        diagnostics=diagnostics)


def outcome_diagnostics(answer: Answer) -> dict[str, Any]:
    """The diagnostics every reward record has, whatever its components: what ran and passed."""
    execution, code = answer.execution, answer.code
    status = execution.status if execution is not None else None
    # Python: the code parses (signals are None iff no code or no parse); other languages: it compiled
    syntax_valid = answer.quality_signals is not None if answer.python else code is not None \
        and execution is not None and status != "compile_error"
    return {
        "status": status, "passed": answer.passed, "parse_status": answer.parse_status,
        "parse_ok": code is not None, "syntax_valid": syntax_valid,
        "executed": execution is not None, "blocked": status == "blocked",
        "timeout": status == "timeout", "sandbox_error": status == "sandbox_error",
        "public_pass_fraction": counts_fraction(execution.public) if execution is not None else None,
        "hidden_pass_fraction": counts_fraction(execution.hidden) if execution is not None else None,
        "pass_fraction": counts_fraction(_total_counts(execution)),
    }


def _total_counts(execution: ExecutionResult | None) -> dict[str, int] | None:
    if execution is None:
        return None
    return {"passed": execution.public.get("passed", 0) + execution.hidden.get("passed", 0),
            "total": execution.public.get("total", 0) + execution.hidden.get("total", 0)}
