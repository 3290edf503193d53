"""The environment as TRL's `GRPOTrainer(environment_factory=...)` expects it: a class with `reset`
and one typed tool, `submit_code`.

    factory = AgenticEnvFactory(tasks, EnvConfig(max_revisions=1), seed=0, group_size=num_generations)
    trainer = GRPOTrainer(model=..., train_dataset=dataset_rows(tasks, template), environment_factory=factory,
                          reward_funcs=[agentic_episode_return], processing_class=enable_tool_calling(tokenizer))

TRL 1.16 (`trl>=1.16,<1.17`, the `training` extra; checked against its source) makes one
environment per rollout by calling the factory with no argument (pooled: pool position i serves
row i of every generation batch), calls `reset(**row)` with the dataset row (a `task_id` column
is required; `seed`, `mode`, `sample_index` are used when present) and appends what it returns
to the last user message *with no separator*, so `reset` returns the rest of the environment's
own first user message ("\\n\\n" + the repair start in repair mode: the model sees exactly what
`run_agentic.py` shows). Every public function of the class besides `reset` and `get_reward` is
a tool, described by its type hints and docstring; the tool's result becomes a `tool` message.
SmolLM2's chat template renders no tools: `trl_chat.enable_tool_calling` gives it one that does.

Which route for which model (measured with SmolLM2-135M-Instruct, TRL 1.16, transformers 5.25):
with `enable_tool_calling` TRL accepts the tokenizer and builds the trainer (tests.test_agentic_trl,
RealTRLTest), but the model does not use the tool: 0 of 32 replies sampled at temperature 1 (4 per
example task, up to 200 tokens, the submit_code schema in the system message) held a parseable
call, 32 of 32 answered in a fenced block. Through this route such a model only ever plays one turn,
judged on its final reply, and practises no self-correction. For a model without tool-call training
use the `rollout_func` route (`trl_rollout.EpisodeRollout`): it drives the project's own loop (fenced
answer, feedback as the next user message), and it is the route of the real two-step GRPO test.
This route is for models trained to call tools (e.g. Qwen3, whose template TRL knows).

Reward: exactly one route, the reward function `agentic_episode_return`. TRL also adds an
environment's `get_reward` method as a reward of its own (weight 1), so the class deliberately
has none: with both, an episode returning 1.0 was scored 2.0. The function sees the final
replies, which `get_reward` cannot: an episode in which the model never called the tool is
judged on its final reply (a small model often answers in a fenced block instead of a call).
The same function reads the `episode_return` column of the `rollout_func` route
(`trl_rollout.EpisodeRollout`).

Starting programs: a row without a `seed` draws a fresh episode seed at every reset from the
environment's own generator, seeded from (factory seed, rollout group), so a run is
reproducible, a task is not always repaired from the same mutant, and the `group_size`
consecutive rollouts of one GRPO group (pass `num_generations`) start from the same program.

Nothing here imports TRL, so the adapter is tested without it; all environments of one factory
share one sandbox, started at the first `reset`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from codeself.agents.agentic.env import CachedExecutor, CodeRepairEnv, EnvConfig
from codeself.agents.backends.base import derive_seed
from codeself.agents.templates import render_prompt
from codeself.datasets.task import Task, load_tasks

EPISODE_OVER = "The episode is over; no further submission is judged."


class TaskSandbox:
    """One task set, one episode config and one sandbox shared by every episode of a TRL route
    (this module's factory, `trl_rollout.EpisodeRollout`): given an `executor`, that one; else an
    `Executor(execution)` started at first use and stopped by `close()`."""

    def __init__(self, tasks: str | Mapping[str, Task] | Iterable[Task], config: EnvConfig | None = None,
                 execution: Any | None = None, executor: Any | None = None) -> None:
        if isinstance(tasks, str):
            tasks = load_tasks(tasks)
        self.tasks = dict(tasks) if isinstance(tasks, Mapping) else {task.task_id: task for task in tasks}
        self.config = config or EnvConfig()
        self.execution = execution  # an ExecutionConfig for the sandbox started here
        self._executor = CachedExecutor(executor) if executor is not None else None
        self._owned = None
        self._lock = threading.Lock()

    def executor(self) -> CachedExecutor:
        with self._lock:
            if self._executor is None:
                from codeself.execution.engine import Executor

                self._owned = Executor(self.execution)
                self._executor = CachedExecutor(self._owned)
            return self._executor

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()


class AgenticEnvFactory(TaskSandbox):
    """A zero-argument callable making `CodeSelfToolEnv`s over one task set and one shared sandbox."""

    def __init__(self, tasks: str | Mapping[str, Task] | Iterable[Task], config: EnvConfig | None = None,
                 execution: Any | None = None, executor: Any | None = None, *, seed: int = 0,
                 group_size: int = 1) -> None:
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"group_size must be an integer >= 1 (GRPO: num_generations), got {group_size!r}")
        super().__init__(tasks, config, execution, executor)
        self.seed, self.group_size = seed, group_size
        self._made = 0  # environments made so far: the next one's pool position

    def __call__(self) -> "CodeSelfToolEnv":
        with self._lock:
            position, self._made = self._made, self._made + 1
        return CodeSelfToolEnv(self, position)


class CodeSelfToolEnv:
    """One episode at a time; the model acts through `submit_code`."""

    def __init__(self, factory: AgenticEnvFactory, position: int = 0) -> None:
        self.factory = factory
        self.env: CodeRepairEnv | None = None
        # one generator per group of pool positions: the members of a GRPO group draw the same seeds
        self._rng = random.Random(derive_seed(factory.seed, "trl-env-group", position // factory.group_size))

    def reset(self, **columns: Any) -> str | None:
        """Start an episode for the dataset row `columns` (needs `task_id`). Returns what TRL appends
        to the row's last message to make it the environment's first user message: in repair mode
        the starting program and its public-test output, in solve mode nothing."""
        task_id = columns.get("task_id")
        if not isinstance(task_id, str):
            raise ValueError("the dataset needs a 'task_id' column (string) for the agentic environment")
        if self.env is None:
            self.env = CodeRepairEnv(self.factory.tasks, self.factory.executor(), self.factory.config)
        options = {key: columns[key] for key in ("mode", "sample_index") if columns.get(key) is not None}
        seed = columns.get("seed")
        if seed is None:
            seed = self._rng.randrange(2 ** 31)
        observation, _ = self.env.reset(seed=seed, options={"task_id": task_id, **options})
        rendered = render_prompt(self.env.template, self.env.tasks[task_id].public_view())
        _check_row_prompt(columns.get("prompt"), rendered, task_id)
        task_message = rendered[-1]["content"]
        first = observation["messages"][-1]["content"]
        if not first.startswith(task_message):  # the environment's own layout changed: fail loudly
            raise AssertionError(f"{task_id}: the first user message does not start with the task message")
        return first[len(task_message):] or None

    def submit_code(self, code: str) -> str:
        """Run a complete Python program against the task's public tests and return what they showed.

        Args:
            code: The complete Python program: the function the task asks for, with any imports it needs.

        Returns:
            Which public tests failed and how (expected and actual values, or the error), or that all passed.
        """
        if self.env is None or self.env.state()["task_id"] is None:
            raise ValueError("submit_code before reset(): TRL resets each environment with its dataset row first")
        if self.env.done:
            return EPISODE_OVER
        _, _, terminated, truncated, info = self.env.step(code)
        if terminated or truncated:
            return f"{info['feedback']}\n\n{EPISODE_OVER}"
        return info["feedback"]

    @property
    def episode_return(self) -> float:
        return float(self.env.state()["return"]) if self.env is not None else 0.0

    def _finish(self, final_reply: str | None = None) -> float:
        """End the episode if the model left it open and return its episode return: a model that
        never called the tool submitted its final reply; one that stopped calling it submitted
        its last program (`CodeRepairEnv.end()`). Private, like every helper here: TRL offers
        each public method to the model as a tool, and would add a `get_reward` as a second reward."""
        if self.env is None:
            raise ValueError("the episode return is read after reset()")
        if not self.env.done and not self.env.state()["turn"]:
            self.env.step(final_reply or "")
        if not self.env.done:
            self.env.end()
        return self.episode_return


def agentic_episode_return(completions: list[Any] | None = None, environments: list[CodeSelfToolEnv] | None = None,
                           episode_return: list[float] | None = None, **kwargs: Any) -> list[float]:
    """TRL reward function: each episode's return (CoCoS or RLEF, as `EnvConfig.reward` says), the
    only reward of an episode. `environments` on the environment_factory route (TRL passes them),
    the `episode_return` column on the rollout_func route (`trl_rollout.EpisodeRollout` returns it)."""
    if episode_return is not None:
        if environments is not None:
            raise ValueError("agentic_episode_return got both environments= and episode_return=: use one route")
        return [float(value) for value in episode_return]
    if environments is None:
        raise ValueError("agentic_episode_return needs environments= (GRPOTrainer(environment_factory=...)) "
                         "or the episode_return column of trl_rollout.EpisodeRollout (rollout_func=...)")
    replies = completions if completions is not None else [None] * len(environments)
    return [env._finish(_text(reply)) for env, reply in zip(environments, replies)]


def _check_row_prompt(prompt: Any, expected: list[dict[str, str]], task_id: str) -> None:
    """The row's prompt must be the environment's own (dataset_rows with EnvConfig.template): the
    trace records what the environment rendered, and repair text is appended to the row's."""
    if prompt is None:
        return
    shown = [{"role": m.get("role"), "content": m.get("content")} for m in prompt] if isinstance(prompt, list) else prompt
    if shown != expected:
        raise ValueError(f"{task_id}: the row's prompt is not the environment's task prompt; build the rows with "
                         "codeself.training.trl_trainer.dataset_rows(tasks, template) and the template of EnvConfig")


def _text(completion: Any) -> str | None:
    """The final reply's text: a string, or the last assistant message of a conversation."""
    if completion is None or isinstance(completion, str):
        return completion
    for message in reversed(list(completion)):
        if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), str):
            return message["content"]
    return None
