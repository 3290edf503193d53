"""reward_v0 behind TRL's reward-function calling convention, so GRPOTrainer can use the sandbox.

TRL's GRPOTrainer calls each reward function as
`reward_func(prompts=..., completions=..., completion_ids=..., **columns)`, where every extra
dataset column (here `task_id`) arrives as a list aligned with `completions`, plus keywords
TRL adds itself (`trainer_state`, and in newer versions `log_extra` / `log_metric`), and logs
the function under its `__name__`. Completions are strings, or for conversational datasets
lists of `{"role", "content"}` messages. This module needs neither TRL nor torch.

`CorrectnessReward` is a plain class rather than a closure so that it pickles (TRL and
accelerate may copy reward functions across processes); the executor's worker processes are
started on the first call, never at construction or unpickling time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from codeself.datasets.task import Task, load_tasks
from codeself.rewards import get_reward
from codeself.rewards.correctness import (REWARD_NAME, RewardConfig, RewardRecord, check_reward_with_execution,
                                          default_reward_config)
from codeself.rewards.registry import Answer, prefetch_components


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, or the last assistant message's content."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        for message in reversed(completion):
            if isinstance(message, Mapping) and message.get("role") == "assistant":
                return _content_text(message.get("content"))
        raise ValueError("conversational completion has no message with role 'assistant'")
    raise ValueError(f"completion must be a string or a list of messages, got {type(completion).__name__}")


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):  # multimodal form: [{"type": "text", "text": ...}, ...]
        return "".join(part.get("text", "") for part in content
                       if isinstance(part, Mapping) and part.get("type") == "text")
    raise ValueError(f"message content must be a string or a list of parts, got {type(content).__name__}")


class CorrectnessReward:
    """A registered reward (`reward`, a name in codeself.rewards.REWARDS; a training config's
    `reward`) as a TRL reward function: parse, execute, score each completion with the components
    and weights of `reward_config` (codeself.rewards.registry).

    `tasks` is a mapping task_id -> Task or a path to a canonical task JSONL file. The dataset
    given to the trainer must have a `task_id` column.
    """

    def __init__(self, tasks: Mapping[str, Task] | str | os.PathLike, executor_config: Any = None,
                 reward_config: RewardConfig | None = None, *, reward: str = REWARD_NAME) -> None:
        if isinstance(tasks, (str, os.PathLike)):
            tasks = {task.task_id: task for task in load_tasks(tasks)}
        self.tasks: dict[str, Task] = dict(tasks)
        bad = [key for key, task in self.tasks.items() if not isinstance(task, Task) or task.task_id != key]
        if bad:
            raise ValueError(f"tasks must map each task_id to its Task; wrong entries: {', '.join(map(str, bad[:5]))}")
        self.executor_config = executor_config
        self.score_sample = get_reward(reward)  # a module-level function: pickles by reference
        self.reward_config = reward_config or default_reward_config()
        check_reward_with_execution(self.reward_config, bool(getattr(executor_config, "stop_at_first_failure", False)))
        self.__name__ = self.reward_config.name
        self.last_records: list[RewardRecord] = []
        # the parse result and execution (None = not executed) of each completion of the last call,
        # aligned with last_records, for trainers that write rollout records
        self.last_parsed: list[Any] = []
        self.last_executions: list[Any] = []
        self._executor = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_executor"] = None  # worker processes do not travel; restarted lazily
        state["last_records"] = state["last_parsed"] = state["last_executions"] = []
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None,
                 **kwargs: Any) -> list[float]:
        records = self.score(prompts, completions, **kwargs)
        self.last_records = records
        return [record.reward for record in records]

    def score(self, prompts: Sequence[Any] | None, completions: Sequence[Any] | None,
              **kwargs: Any) -> list[RewardRecord]:
        """Full reward records for a batch, in the order of `completions`."""
        from codeself.parsing import parse_completion

        tasks = self._batch_tasks(prompts, completions, kwargs)
        parsed = [parse_completion(completion_text(c), task.starter_code, task.entry_point)
                  for c, task in zip(completions, tasks)]
        jobs = [(task, result.code) for task, result in zip(tasks, parsed) if result.code is not None]
        results = iter(self._get_executor().run_many(jobs)) if jobs else iter(())
        executions = [next(results) if result.code is not None else None for result in parsed]
        self.last_parsed, self.last_executions = parsed, executions
        # components that ask a service (the LLM judge) get the whole batch first: concurrent requests
        prefetch_components(self.reward_config.component_configs,
                            [Answer(task, result.code, result.parse_status, execution)
                             for task, result, execution in zip(tasks, parsed, executions)])
        return [self.score_sample(task, result.code, result.parse_status, execution, config=self.reward_config)
                for task, result, execution in zip(tasks, parsed, executions)]

    def _batch_tasks(self, prompts: Sequence[Any] | None, completions: Sequence[Any] | None,
                     kwargs: dict[str, Any]) -> list[Task]:
        if completions is None:
            raise ValueError(f"{self.__name__}: called without completions")
        if "task_id" not in kwargs:
            columns = sorted(key for key in kwargs if key not in ("trainer_state", "completion_ids"))
            raise ValueError(f"{self.__name__}: the dataset needs a 'task_id' column "
                             f"(got columns: {', '.join(columns) or 'none'})")
        task_ids = list(kwargs["task_id"])
        if len(task_ids) != len(completions) or (prompts is not None and len(prompts) != len(completions)):
            raise ValueError(f"{self.__name__}: {len(completions)} completions but {len(task_ids)} task_ids"
                             + (f" and {len(prompts)} prompts" if prompts is not None else ""))
        unknown = sorted({str(task_id) for task_id in task_ids if task_id not in self.tasks})
        if unknown:
            raise ValueError(f"{self.__name__}: unknown task_id(s) {', '.join(unknown[:5])}"
                             f"{' ...' if len(unknown) > 5 else ''}; not among the {len(self.tasks)} tasks "
                             "this reward was built with")
        return [self.tasks[task_id] for task_id in task_ids]

    def _get_executor(self):
        with self._lock:
            if self._executor is None:
                from codeself.execution.engine import Executor

                self._executor = Executor(self.executor_config)
            return self._executor

    def close(self) -> None:
        """Stop the executor's worker processes (they restart on the next call)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()
