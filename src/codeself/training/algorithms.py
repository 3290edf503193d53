"""The formulas of GRPO, RLOO and PPO as plain functions over floats (../shared/RL_REFERENCE.md).

They are kept free of any policy so each can be checked against values worked out by hand, and
so the smoke policy and any other policy share them. Each loss function returns the loss value
and dLoss/d(log pi) per token: a policy turns that into parameter gradients by the chain rule.
Standard deviations are Bessel-corrected, as TRL computes them (torch.std).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

EPS = 1e-4  # added to the std before dividing advantages (TRL)
WHITEN_EPS = 1e-8  # added to the variance when whitening (TRL's PPO)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def unbiased_std(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0 for fewer than two values (nothing to spread)."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def groups(values: Sequence[float], size: int) -> list[list[float]]:
    if size < 1 or len(values) % size:
        raise ValueError(f"{len(values)} values do not split into groups of {size}")
    return [list(values[i:i + size]) for i in range(0, len(values), size)]


def grpo_advantages(rewards: Sequence[float], group_size: int, scale_rewards: str = "group") -> list[float]:
    """A_i = r_i - mean_group(r), divided by (std + 1e-4): the group's std (`group`), the whole
    batch's std (`batch`), or not divided (`none`, Dr. GRPO)."""
    batch_std = unbiased_std(rewards)
    advantages = []
    for group in groups(rewards, group_size):
        m = mean(group)
        if scale_rewards == "group":
            denominator = unbiased_std(group) + EPS
        elif scale_rewards == "batch":
            denominator = batch_std + EPS
        elif scale_rewards == "none":
            denominator = 1.0
        else:
            raise ValueError(f"unknown scale_rewards {scale_rewards!r}")
        advantages.extend((r - m) / denominator for r in group)
    return advantages


def rloo_advantages(rewards: Sequence[float], k: int) -> list[float]:
    """A_i = r_i - mean of the other k - 1 rewards of its group (leave-one-out baseline)."""
    if k < 2:
        raise ValueError("RLOO needs k >= 2")
    advantages = []
    for group in groups(rewards, k):
        total = sum(group)
        advantages.extend(r - (total - r) / (k - 1) for r in group)
    return advantages


def group_advantages(rewards: Sequence[float], task_ids: Sequence[str], config: Any) -> list[float]:
    """The advantages of one batch whose groups are given by task id (TRL's generation batches), by
    `config.algorithm`: GRPO (`grpo_advantages` with `config.scale_rewards`) or RLOO
    (`rloo_advantages`, then `normalize` when `config.normalize_advantages`; RLOO's KL term not
    included). Worked example (GRPO, group): rewards [1, 0] -> mean 0.5, std 0.7071 ->
    advantages [0.70700, -0.70700].
    """
    members: dict[str, list[int]] = {}
    for index, task_id in enumerate(task_ids):
        members.setdefault(task_id, []).append(index)
    sizes = {len(indices) for indices in members.values()}
    if len(sizes) > 1:
        raise ValueError(f"groups of different sizes {sorted(sizes)}: every task needs the same number of completions")
    order = [index for indices in members.values() for index in indices]
    ordered, size = [rewards[index] for index in order], sizes.pop() if sizes else 1
    if config.algorithm == "rloo":
        grouped = rloo_advantages(ordered, size) if size > 1 else [0.0] * len(ordered)
        if config.normalize_advantages:
            grouped = normalize(grouped)
    else:
        grouped = grpo_advantages(ordered, size, config.scale_rewards)
    advantages = [0.0] * len(rewards)
    for index, advantage in zip(order, grouped):
        advantages[index] = advantage
    return advantages


def advantage_stats(advantages: Sequence[float]) -> dict[str, float | None]:
    """The `advantages/*` metrics of a step (None where there is nothing to describe)."""
    if not advantages:
        return dict.fromkeys(("advantages/mean", "advantages/std", "advantages/min", "advantages/max"))
    return {"advantages/mean": mean(advantages),
            "advantages/std": unbiased_std(advantages) if len(advantages) > 1 else None,
            "advantages/min": min(advantages), "advantages/max": max(advantages)}


def normalize(values: Sequence[float]) -> list[float]:
    """(x - mean) / (std + 1e-4) over the batch (RLOO's optional advantage normalisation)."""
    m, s = mean(values), unbiased_std(values)
    return [(v - m) / (s + EPS) for v in values]


