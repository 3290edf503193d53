"""The `rollout_func` route: TRL's GRPOTrainer generates, the project's `CodeRepairEnv` runs the episodes.

    rollout = EpisodeRollout(tasks, EnvConfig(max_revisions=1), seed=0)
    trainer = GRPOTrainer(model=..., train_dataset=dataset_rows(tasks, template), rollout_func=rollout,
                          reward_funcs=[agentic_episode_return], args=GRPOConfig(...))

Why a second route next to `trl_env` (environment_factory): there the model must call a tool in
the chat template's tool-call syntax (JSON with the program as an escaped string) to get any
feedback; here the episode is the project's own loop, exactly as `run_agentic.py` evaluates it:
the model answers in a fenced block and the feedback is the next user message. The README
("Agentic self-debugging", training) gives what was measured on SmolLM2-135M.

Per generation batch (TRL passes the batch's prompts, the `num_generations` copies of a GRPO
group in a row, and the trainer):
1. each prompt is mapped back to its task: rows are rendered from the tasks' public views with
   the environment's template (`trl_trainer.dataset_rows`), and two tasks with the same prompt
   are refused when the rollout is made;
2. one `CodeRepairEnv` per batch position is reset; the episode seed is drawn once per group from
   the rollout's own seeded generator, so a group starts from the same program (repair mode),
   every batch draws afresh, and the same seed gives the same run;
3. turn k of every open episode is generated in one batched call of TRL's own generation
   (`trainer._generate_single_turn`: the trainer's sampling settings, at most
   `max_completion_length` tokens per turn; or the `generate` hook given, e.g. the project's
   per-sample-seeded sampler in `codeself.training.trl_episodes`), decoded without special
   tokens and stepped; an
   episode that goes on gets the environment's next user message (the feedback), rendered by the
   chat template with the assistant header, appended as tokens (TRL's own multi-turn rule:
   concatenate ids, never re-tokenise what the model generated);
4. it returns `prompt_ids` (the environment's first messages through the chat template),
   `completion_ids` (turns and feedback concatenated), `env_mask` (1 on the model's tokens, 0 on
   the feedback's: no loss on them), `logprobs`, and the columns `episode_return` (the only
   reward: `trl_env.agentic_episode_return` reads it) and `turns_used`.

Nothing here imports TRL or torch: the trainer and its tokenizer are passed in, so a stand-in
trainer tests the rollout without the extra. `private` TRL 1.16 attributes used:
`_generate_single_turn`, `eos_token_ids`, `num_generations`, `chat_template_kwargs` (pinned in
the `training` extra).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from codeself.agents.agentic.env import CodeRepairEnv, EnvConfig
from codeself.agents.agentic.trace import EpisodeTrace
from codeself.agents.agentic.trl_env import TaskSandbox
from codeself.agents.templates import canonical_json, load_template, render_prompt
from codeself.datasets.task import Task


# generate(trainer, token inputs of the open episodes, their batch rows, turn index) ->
# (generated ids per input, sampling log-probabilities per input or None)
Generate = Callable[[Any, list[list[int]], list[int], int], tuple[Any, Any]]


class EpisodeRollout(TaskSandbox):
    """A `rollout_func` for TRL's GRPOTrainer running `CodeRepairEnv` episodes (see the module docstring)."""

    def __init__(self, tasks: str | Mapping[str, Task] | Iterable[Task], config: EnvConfig | None = None,
                 execution: Any | None = None, executor: Any | None = None, *, seed: int = 0,
                 generate: Generate | None = None) -> None:
        super().__init__(tasks, config, execution, executor)
        self._rng = random.Random(seed)
        self._generate = generate or _trl_generate
        self._envs: list[CodeRepairEnv] = []
        template = load_template(self.config.template)
        self._task_of: dict[str, str] = {}
        for task_id, task in self.tasks.items():
            key = _prompt_key(render_prompt(template, task.public_view()))
            if key in self._task_of:
                raise ValueError(f"tasks {self._task_of[key]} and {task_id} have the same prompt, so a rollout "
                                 "cannot tell which one a row is; leave one of them out")
            self._task_of[key] = task_id
        self.last_traces: list[EpisodeTrace] = []  # the episodes of the last batch, in batch order

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        tokenizer = trainer.processing_class
        chat_kwargs = dict(getattr(trainer, "chat_template_kwargs", None) or {})
        group = trainer.num_generations if trainer.model.training else trainer.num_generations_eval
        if len(prompts) % group:
            raise ValueError(f"{len(prompts)} prompts do not split into groups of {group} (num_generations)")
        envs = self._environments(len(prompts))
        prompt_ids: list[list[int]] = []
        for start in range(0, len(prompts), group):
            seed = self._rng.randrange(2 ** 31)  # one draw per group: its members start alike
            for index in range(start, start + group):
                observation, _ = envs[index].reset(seed=seed, options={"task_id": self._task_id(prompts[index])})
                prompt_ids.append(_render(tokenizer, observation["messages"], chat_kwargs))
        completions: list[list[int]] = [[] for _ in prompts]
        masks: list[list[int]] = [[] for _ in prompts]
        logprobs: list[list[float]] | None = [[] for _ in prompts]
        eos = list(getattr(trainer, "eos_token_ids", None) or [tokenizer.eos_token_id])
        open_, turn = list(range(len(prompts))), 0
        while open_:
            inputs = [prompt_ids[i] + completions[i] for i in open_]
            turn_ids, turn_logprobs = self._generate(trainer, inputs, open_, turn)
            turn += 1
            if turn_logprobs is None:
                logprobs = None
            still_open = []
            for position, index in enumerate(open_):
                ids = list(turn_ids[position])
                completions[index] += ids
                masks[index] += [1] * len(ids)
                if logprobs is not None:
                    logprobs[index] += list(turn_logprobs[position])
                observation, *_ = envs[index].step(tokenizer.decode(ids, skip_special_tokens=True))
                if envs[index].done:
                    continue
                ended = bool(ids) and ids[-1] in eos  # a turn cut at the cap gets its end-of-turn token
                suffix = ([] if ended else [tokenizer.eos_token_id]) + _message_suffix(
                    tokenizer, observation["messages"][-1], chat_kwargs)
                completions[index] += suffix
                masks[index] += [0] * len(suffix)
                if logprobs is not None:
                    logprobs[index] += [0.0] * len(suffix)
                still_open.append(index)
            open_ = still_open
        self.last_traces = [env.trace(backend="trl", model="policy") for env in envs]
        return {"prompt_ids": prompt_ids, "completion_ids": completions, "logprobs": logprobs, "env_mask": masks,
                "episode_return": [float(env.state()["return"]) for env in envs],
                "turns_used": [env.state()["turn"] for env in envs]}

    def _environments(self, count: int) -> list[CodeRepairEnv]:
        while len(self._envs) < count:
            self._envs.append(CodeRepairEnv(self.tasks, self.executor(), self.config))
        return self._envs[:count]

    def _task_id(self, prompt: Any) -> str:
        task_id = self._task_of.get(_prompt_key(prompt))
        if task_id is None:
            raise ValueError("a prompt of the batch is none of the rollout's tasks rendered with its template; build "
                             "the rows with codeself.training.trl_trainer.dataset_rows(tasks, template)")
        return task_id


