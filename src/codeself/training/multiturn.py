"""Multi-turn practice for the smoke trainers (`max_revisions` > 0): episodes, CoCoS reward, per-turn metrics.

Each practice sample is an episode of 1 + max_revisions turns through the agentic environment
(`codeself.agents.agentic.env.CodeRepairEnv`: public-test feedback, no stop on a public pass,
so every episode has the same length, as in CoCoS), played by the smoke policy (`PolicyAgent`:
each turn is a fresh (plan, form) draw rendered like the `policy` backend). Its reward is the
episode's CoCoS accumulated progressive reward with γ = 0.5 over the fraction of all tests
passed; its "completion" for the update is every turn's decisions (`Sample.from_turns`,
2 tokens per turn), so GRPO and RLOO credit the whole episode with it.

Written to `rollouts.jsonl`: one record per episode in the rollout shape the single-turn
trainer writes (its last turn's completion, code and execution; `reward.reward` = the episode
reward), plus `turns` (the trace's turns). Metrics gain `turns/pass_rate` (after each turn),
`turns/fix_rate` and `turns/regression_rate` (pooled over consecutive turns: i→c among wrong,
c→i among right), `turns/identical_rate` and `turns/first_pass_rate` / `turns/final_pass_rate`.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from codeself.agents.agentic.env import CachedExecutor, EnvConfig
from codeself.agents.agentic.loop import produce_episodes
from codeself.agents.agentic.rewards import EpisodeRewardConfig
from codeself.agents.agentic.trace import EpisodeTrace
from codeself.agents.backends.base import Generation, derive_seed
from codeself.agents.backends.mock import MutantScreen
from codeself.agents.backends.policy import render
from codeself.datasets.task import Task
from codeself.training import algorithms as alg
from codeself.training.policy import Sample, SoftmaxPolicy
from codeself.training.updates import Completion

EPISODE_REWARD = EpisodeRewardConfig("cocos", gamma=0.5)


class PolicyAgent:
    """The smoke policy answering each turn of an episode (it does not read the feedback)."""

    name, sees_reference_solution = "policy", True

    def __init__(self, policy: SoftmaxPolicy) -> None:
        self.policy, self.model = policy, "smoke-policy"
        self.screen: MutantScreen | None = None

    def attach_executor(self, executor: Any | None) -> None:
        self.screen = MutantScreen(executor) if executor is not None else None

    def act(self, task: Task, observation: dict[str, Any], *, sample_index: int, seed: int) -> Generation:
        rng = random.Random(derive_seed(seed, "policy-turn", task.task_id, sample_index, observation["turn"]))
        sample = self.policy.sample(task.task_id, rng)
        text, metadata = render(task, sample, rng, self.screen)
        return Generation(text, metadata=metadata)

    def describe(self) -> dict[str, Any]:
        return {"backend": "policy", "policy": self.policy.to_json()}

    def close(self) -> None:
        """Nothing to release."""


def env_config(config: Any) -> EnvConfig:
    """The practice episodes' environment: CoCoS's (module docstring), plus each turn's weighted
    reward components of the run's reward config (codeself.rewards.registry)."""
    reward = dataclasses.replace(EPISODE_REWARD, reward_config=config.reward_config_path())
    return EnvConfig(max_revisions=config.max_revisions, stop_when_public_pass=False, feedback="tests",
                     reward=reward, template=config.template or "chat_default")


def practise_episodes(trainer: Any, tasks: Sequence[Task], samples: int, seed: int,
                      executor: Any) -> tuple[list[dict[str, Any]], list[Completion], dict[str, Any]]:
    """(rollout records, the update's batch, per-turn metrics) for `samples` episodes of each task."""
    config = trainer.config
    cached = executor if isinstance(executor, CachedExecutor) else CachedExecutor(executor)
    agent = PolicyAgent(trainer.policy.copy())
    agent.attach_executor(cached)
    jobs = [(task, index) for task in tasks for index in range(samples)]
    traces = list(produce_episodes(jobs, list(tasks), cached, agent, env_config(config),
                                   seed, trainer._rollout_hash, threads=2 * config.workers))
    records, batch = [], []
    for trace in traces:
        turns = [Sample.from_names(t.metadata["policy_plan"], t.metadata["policy_form"]) for t in trace.turns]
        sample = Sample.from_turns(turns)
        reward = float(trace.reward["return"])
        batch.append(Completion(trace.task_id, sample, reward, trainer.policy.token_logprobs(trace.task_id, sample),
                                trainer.reference.token_logprobs(trace.task_id, sample)))
        records.append(episode_record(trace, reward, backend="policy", metadata={"policy_turns": [
            [t.metadata["policy_plan"], t.metadata["policy_form"]] for t in trace.turns]}))
    return records, batch, turn_metrics(traces)


def episode_record(trace: EpisodeTrace, reward: float, *, backend: str,
                   metadata: dict[str, Any]) -> dict[str, Any]:
    """The rollout-shaped record of one practice episode (module docstring; the TRL trainer's
    episodes, `codeself.training.trl_episodes`, are written the same way)."""
    last = trace.turns[-1]
    execution = {**last.execution, "passed": last.execution["status"] == "passed"}
    return {"task_id": trace.task_id, "sample_index": trace.sample_index, "split": trace.split, "backend": backend,
            "model": trace.model, "config_hash": trace.config_hash, "prompt": trace.prompt,
            "completion": last.completion, "code": last.code, "parse_status": last.parse_status,
            "execution": execution,
            "reward": {"name": "cocos_progressive", "reward": reward,
                       "components": {"progress": trace.reward["progress"], "gamma": EPISODE_REWARD.gamma},
                       "diagnostics": {}},
            "seed": trace.seed,
            "metadata": metadata,
            "timing": {"generation_s": round(sum(t.timing.get("generation_s", 0.0) for t in trace.turns), 6),
                       "episode_s": trace.timing.get("episode_s", 0.0)},
            "turns": [turn.to_json() for turn in trace.turns]}


def turn_metrics(traces: Sequence[EpisodeTrace]) -> dict[str, Any]:
    """Per-turn practice metrics (module docstring); rates are None when nothing could happen."""
    correct = [[t.execution["status"] == "passed" for t in trace.turns] for trace in traces]
    count = max(len(c) for c in correct)
    pairs = [(a, b) for c in correct for a, b in zip(c, c[1:])]
    wrong, right = [b for a, b in pairs if not a], [not b for a, b in pairs if a]
    revisions = [t.identical_to_previous for trace in traces for t in trace.turns[1:]]
    return {"turns/pass_rate": [alg.mean([c[k] for c in correct if len(c) > k]) for k in range(count)],
            "turns/first_pass_rate": alg.mean([c[0] for c in correct]),
            "turns/final_pass_rate": alg.mean([c[-1] for c in correct]),
            "turns/fix_rate": alg.mean(wrong) if wrong else None,
            "turns/regression_rate": alg.mean(right) if right else None,
            "turns/identical_rate": alg.mean(revisions) if revisions else None}
