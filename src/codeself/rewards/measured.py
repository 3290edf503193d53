"""The deterministic efficiency reward component (`measured_efficiency`).

Why a component of its own: `efficiency_bonus` (components.py) reads wall and CPU time, which
change from run to run; this one reads the efficiency record that `ExecutionConfig.efficiency`
puts on a passing answer (codeself.execution.efficiency: executed instructions at
`metadata.scale_inputs` against the reference), which does not. Its value is that record's
score in [0, 1]; no value (so no term) when the answer was not measured. Weighted like any
component (`[components.measured_efficiency] weight = ...` in a reward TOML); the repair
category `algorithmic` scores its episodes with it (codeself.agents.agentic.categories).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeself.execution.efficiency import score_of
from codeself.rewards.registry import Answer, RewardComponent, Scored, register_component


def _measured(answer: Answer, settings: Mapping[str, Any]) -> Scored:
    execution = answer.execution
    score = score_of(execution) if execution is not None and answer.passed else None
    return Scored(score, {"measured_efficiency": score})


MEASURED_EFFICIENCY = register_component(RewardComponent(
    "measured_efficiency", _measured, applies_to="passing", value_range=(0.0, 1.0),
    doc="passing samples: the deterministic efficiency score in [0, 1] (executed instructions at "
        "metadata.scale_inputs against the reference; needs ExecutionConfig.efficiency, else no term)"))
