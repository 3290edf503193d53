"""Reward components: each registered once, by name; a reward config (TOML) picks and weights them.

A component is a `RewardComponent`: a name, a function from one scored answer (`Answer`: the
task, the parsed answer, its execution result) and the component's settings to a value and
diagnostics (`Scored`), the samples its value counts on (`applies_to`), the range of that value,
and its settings with defaults and meanings. In a reward record it adds the term
`weight x value` (0.0 on samples it does not apply to, or when its value is None) under its
name, beside the correctness base (`pass_reward` / `fail_reward`), and its diagnostics.

Every consumer scores through `component_terms` (rollouts and trainers via
`codeself.rewards.correctness.score_sample`, the multi-turn environment per turn), so a new
component needs only its registration and a `[components.<name>]` table in a reward TOML.
Built-in components live in the modules of `COMPONENT_MODULES`, imported on the first lookup.
The declared range is what keeps the reward correctness-first: `RewardConfig` adds up every
component's worst case and refuses configs where a failing answer could come within `min_gap`
of a passing one.

A component that asks an outside service (the LLM judge, `codeself.rewards.judge_component`)
sets `only_when_weighted` (not called at all at weight 0), may refuse a weight or a combination
of settings when the config is loaded (`check`), and may take a whole batch ahead of scoring
(`prefetch`, called by `prefetch_components` from consumers that hold a batch) so that its
requests run concurrently rather than one per scored answer.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codeself.datasets.task import Task
from codeself.execution.result import ExecutionResult
from codeself.rewards import quality

APPLIES_TO = ("passing", "failing", "all")  # on which samples a component's term counts
# modules whose import registers the built-in components (add one line here for a new module)
COMPONENT_MODULES = ("codeself.rewards.components", "codeself.rewards.measured",
                     "codeself.rewards.judge_component")


@dataclass(frozen=True, eq=False)
class Answer:
    """One answer to score: the task, the parsed answer and its execution (None = not run).

    `turn` and `previous_code` place it in a multi-turn episode (1 and None for a single
    sample), for components that judge revisions."""

    task: Task
    code: str | None
    parse_status: str
    execution: ExecutionResult | None
    turn: int = 1
    previous_code: str | None = None

    @functools.cached_property
    def passed(self) -> bool:
        """Every public and hidden test passed (the correctness base's verdict)."""
        execution = self.execution
        return bool(execution is not None and execution.passed and execution.status == "passed")

    @functools.cached_property
    def python(self) -> bool:
        return self.task.language == "python"

    @functools.cached_property
    def quality_signals(self) -> dict[str, Any] | None:
        """AST signals of the code (codeself.rewards.quality); None without code, when it does
        not parse, or for another language (which has no Python syntax tree)."""
        return quality.quality_signals(self.code) if self.python else None


@dataclass(frozen=True)
class Scored:
    """A component's value for one answer (None: nothing to score, the term is 0) and the
    diagnostics it records whether or not it has weight."""

    value: float | None
    diagnostics: dict[str, Any]


@dataclass(frozen=True)
class Setting:
    """One setting of a component: its TOML key, default (whose type the value must have; an
    int is accepted for a float), meaning, and least allowed value (None = any)."""

    name: str
    default: float | int | bool | str
    help: str
    minimum: float | None = None

    def check(self, value: Any, where: str) -> Any:
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not expected:
            raise ValueError(f"{where}: {self.name!r} must be a {expected.__name__}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where}: {self.name!r} must be finite, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{where}: {self.name!r} must be >= {self.minimum:g}, got {value!r}")
        return value


@dataclass(frozen=True)
class RewardComponent:
    """A registered reward component (module docstring). `value_range` bounds `Scored.value`
    (the correctness-first check relies on it; a penalty's range is <= 0). `needs_every_test`
    names, in words, what a run stopped at its first failing test would get wrong (empty: nothing).
    `check(weight, settings)` raises a one-line ValueError for a config it refuses (at load time);
    `prefetch(answers, settings)` prepares the values of a batch (e.g. concurrent requests whose
    replies `score` then reads from a cache); `only_when_weighted` skips the component entirely
    (no value, no diagnostics) at weight 0."""

    name: str
    score: Callable[[Answer, Mapping[str, Any]], Scored]
    applies_to: str
    value_range: tuple[float, float]
    settings: tuple[Setting, ...] = ()
    doc: str = ""
    needs_every_test: str = ""
    check: Callable[[float, Mapping[str, Any]], None] | None = None
    prefetch: Callable[[Sequence[Answer], Mapping[str, Any]], None] | None = None
    only_when_weighted: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"reward component name {self.name!r} must be an identifier")
        if self.applies_to not in APPLIES_TO:
            raise ValueError(f"reward component {self.name!r}: applies_to must be one of {', '.join(APPLIES_TO)}")
        low, high = self.value_range
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise ValueError(f"reward component {self.name!r}: value_range must be finite (low, high), low <= high")
        if "weight" in {s.name for s in self.settings}:
            raise ValueError(f"reward component {self.name!r}: 'weight' is every component's key, not a setting")

    def counts(self, passed: bool) -> bool:
        return self.applies_to == "all" or (self.applies_to == "passing") == passed


