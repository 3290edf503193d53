"""Who plays the model in an episode: `act(task, observation, sample_index=, seed=) -> Generation`.

| `--backend` | agent            | what it sends and reads                                                        |
|-------------|------------------|--------------------------------------------------------------------------------|
| `mock`      | `MockReviser`    | nothing sent; reads the feedback text (mock_reviser.py)                          |
| `static`    | `ReplayAgent`    | replays recorded turns: a trace JSONL, or `{"task_id", "sample_index", "turns": [completion, ...]}` lines |
| `openai`    | `ModelAgent`     | the whole chat so far (`observation["messages"]`): feedback is the last user message |
| `hf`        | `ModelAgent`     | the same chat through the tokenizer's chat template                             |

A model agent sees the task only through its `PublicTask` and the observation's messages (the
full `Task` only for a backend that `sees_reference_solution`, i.e. a stand-in that sends nothing
to a model). Its per-turn seed is derived from (run seed, turn), and the backend derives the
sample's own seed from that and (task id, sample index), so every turn of every sample has its
own stream.

Batched turns (`ModelAgent.batches_turns`, on for `hf`): a local model is one object on one
device, so the loop hands it turn k of every open episode in one `act_batch` call, i.e. one
`backend.generate` over all their requests (the same call and per-sample seeds as batched
single-turn rollouts, split into batches under the same padding cap). Each request is exactly
the one `act` would send, so an episode's turns depend on its own seeds, not on its batch. With
`batched=False` (`run_agentic.py --no-batch-turns`) the loop calls `act` per episode, one at a
time under a lock: the slow path, kept for comparison (scripts/bench_agentic.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from codeself.agents.agentic.mock_reviser import MockReviser, ReviserConfig
from codeself.agents.backends import BackendOptions, create_backend
from codeself.agents.backends.base import Backend, Generation, GenerationRequest, derive_seed
from codeself.datasets.task import Task
from codeself.jsonl import iter_jsonl_lines

AGENT_BACKENDS = ("hf", "mock", "openai", "static")


class ModelAgent:
    """A generation backend answering the chat of each turn."""

    BATCHED_BACKENDS = ("hf",)  # one local model: its turns are decoded together (module docstring)

    def __init__(self, backend: Backend, stop: tuple[str, ...] = (), *, batched: bool | None = None) -> None:
        self.backend, self.stop = backend, stop
        self.name, self.model = backend.name, backend.model
        self.sees_reference_solution = backend.sees_reference_solution
        self.batches_turns = backend.name in self.BATCHED_BACKENDS if batched is None else batched
        # episodes whose turns are decoded together: the padding cap splits them further
        self.episodes_per_batch = getattr(backend, "max_batch_rows", 32)
        # a local model is one object on one device: one generate call at a time
        self._lock = threading.Lock() if backend.name in self.BATCHED_BACKENDS else None

    def describe(self) -> dict[str, Any]:
        return self.backend.config()

    def attach_executor(self, executor: Any | None) -> None:
        """Model agents never execute anything."""

    def request(self, task: Task, observation: dict[str, Any], *, sample_index: int, seed: int) -> GenerationRequest:
        """What this turn sends: the chat so far, this sample, the turn's seed."""
        view = task if self.sees_reference_solution else task.public_view()
        return GenerationRequest(view, observation["messages"], (sample_index,),
                                 derive_seed(seed, "agentic-turn", observation["turn"]), self.stop)

    def act(self, task: Task, observation: dict[str, Any], *, sample_index: int, seed: int) -> Generation:
        return self._generate([self.request(task, observation, sample_index=sample_index, seed=seed)])[0]

    def act_batch(self, turns: Sequence[tuple[Task, dict[str, Any], int]], *, seed: int) -> list[Generation]:
        """One reply per (task, observation, sample index), all decoded in one backend call."""
        return self._generate([self.request(task, observation, sample_index=index, seed=seed)
                               for task, observation, index in turns])

    def _generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        if self._lock is None:
            return [samples[0] for samples in self.backend.generate(requests)]
        with self._lock:
            return [samples[0] for samples in self.backend.generate(requests)]

    def close(self) -> None:
        self.backend.close()


class ReplayAgent:
    """Replays recorded turns; past the recorded ones it repeats the last (`replay_exhausted`)."""

    name, model, sees_reference_solution = "static", "replay", False

    def __init__(self, path: str) -> None:
        self.path = path
        self.turns: dict[tuple[str, int], list[str]] = {}
        counters: dict[str, int] = {}
        for line_number, record in iter_jsonl_lines(path):
            task_id, turns = record.get("task_id"), record.get("turns")
            if not isinstance(task_id, str) or not isinstance(turns, list) or not turns:
                raise ValueError(f"{path}:{line_number}: a replay record needs task_id and a non-empty "
                                 "'turns' list (a trace record, or completions as strings)")
            index = record.get("sample_index", counters.get(task_id, 0))
            counters[task_id] = index + 1
            self.turns[(task_id, index)] = [_completion_of(turn, path, line_number) for turn in turns]

    def samples_available(self, task_id: str) -> int:
        return sum(1 for key in self.turns if key[0] == task_id)

    def describe(self) -> dict[str, Any]:
        from codeself.jsonl import sha256_file

        return {"backend": "static", "model": "replay", "completions_sha256": sha256_file(self.path)}

    def attach_executor(self, executor: Any | None) -> None:
        """Replays need no sandbox."""

    def act(self, task: Task, observation: dict[str, Any], *, sample_index: int, seed: int) -> Generation:
        recorded = self.turns.get((task.task_id, sample_index))
        if recorded is None:
            raise ValueError(f"{self.path}: no recorded turns for {task.task_id} sample {sample_index}")
        turn = observation["turn"]
        metadata = {"replay_exhausted": True} if turn >= len(recorded) else {}
        return Generation(recorded[min(turn, len(recorded) - 1)], metadata=metadata)

    def close(self) -> None:
        """Nothing to release."""


