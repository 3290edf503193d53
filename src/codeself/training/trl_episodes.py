"""Multi-turn practice for real models (TRL's GRPO with `max_revisions` > 0): CoCoS episodes.

The smoke trainers' multi-turn mode (`codeself.training.multiturn`) on a real model: each
practice sample is an episode of 1 + max_revisions turns through `CodeRepairEnv` — answer,
public-test feedback, revision — every episode the same length (no stop on a public pass, as in
CoCoS), its only reward the CoCoS accumulated progressive reward with gamma = 0.5 over the
fraction of all tests passed (`multiturn.EPISODE_REWARD`), read by the one reward route
`trl_env.agentic_episode_return`. The episodes are played by `trl_rollout.EpisodeRollout`
(TRL's `rollout_func`: the feedback's tokens are in the sequence but masked out of the loss)
with the project's sampler instead of TRL's generation, so every turn is seeded per sample —
derive_seed(seed, "practice-episode", step, row, turn) — and a run is reproducible like the
single-turn one (`trl_hooks.PracticeRollout`). Each turn may use `max_completion_tokens`.

Compute: an episode decodes up to (1 + max_revisions) turns, so a two-turn run matches a
single-turn run's generated turns with about half the steps (the experiment's configs say which).

Nothing here imports torch at import time; TRL calls `rollout_func`, and the run `take`s the
episodes played since its last logged step to write metrics and rollouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codeself.agents.agentic.trace import EpisodeTrace
from codeself.agents.agentic.trl_rollout import EpisodeRollout
from codeself.datasets.task import Task
from codeself.training import algorithms as alg
from codeself.training.config import RunConfig
from codeself.training.multiturn import EPISODE_REWARD, env_config, episode_record, turn_metrics
from codeself.training.run_dir import InformativeTally
from codeself.training.trl_hooks import sample_completions


class EpisodePractice:
    """The `rollout_func` of multi-turn practice and the episodes it played (module docstring)."""

    def __init__(self, config: RunConfig, tasks: Sequence[Task], execution: Any | None = None,
                 executor: Any | None = None) -> None:
        self.config = config
        self.rollout = EpisodeRollout(tasks, env_config(config), execution, executor, seed=config.seed,
                                      generate=self.generate)
        self.played: list[EpisodeTrace] = []  # since the last logged step, in batch order

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        output = self.rollout(prompts, trainer)
        self.played += self.rollout.last_traces
        return output

    def generate(self, trainer: Any, inputs: list[list[int]], rows: list[int], turn: int) -> tuple[list, None]:
        """One turn of the open episodes with the project's sampler, seeded per (step, row, turn)."""
        from codeself.agents.backends.base import derive_seed  # noqa: PLC0415

        seeds = [derive_seed(self.config.seed, "practice-episode", trainer.state.global_step, row, turn)
                 for row in rows]
        return sample_completions(trainer, self.config, inputs, seeds), None

    def take(self) -> list[EpisodeTrace]:
        """The episodes played since the last call, in batch order."""
        traces, self.played = self.played, []
        return traces

    def close(self) -> None:
        self.rollout.close()


def episode_metrics(traces: Sequence[EpisodeTrace], config: RunConfig,
                    informative: InformativeTally) -> dict[str, Any]:
    """A step's scaffold metrics from its episodes: the single-turn names (`pass_rate` = passed every
    test at the last turn, `status_counts` of the last turn) plus `turns/*` (multiturn.turn_metrics)."""
    task_ids = [trace.task_id for trace in traces]
    rewards = [float(trace.reward["return"]) for trace in traces]
    status_counts: dict[str, int] = {}
    for trace in traces:
        status = trace.turns[-1].execution.get("status") or "no_code"
        status_counts[status] = status_counts.get(status, 0) + 1
    groups = informative.step(task_ids, rewards)
    del groups["frac_reward_zero_std"]  # TRL's own, logged with TRL's keys
    return {"pass_rate": alg.mean([trace.turns[-1].execution.get("status") == "passed" for trace in traces]),
            "status_counts": dict(sorted(status_counts.items())),
            **alg.advantage_stats(alg.group_advantages(rewards, task_ids, config)), **groups, **turn_metrics(traces)}


def episode_rollouts(traces: Sequence[EpisodeTrace], step: int, config: RunConfig) -> list[dict[str, Any]]:
    """The step's `rollouts.jsonl` records: one per episode, as the smoke trainers write them."""
    metadata = {"trainer": "trl", "algorithm": config.algorithm, "episode_reward": EPISODE_REWARD.to_json()}
    return [{**episode_record(trace, float(trace.reward["return"]), backend="hf", metadata=metadata), "step": step}
            for trace in traces]