def whiten(values: Sequence[float]) -> list[float]:
    """(x - mean) / sqrt(var + 1e-8) with the unbiased variance (TRL's PPO whitening)."""
    m, s = mean(values), unbiased_std(values)
    return [(v - m) / math.sqrt(s * s + WHITEN_EPS) for v in values]


def gae(rewards: Sequence[float], values: Sequence[float], gamma: float, lam: float) -> tuple[list[float], list[float]]:
    """Generalised advantage estimation over one sequence; V after the last token is 0.

    delta_t = r_t + gamma V_{t+1} - V_t;  A_t = sum_l (gamma lam)^l delta_{t+l};  R_t = A_t + V_t.
    """
    advantages = [0.0] * len(rewards)
    running = 0.0
    for t in reversed(range(len(rewards))):
        next_value = values[t + 1] if t + 1 < len(values) else 0.0
        delta = rewards[t] + gamma * next_value - values[t]
        running = delta + gamma * lam * running
        advantages[t] = running
    return advantages, [a + v for a, v in zip(advantages, values)]


def k3_kl(logp: float, ref_logp: float) -> tuple[float, float]:
    """k3 estimator of KL(pi || pi_ref) for one token, and its derivative in logp.

    KL = exp(ref - logp) - (ref - logp) - 1 >= 0;  dKL/dlogp = 1 - exp(ref - logp).
    """
    diff = ref_logp - logp
    return math.exp(diff) - diff - 1.0, 1.0 - math.exp(diff)


@dataclass(frozen=True)
class Clip:
    """Where one ratio sits relative to the clipping range, TRL's way of counting."""

    low: bool  # ratio < 1 - eps_low with a negative advantage (the clip binds)
    high: bool  # ratio > 1 + eps_high with a positive advantage

    @property
    def region(self) -> bool:
        return self.low or self.high


def clipped_surrogate(ratio: float, advantage: float, eps_low: float, eps_high: float) -> tuple[float, float, Clip]:
    """Per-token loss -min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A) and dloss/dlogp.

    d rho / d logp = rho, so the gradient is -A rho where the unclipped term is the minimum and
    0 where the clipped (constant) term is.
    """
    clipped = min(max(ratio, 1.0 - eps_low), 1.0 + eps_high)
    unclipped_term, clipped_term = ratio * advantage, clipped * advantage
    clip = Clip(low=ratio < 1.0 - eps_low and advantage < 0, high=ratio > 1.0 + eps_high and advantage > 0)
    if unclipped_term <= clipped_term:
        return -unclipped_term, -advantage * ratio, clip
    return -clipped_term, 0.0, clip


def token_weights(lengths: Sequence[int], loss_type: str, max_length: int) -> list[float]:
    """Weight of each token of sequence i in the aggregated loss (the same for all its tokens).

    grpo: mean over sequences of the sequence's token mean -> 1 / (N L_i);
    bnpo and dapo: token mean over the batch -> 1 / sum L (identical with one process and no
    gradient accumulation, which is the smoke trainers' case); dr_grpo: 1 / (N max_length).
    """
    n = len(lengths)
    if loss_type == "grpo":
        return [1.0 / (n * length) for length in lengths]
    if loss_type in ("bnpo", "dapo"):
        return [1.0 / sum(lengths)] * n
    if loss_type == "dr_grpo":
        return [1.0 / (n * max_length)] * n
    raise ValueError(f"unknown loss_type {loss_type!r}")


def value_loss(value: float, old_value: float, ret: float, cliprange_value: float) -> tuple[float, float, bool]:
    """0.5 max((V - R)^2, (clip(V, V_old +- c) - R)^2) for one token, dloss/dV, and whether the
    clipped branch was the larger one (TRL's `val/clipfrac`)."""
    clipped = min(max(value, old_value - cliprange_value), old_value + cliprange_value)
    unclipped_loss, clipped_loss = (value - ret) ** 2, (clipped - ret) ** 2
    if clipped_loss > unclipped_loss:
        inside = old_value - cliprange_value < value < old_value + cliprange_value
        return 0.5 * clipped_loss, (clipped - ret) if inside else 0.0, True
    return 0.5 * unclipped_loss, value - ret, False


def explained_variance(predicted: Sequence[float], target: Sequence[float]) -> float | None:
    """1 - Var(target - predicted) / Var(target); None when the target does not vary."""
    var_target = unbiased_std(target) ** 2
    if var_target == 0:
        return None
    residual = [t - p for t, p in zip(target, predicted)]
    return 1.0 - unbiased_std(residual) ** 2 / var_target
