"""One optimiser step of GRPO, RLOO or PPO on a batch of sampled, executed, scored completions.

Each update reads the batch (grouped by task, `samples_per_prompt` consecutive completions per
task), changes the policy (and PPO's critic) in place by plain gradient descent, and returns
the step's algorithm metrics under TRL's names. The formulas live in `algorithms`; this module
only wires them to a policy that can give per-token log-probabilities and gradients.

Clip fractions are averaged over every token of every inner iteration; `clip_ratio/low_min`
and `clip_ratio/high_max` are the extremes of the per-iteration means (TRL takes them across
processes; here one process makes several passes). `kl` is the mean per-token k3 estimate
against the initial policy (GRPO), the mean sequence sum of log pi_old - log pi_ref (RLOO, the
quantity folded into its reward) or the mean sequence k1 sum (PPO).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codeself.training import algorithms as alg
from codeself.training.config import GRPOConfig, PPOConfig, RLOOConfig, RunConfig
from codeself.training.policy import PLANS, SEQUENCE_LENGTH, Params, Sample, SoftmaxPolicy


@dataclass(frozen=True)
class Completion:
    task_id: str
    sample: Sample
    reward: float
    old_logps: list[float]  # log pi_old per token (the sampling policy)
    ref_logps: list[float]  # log pi_ref per token (the initial policy)


@dataclass
class _ClipTally:
    """Clip flags per inner iteration, reduced to TRL's clip_ratio metrics."""

    per_iteration: list[tuple[float, float, float]] = field(default_factory=list)

    def add(self, flags: list[alg.Clip]) -> None:
        n = len(flags) or 1
        self.per_iteration.append((sum(f.low for f in flags) / n, sum(f.high for f in flags) / n,
                                   sum(f.region for f in flags) / n))

    def metrics(self) -> dict[str, float]:
        lows, highs, regions = zip(*self.per_iteration)
        return {"clip_ratio/low_mean": alg.mean(lows), "clip_ratio/high_mean": alg.mean(highs),
                "clip_ratio/region_mean": alg.mean(regions), "clip_ratio/low_min": min(lows),
                "clip_ratio/high_max": max(highs)}


class Critic:
    """PPO's learned value baseline for the smoke policy.

    V before the first token: v0 + v0_task[t]; V after the plan is chosen: v1[plan] + v1_task[t].
    The second depends on the plan taken, so GAE has a real intermediate value to bootstrap from.
    """

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        document = document or {}
        self.v0 = float(document.get("v0", 0.0))
        self.v1 = [float(v) for v in document.get("v1", [0.0] * len(PLANS))]
        self.v0_task = {k: float(v) for k, v in document.get("v0_task", {}).items()}
        self.v1_task = {k: float(v) for k, v in document.get("v1_task", {}).items()}

    def values(self, task_id: str, sample: Sample) -> list[float]:
        return [self.v0 + self.v0_task.get(task_id, 0.0),
                self.v1[sample.actions[0]] + self.v1_task.get(task_id, 0.0)]

    def step(self, task_id: str, sample: Sample, grads: list[float], lr: float) -> None:
        """Descend dLoss/dV_t (per token) through both terms of each value."""
        self.v0 -= lr * grads[0]
        self.v0_task[task_id] = self.v0_task.get(task_id, 0.0) - lr * grads[0]
        self.v1[sample.actions[0]] -= lr * grads[1]
        self.v1_task[task_id] = self.v1_task.get(task_id, 0.0) - lr * grads[1]

    def to_json(self) -> dict[str, Any]:
        return {"v0": self.v0, "v1": self.v1, "v0_task": dict(sorted(self.v0_task.items())),
                "v1_task": dict(sorted(self.v1_task.items()))}


def _descend(policy: SoftmaxPolicy, items: list[tuple[str, Sample, list[float]]], lr: float) -> None:
    grad: Params = policy.gradient(items)
    policy.params.add_scaled(grad, -lr)


def grpo_update(policy: SoftmaxPolicy, batch: list[Completion], config: GRPOConfig,
                critic: Critic | None = None) -> dict[str, Any]:
    advantages = alg.grpo_advantages([c.reward for c in batch], config.num_generations, config.scale_rewards)
    lengths = [len(c.sample.actions) for c in batch]  # SEQUENCE_LENGTH, or 2 per turn of an episode
    weights = alg.token_weights(lengths, config.loss_type, max(lengths))
    clips, losses, kls = _ClipTally(), [], []
    for _ in range(config.num_iterations):
        items, flags, loss = [], [], 0.0
        for completion, advantage, weight in zip(batch, advantages, weights):
            coefs = []
            for logp, old, ref in zip(policy.token_logprobs(completion.task_id, completion.sample),
                                      completion.old_logps, completion.ref_logps):
                value, grad, clip = alg.clipped_surrogate(math.exp(logp - old), advantage,
                                                          config.epsilon, config.clip_high)
                kl, dkl = alg.k3_kl(logp, ref)
                kls.append(kl)
                flags.append(clip)
                loss += weight * (value + config.beta * kl)
                coefs.append(weight * (grad + config.beta * dkl))
            items.append((completion.task_id, completion.sample, coefs))
        clips.add(flags)
        losses.append(loss)
        _descend(policy, items, config.learning_rate)
    return {"loss": alg.mean(losses), "kl": alg.mean(kls), **clips.metrics(), **alg.advantage_stats(advantages)}


