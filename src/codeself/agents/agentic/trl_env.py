"""The environment as TRL's `GRPOTrainer(environment_factory=...)` expects it: a class with `reset`
and one typed tool, `submit_code`.

    factory = AgenticEnvFactory("data/processed/mbpp.codeself.jsonl", EnvConfig(max_revisions=2))
    trainer = GRPOTrainer(model=..., train_dataset=rows_with_a_task_id_column, environment_factory=factory, ...)

TRL (checked against 1.16) makes environments by calling the factory with no argument (one per
rollout, pooled and reset across batches), calls `reset(**row)` with the dataset row (a
`task_id` column is required; `seed`, `mode`, `sample_index` are used when present) and appends
what it returns to the last user message, exposes every public function of the class besides
`reset` and `get_reward` as a tool described by its type hints and docstring, and takes
`get_reward()` as a reward source of the environment's own. The tool returns the same
public-test feedback as `run_agentic.py` (hidden tests never reach the model). The episode
return is the reward: through `get_reward` (no `reward_funcs` needed), or through the reward
function `agentic_episode_return(completions, environments)`, which submits a final reply the
model never sent through the tool.

Nothing here imports TRL, so the adapter is tested without it; all environments of one factory
share one sandbox, started at the first `reset`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from codeself.agents.agentic.env import CachedExecutor, CodeRepairEnv, EnvConfig
from codeself.agents.agentic.feedback import repair_block
from codeself.datasets.task import Task, load_tasks

EPISODE_OVER = "The episode is over; no further submission is judged."


class AgenticEnvFactory:
    """A zero-argument callable making `CodeSelfToolEnv`s over one task set and one shared sandbox."""

    def __init__(self, tasks: str | Mapping[str, Task] | Iterable[Task], config: EnvConfig | None = None,
                 execution: Any | None = None, executor: Any | None = None) -> None:
        if isinstance(tasks, str):
            tasks = load_tasks(tasks)
        self.tasks = dict(tasks) if isinstance(tasks, Mapping) else {task.task_id: task for task in tasks}
        self.config = config or EnvConfig()
        self.execution = execution  # an ExecutionConfig for the sandbox this factory starts
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

    def __call__(self) -> "CodeSelfToolEnv":
        return CodeSelfToolEnv(self)

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()


class CodeSelfToolEnv:
    """One episode at a time; the model acts through `submit_code`."""

    def __init__(self, factory: AgenticEnvFactory) -> None:
        self.factory = factory
        self.env: CodeRepairEnv | None = None

    def reset(self, **columns: Any) -> str | None:
        """Start an episode for the dataset row `columns` (needs `task_id`). Returns the text TRL
        appends to the prompt: in repair mode the starting program and its public-test output,
        in solve mode nothing (the row's prompt is the task)."""
        task_id = columns.get("task_id")
        if not isinstance(task_id, str):
            raise ValueError("the dataset needs a 'task_id' column (string) for the agentic environment")
        if self.env is None:
            self.env = CodeRepairEnv(self.factory.tasks, self.factory.executor(), self.factory.config)
        options = {key: columns[key] for key in ("mode", "sample_index") if columns.get(key) is not None}
        observation, _ = self.env.reset(seed=columns.get("seed", 0), options={"task_id": task_id, **options})
        if observation["mode"] == "repair":
            return repair_block(observation["code"], observation["feedback"])
        return None

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

    def get_reward(self) -> float:
        """TRL's hook for an environment that owns its reward (called once per finished rollout):
        the episode return, after ending an episode the model left open (never called the tool:
        a submission with no code; calls left: `CodeRepairEnv.end()`)."""
        return self._finish(None)

    @property
    def episode_return(self) -> float:
        return float(self.env.state()["return"]) if self.env is not None else 0.0

    def _finish(self, final_reply: str | None = None) -> float:
        """End the episode if the model left it open; return its episode return. Private: TRL would
        offer every public method to the model as a tool."""
        if self.env is None:
            raise ValueError("the episode return is read after reset()")
        if not self.env.done and not self.env.state()["turn"]:
            self.env.step(final_reply or "")  # it never called the tool: its final reply is the submission
        if not self.env.done:
            self.env.end()
        return self.episode_return


def agentic_episode_return(completions: list[Any] | None = None, environments: list[CodeSelfToolEnv] | None = None,
                           **kwargs: Any) -> list[float]:
    """TRL reward function: each environment's episode return (CoCoS or RLEF, as configured)."""
    if environments is None:
        raise ValueError("agentic_episode_return needs environments= (GRPOTrainer(environment_factory=...))")
    replies = completions if completions is not None else [None] * len(environments)
    return [env._finish(_text(reply)) for env, reply in zip(environments, replies)]


def _text(completion: Any) -> str | None:
    """The final reply's text: a string, or the last assistant message of a conversation."""
    if completion is None or isinstance(completion, str):
        return completion
    for message in reversed(list(completion)):
        if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), str):
            return message["content"]
    return None