COMPONENTS: dict[str, RewardComponent] = {}


def register_component(component: RewardComponent) -> RewardComponent:
    """Add `component` under its name (once: a second registration of a name is refused)."""
    if component.score.__module__ not in COMPONENT_MODULES:
        _load_builtin()  # not from a built-in module mid-import: it would import the others half-loaded
    if component.name in COMPONENTS or component.name == "correctness":
        raise ValueError(f"reward component {component.name!r} is already registered")
    COMPONENTS[component.name] = component
    return component


def unregister_component(name: str) -> None:
    """Remove a component registered at run time (tests); unknown names are ignored."""
    COMPONENTS.pop(name, None)


def get_component(name: str) -> RewardComponent:
    """The component registered as `name`; one-line ValueError listing the valid names otherwise."""
    _load_builtin()
    try:
        return COMPONENTS[name]
    except KeyError:
        raise ValueError(f"unknown reward component {name!r}; valid components: "
                         f"{', '.join(sorted(COMPONENTS))}") from None


@functools.cache
def _load_builtin() -> None:
    for module in COMPONENT_MODULES:
        importlib.import_module(module)


@dataclass(frozen=True)
class ComponentConfig:
    """One component as a reward config uses it: its weight (>= 0) and every setting, defaults
    filled in, in the component's declared order (a tuple of pairs, so configs stay hashable)."""

    name: str
    weight: float
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def component(self) -> RewardComponent:
        return get_component(self.name)

    def bound(self) -> tuple[float, float]:
        """The least and greatest term this component can add."""
        low, high = self.component.value_range
        return min(self.weight * low, self.weight * high), max(self.weight * low, self.weight * high)

    def to_json(self) -> dict[str, Any]:
        return {"weight": self.weight, **dict(self.settings)}


def component_config(name: str, values: Mapping[str, Any], where: str) -> ComponentConfig:
    """The ComponentConfig of a `[components.<name>]` table: `weight` and the component's
    settings; unknown names and keys are refused in one line naming the valid ones."""
    component = get_component(name)
    where = f"{where}: [components.{name}]"
    known = ["weight", *(s.name for s in component.settings)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(known)}")
    weight = Setting("weight", 0.0, "", minimum=0.0).check(values.get("weight", 0.0), where)
    settings = tuple((s.name, s.check(values.get(s.name, s.default), where)) for s in component.settings)
    if component.check is not None:
        try:
            component.check(weight, dict(settings))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    return ComponentConfig(name, weight, settings)


def prefetch_components(configs: tuple[ComponentConfig, ...], answers: Sequence[Answer]) -> None:
    """Give every component with a `prefetch` the whole batch before its answers are scored one
    by one (consumers holding a batch call this; scoring is the same without it, only slower)."""
    for config in configs:
        component = config.component
        if component.prefetch is not None and (config.weight > 0 or not component.only_when_weighted):
            component.prefetch(answers, dict(config.settings))


def component_terms(configs: tuple[ComponentConfig, ...], answer: Answer,
                    diagnostics: dict[str, Any] | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """(terms, diagnostics) of `answer` under `configs`, in config order: each term is
    weight x value where the component applies and has a value, else 0.0. The components'
    diagnostics follow `diagnostics` (given ones first); a key written twice is an error, since
    one component would silently hide another's."""
    terms: dict[str, float] = {}
    diagnostics = dict(diagnostics or {})
    for config in configs:
        component = config.component
        if component.only_when_weighted and config.weight == 0:
            terms[config.name] = 0.0
            continue
        scored = component.score(answer, dict(config.settings))
        clash = sorted(diagnostics.keys() & scored.diagnostics.keys())
        if clash:
            raise ValueError(f"reward component {config.name!r} writes the diagnostic(s) {', '.join(clash)}, "
                             "which another part of the reward record already has; rename them")
        diagnostics.update(scored.diagnostics)
        low, high = component.value_range
        if scored.value is not None and not low <= scored.value <= high:  # the correctness-first check relies on it
            raise ValueError(f"reward component {config.name!r} returned {scored.value!r}, outside its "
                             f"declared value_range [{low:g}, {high:g}]")
        counts = component.counts(answer.passed) and scored.value is not None
        terms[config.name] = config.weight * scored.value if counts else 0.0
    return terms, diagnostics