def rloo_update(policy: SoftmaxPolicy, batch: list[Completion], config: RLOOConfig,
                critic: Critic | None = None) -> dict[str, Any]:
    seq_kl = [sum(o - r for o, r in zip(c.old_logps, c.ref_logps)) for c in batch]
    shaped = [c.reward - config.beta * kl for c, kl in zip(batch, seq_kl)]
    advantages = alg.rloo_advantages(shaped, config.num_generations)
    if config.normalize_advantages:
        advantages = alg.normalize(advantages)
    clips, losses = _ClipTally(), []
    for _ in range(config.num_iterations):
        items, flags, loss = [], [], 0.0
        for completion, advantage in zip(batch, advantages):
            logps = policy.token_logprobs(completion.task_id, completion.sample)
            ratio = math.exp(sum(logps) - sum(completion.old_logps))
            value, grad, clip = alg.clipped_surrogate(ratio, advantage, config.epsilon, config.epsilon)
            flags.append(clip)
            loss += value / len(batch)
            items.append((completion.task_id, completion.sample, [grad / len(batch)] * len(logps)))
        clips.add(flags)
        losses.append(loss)
        _descend(policy, items, config.learning_rate)
    return {"loss": alg.mean(losses), "kl": alg.mean(seq_kl), **clips.metrics(), **alg.advantage_stats(advantages)}


def ppo_update(policy: SoftmaxPolicy, batch: list[Completion], config: PPOConfig,
               critic: Critic | None = None) -> dict[str, Any]:
    assert critic is not None, "PPO needs its critic"
    old_values = [critic.values(c.task_id, c.sample) for c in batch]
    advantages, returns, seq_kl = [], [], []
    for completion, values in zip(batch, old_values):
        kl_tokens = [o - r for o, r in zip(completion.old_logps, completion.ref_logps)]
        rewards = [-config.kl_coef * kl for kl in kl_tokens]
        rewards[-1] += completion.reward
        adv, ret = alg.gae(rewards, values, config.gamma, config.lam)
        advantages.append(adv)
        returns.append(ret)
        seq_kl.append(sum(kl_tokens))
    flat = [a for adv in advantages for a in adv]
    if config.whiten_advantages:
        flat = alg.whiten(flat)
    advantages = [flat[i:i + SEQUENCE_LENGTH] for i in range(0, len(flat), SEQUENCE_LENGTH)]
    n_tokens = len(flat)
    clips, pg_losses, vf_losses, vf_clips, approx_kls = _ClipTally(), [], [], [], []
    for _ in range(config.num_ppo_epochs):
        items, value_items, flags, pg_loss, vf_loss, vclipped, sq = [], [], [], 0.0, 0.0, 0, 0.0
        for completion, adv, ret, old_v in zip(batch, advantages, returns, old_values):
            logps = policy.token_logprobs(completion.task_id, completion.sample)
            values = critic.values(completion.task_id, completion.sample)
            coefs, value_grads = [], []
            for t, (logp, old) in enumerate(zip(logps, completion.old_logps)):
                value, grad, clip = alg.clipped_surrogate(math.exp(logp - old), adv[t],
                                                          config.cliprange, config.cliprange)
                flags.append(clip)
                pg_loss += value / n_tokens
                coefs.append(grad / n_tokens)
                v_loss, dv, was_clipped = alg.value_loss(values[t], old_v[t], ret[t], config.cliprange_value)
                vf_loss += v_loss / n_tokens
                vclipped += was_clipped
                value_grads.append(config.vf_coef * dv / n_tokens)
                sq += (logp - old) ** 2
            items.append((completion.task_id, completion.sample, coefs))
            value_items.append((completion.task_id, completion.sample, value_grads))
        _descend(policy, items, config.learning_rate)
        for task_id, sample, value_grads in value_items:  # full-batch, like the policy
            critic.step(task_id, sample, value_grads, config.learning_rate)
        clips.add(flags)
        pg_losses.append(pg_loss)
        vf_losses.append(vf_loss)
        vf_clips.append(vclipped / n_tokens)
        approx_kls.append(0.5 * sq / n_tokens)
    region = clips.metrics()
    flat_returns = [r for ret in returns for r in ret]
    flat_values = [v for values in old_values for v in values]
    return {"loss": alg.mean(pg_losses) + config.vf_coef * alg.mean(vf_losses), "kl": alg.mean(seq_kl),
            **region, **alg.advantage_stats(flat),
            "loss/policy_avg": alg.mean(pg_losses), "loss/value_avg": alg.mean(vf_losses),
            "val/clipfrac_avg": alg.mean(vf_clips), "policy/approxkl_avg": alg.mean(approx_kls),
            "policy/clipfrac_avg": region["clip_ratio/region_mean"],
            "val/explained_variance": alg.explained_variance(flat_values, flat_returns)}


UPDATES: dict[str, Callable[..., dict[str, Any]]] = {"grpo": grpo_update, "rloo": rloo_update, "ppo": ppo_update}


def update(policy: SoftmaxPolicy, batch: list[Completion], config: RunConfig, critic: Critic | None) -> dict[str, Any]:
    return UPDATES[config.algorithm](policy, batch, config, critic)