class FirstTurnReuse:
    """A model agent whose first turns come from an earlier run's trace (`--first-turns-from`).

    A solve episode's first request is the task's prompt with the per-sample seed of turn 0, the
    same whatever the feedback mode or revision budget, so a feedback ablation (`--feedback tests`,
    `generic`, `none`) may decode the first turns once and replay them in the other runs: the
    same replies decoding would give, paired across the runs, at about a third less generation
    for two-turn episodes. `check_first_turn_source` refuses a trace written by a different
    agent, template, seed or mode; an episode whose prompt differs from the recorded one is
    refused, and one missing from the trace is decoded as usual.
    """

    def __init__(self, agent: Any, path: str) -> None:
        self.agent, self.path = agent, path
        self.recorded: dict[tuple[str, int], tuple[Any, dict[str, Any]]] = {}
        for _, record in iter_jsonl_lines(path):
            first = record["turns"][0]
            self.recorded[(record["task_id"], record["sample_index"])] = (
                record["prompt"], {"completion": first["completion"], "metadata": first.get("metadata") or {}})

    def __getattr__(self, name: str) -> Any:  # name, model, batches_turns, describe, close, ...
        return getattr(self.agent, name)

    def act(self, task: Task, observation: dict[str, Any], *, sample_index: int, seed: int) -> Generation:
        return self.act_batch([(task, observation, sample_index)], seed=seed)[0]

    def act_batch(self, turns: Sequence[tuple[Task, dict[str, Any], int]], *, seed: int) -> list[Generation]:
        replies: list[Generation | None] = [self._recorded(*turn) for turn in turns]
        missing = [i for i, reply in enumerate(replies) if reply is None]
        if missing:
            decoded = self.agent.act_batch([turns[i] for i in missing], seed=seed)
            for i, reply in zip(missing, decoded):
                replies[i] = reply
        return replies  # type: ignore[return-value]

    def _recorded(self, task: Task, observation: dict[str, Any], sample_index: int) -> Generation | None:
        found = self.recorded.get((task.task_id, sample_index)) if observation["turn"] == 0 else None
        if found is None:
            return None
        prompt, turn = found
        if prompt != observation["messages"]:
            raise ValueError(f"--first-turns-from {self.path}: {task.task_id} sample {sample_index} was asked "
                             "another prompt there; its first turn cannot be reused")
        return Generation(turn["completion"], metadata={**turn["metadata"], "first_turn_reused": True})


def check_first_turn_source(path: str, sidecar: dict[str, Any], agent: Any, seed: int, env: Any) -> None:
    """Refuse a `--first-turns-from` trace whose first turns this run would not have decoded."""
    where = f"--first-turns-from {path}"
    if env.mode != "solve" or sidecar.get("env", {}).get("mode") != "solve":
        raise ValueError(f"{where}: first turns are reused in solve mode only (a repair start differs per run)")
    for what, theirs, ours in (("agent", sidecar.get("agent"), agent.describe()), ("seed", sidecar.get("seed"), seed),
                               ("template", sidecar.get("env", {}).get("template"), env.template)):
        if theirs != ours:
            raise ValueError(f"{where}: written with another {what} ({theirs!r}, this run {ours!r})")


def _completion_of(turn: Any, path: str, line_number: int) -> str:
    if isinstance(turn, str):
        return turn
    if isinstance(turn, dict) and isinstance(turn.get("completion"), str):
        return turn["completion"]
    raise ValueError(f"{path}:{line_number}: each turn must be a completion string or an object with 'completion'")


def create_agent(name: str, options: BackendOptions, reviser: ReviserConfig | None = None,
                 stop: tuple[str, ...] = (), batch_turns: bool = True) -> Any:
    """The agent for `--backend NAME`; an unknown name is a ValueError listing the valid ones.
    `batch_turns=False`: a model agent decodes one episode's turn at a time (`--no-batch-turns`)."""
    if name not in AGENT_BACKENDS:
        raise ValueError(f"unknown backend {name!r} for agentic episodes; choose one of {', '.join(AGENT_BACKENDS)}")
    if name == "mock":
        from codeself.agents.backends.mock import MockBackend

        return MockReviser(reviser, MockBackend.from_options(options))
    if name == "static":
        if not options.completions:
            raise ValueError("--backend static needs --completions FILE (a trace JSONL or recorded turns)")
        return ReplayAgent(options.completions)
    return ModelAgent(create_backend(name, options), stop, batched=None if batch_turns else False)
