"""The two callables GRPO calls back into: the sandbox reward (timed) and the rollout function.

Kept apart from `trl_run` because neither needs torch at import time (`PracticeRollout` reaches
torch only through `hf_sampling` when TRL calls it).
"""

from __future__ import annotations

import time
from typing import Any

from codeself.rewards.trl import CorrectnessReward, completion_text
from codeself.training.config import RunConfig


class TimedReward:
    """The reward function TRL calls: CorrectnessReward plus timing and the batch it scored."""

    def __init__(self, reward: CorrectnessReward) -> None:
        self.reward = reward
        self.__name__ = reward.__name__
        self.batches: list[dict[str, Any]] = []  # scored since the last logged step

    def __call__(self, prompts=None, completions=None, **kwargs):
        started = time.monotonic()
        rewards = self.reward(prompts=prompts, completions=completions, **kwargs)
        self.batches.append({
            "prompts": list(prompts or []), "completions": [completion_text(c) for c in completions],
            "task_ids": list(kwargs["task_id"]), "records": self.reward.last_records,
            "parsed": self.reward.last_parsed, "executions": self.reward.last_executions,
            "reward_s": time.monotonic() - started})
        return rewards


class PracticeRollout:
    """GRPO's generation (TRL `rollout_func`): the hf backend's sampler instead of `model.generate`.

    Faster on CPU — each distinct prompt is prefilled once for its G samples, finished rows
    leave the batch — and seeded per completion: derive_seed(seed, "practice", step, row).
    Returns TRL's contract: prompt ids, completion ids (ending with EOS when one was produced,
    as TRL's own generation keeps it) and no sampling log-probabilities.
    """

    def __init__(self, config: RunConfig) -> None:
        self.config = config

    def __call__(self, prompts, trainer):
        from codeself.agents.backends.base import derive_seed  # noqa: PLC0415

        prompt_ids = trainer._tokenize_prompts(prompts)[0]
        seeds = [derive_seed(self.config.seed, "practice", trainer.state.global_step, row)
                 for row in range(len(prompt_ids))]
        completion_ids = sample_completions(trainer, self.config, prompt_ids, seeds)
        return {"prompt_ids": [list(ids) for ids in prompt_ids], "completion_ids": completion_ids, "logprobs": None}


def sample_completions(trainer, config: RunConfig, prompt_ids, seeds) -> list[list[int]]:
    """One seeded completion per prompt from the policy in eval mode (practice temperature, top_p 1,
    `max_completion_tokens`), ending with EOS when one was produced, as TRL's own generation keeps it."""
    from codeself.agents.backends.hf_sampling import sample_token_rows  # noqa: PLC0415

    model = trainer.accelerator.unwrap_model(trainer.model)
    was_training = model.training
    model.eval()
    try:
        rows = sample_token_rows(model, prompt_ids, seeds, pad_id=trainer._tokenizer.pad_token_id or 0,
                                 eos=set(trainer.eos_token_ids), temperature=config.temperature,
                                 top_p=1.0, max_new_tokens=config.max_completion_tokens)
    finally:
        if was_training:
            model.train()
    eos = trainer.eos_token_ids[0]
    return [tokens + [eos] if finish == "eos" else tokens for tokens, finish in rows]


class SampledPrompts:
    """The task sampler choosing each generation batch's prompts (`task_sampler = "learnability"`).

    TRL has no hook for choosing prompts, so this wraps the trainer's
    `_generate_and_score_completions(inputs)`: TRL's data loader still yields a batch of dataset
    rows (its RepeatSampler: `prompts_per_step` rows, each `num_generations` times in a row), and
    the wrapper replaces them, before anything is generated, with the sampler's tasks for the step
    about to run (`trainer.state.global_step + 1`), each repeated `num_generations` times in a row
    as TRL groups them. What holds:
    - the step that chose a task generates it: the choice is made inside the generation call, so
      whatever the data loader fetched ahead (accelerate reads one batch ahead) is never used;
    - the store the choice reads holds every earlier step's groups: the run observes a step's
      rollouts when TRL logs it (`on_log`), before the next step starts;
    - with `num_iterations` = mu > 1 TRL generates once per mu steps and reuses the batch; only the
      generating steps choose. A run resumed mid-reuse regenerates (TRL's behaviour) and chooses
      then.
    """

    def __init__(self, sampler: Any, rows: dict[str, dict[str, Any]], group_size: int) -> None:
        self.sampler, self.rows, self.group_size = sampler, rows, group_size

    def install(self, trainer: Any) -> None:
        generate_and_score = trainer._generate_and_score_completions

        def wrapper(inputs, *args, **kwargs):
            return generate_and_score(self.rows_for(trainer.state.global_step + 1, len(inputs)), *args, **kwargs)

        trainer._generate_and_score_completions = wrapper

    def rows_for(self, step: int, count: int) -> list[dict[str, Any]]:
        """The `count` dataset rows generated at `step`: the sampler's tasks, each group_size times."""
        if count % self.group_size:
            raise RuntimeError(f"a generation batch of {count} rows is not whole groups of {self.group_size}")
        tasks = self.sampler.choose(step, count // self.group_size)
        return [dict(self.rows[task.task_id]) for task in tasks for _ in range(self.group_size)]
