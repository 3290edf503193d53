"""The built-in reward components of `reward_v0_correctness` (docs/schemas.md, "Reward records").

Registered on import (`codeself.rewards.registry.COMPONENT_MODULES`); every reward config has
these three, in this order, after the correctness base, so every reward record carries their
terms (0 unless weighted). Their weights may also be given by the flat keys of
configs/rewards/reward_v0.toml (`partial_credit_weight`, `quality_weight`, `efficiency_weight`,
`complexity_threshold`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from codeself.rewards import quality
from codeself.rewards.registry import Answer, RewardComponent, Scored, Setting, register_component


def counts_fraction(counts: dict[str, int] | None) -> float | None:
    """passed / total of a `{"passed", "total"}` count; None without counts or tests."""
    if not counts or not counts.get("total"):
        return None
    return counts["passed"] / counts["total"]


@functools.lru_cache(maxsize=4096)
def _reference_signals(reference: str | None) -> dict[str, Any] | None:
    return quality.quality_signals(reference)


def _partial_credit(answer: Answer, settings: Mapping[str, Any]) -> Scored:
    execution = answer.execution
    return Scored(counts_fraction(execution.hidden) if execution is not None else None, {})


def _quality(answer: Answer, settings: Mapping[str, Any]) -> Scored:
    signals = answer.quality_signals
    reference = _reference_signals(answer.task.reference_solution) if answer.python else None
    score = quality.quality_score(signals, reference, complexity_threshold=settings["complexity_threshold"])
    return Scored(None if score is None else 2 * score - 1, {"quality": signals, "quality_score": score})


def _efficiency(answer: Answer, settings: Mapping[str, Any]) -> Scored:
    execution = answer.execution
    ratios = quality.efficiency(execution.duration_s, execution.cpu_time_s, answer.task.metadata) \
        if answer.passed else None
    score = quality.efficiency_score(ratios)
    return Scored(score, {"efficiency": ratios, "efficiency_score": score})


PARTIAL_CREDIT = register_component(RewardComponent(
    "partial_credit", _partial_credit, applies_to="failing", value_range=(0.0, 1.0),
    doc="failing samples: the fraction of hidden tests passed", needs_every_test="partial credit"))
QUALITY_BONUS = register_component(RewardComponent(
    "quality_bonus", _quality, applies_to="passing", value_range=(-1.0, 1.0),
    settings=(Setting("complexity_threshold", 10, "McCabe complexity above which quality_score drops",
                      minimum=1),),
    doc="passing samples: 2 x quality_score - 1 (AST signals; docs/schemas.md)"))
EFFICIENCY_BONUS = register_component(RewardComponent(
    "efficiency_bonus", _efficiency, applies_to="passing", value_range=(-1.0, 1.0),
    doc="passing samples: efficiency_score, log2 of the speed-up over the reference timing, clipped "
        "to [-1, 1] (timing-derived: not reproducible run to run)"))

V0_COMPONENTS = ("partial_credit", "quality_bonus", "efficiency_bonus")