def _trl_generate(trainer: Any, inputs: list[list[int]], rows: list[int], turn: int) -> tuple[Any, Any]:
    """TRL's own generation of one turn (the trainer's sampling settings; `rows`/`turn` unused)."""
    return trainer._generate_single_turn(inputs, None, {}, num_generations=1)


def _prompt_key(messages: Any) -> str:
    if not isinstance(messages, list):
        raise ValueError("the rollout route needs conversational rows (a 'prompt' column of messages)")
    return canonical_json([[m.get("role"), m.get("content")] for m in messages])


def _render(tokenizer: Any, messages: list[dict[str, str]], chat_kwargs: dict[str, Any],
            generation_prompt: bool = True) -> list[int]:
    return list(tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=True,
                                              return_dict=False, **chat_kwargs))


def _message_suffix(tokenizer: Any, message: dict[str, str], chat_kwargs: dict[str, Any]) -> list[int]:
    """The tokens that follow an assistant turn's end-of-turn token when `message` comes next, up
    to the next assistant header: the difference of two renderings of a stand-in chat, cut after
    the last end-of-turn token of the shorter (TRL's way for tool messages, here for the user's)."""
    chat = [{"role": "user", "content": "task"}, {"role": "assistant", "content": "answer"}]
    before = _render(tokenizer, chat, chat_kwargs, generation_prompt=False)
    after = _render(tokenizer, chat + [dict(message)], chat_kwargs)
    ends = [i for i, token in enumerate(before) if token == tokenizer.eos_token_id]
    if not ends or after[: ends[-1] + 1] != before[: ends[-1] + 1]:
        raise ValueError("the chat template does not end an assistant turn with the tokenizer's EOS token, or "
                         "re-renders earlier turns when a message is added: the rollout cannot append feedback")
    return after[ends[-1] + 1:]
