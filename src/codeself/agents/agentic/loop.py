"""`scripts/run_agentic.py` as a library call: episodes through `CodeRepairEnv`, traces out.

The loop is a client of the environment, nothing more: for each (task, sample index) it calls
`env.reset(seed=run seed, options={task_id, sample_index})`, then `agent.act(observation)` and
`env.step(reply)` until the episode ends, and writes `env.trace()` with the agent's metadata and
timing added. Episodes run in `threads` threads (one environment each, one shared sandbox and
result cache); records are written in task then sample order whatever finishes first, so the
same command and seed give the same file apart from `timing`.

An agent that `batches_turns` (a local `hf` model, agents.py) plays episodes in lockstep
instead: `episodes_per_batch` episodes at a time, turn k of every open one decoded in one
`act_batch` call, then all of them stepped in the thread pool (the sandbox runs them in
parallel); an episode that ends leaves the batch. Each request is the one `act` would have sent
(same chat, same per-sample seed), so the traces are those of one-at-a-time episodes; only
`timing` differs (`episode_s` counts from its batch's start, `generation_s` is its share of the
batched call).

Output: the trace JSONL (appended as produced; `--resume` continues it, refusing a different
configuration: `agents/rollout_output.py`'s rules) and its sidecar `<output>.config.json`.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from codeself.agents.agentic.env import CachedExecutor, CodeRepairEnv, EnvConfig
from codeself.agents.agentic.mock_reviser import ReviserConfig
from codeself.agents.agentic.trace import EpisodeTrace
from codeself.agents.backends.base import BackendOptions
from codeself.agents.rollout_output import RolloutWriter, written_phrase
from codeself.agents.templates import config_hash, load_template
from codeself.jsonl import refuse_overwriting_input
from codeself.progress import Progress
from codeself.datasets.task import SPLITS, Task, load_tasks
from codeself.execution.config import ExecutionConfig
from codeself.jsonl import sha256_file


@dataclass(frozen=True)
class AgenticSettings:
    """One run of scripts/run_agentic.py. The field metadata is the flag's help
    (`codeself.cli.add_run_flags` builds the flags)."""

    tasks: str = field(metadata={"help": "canonical task JSONL (from scripts/prepare_datasets.py)"})
    trace_output: str = field(metadata={"help": "trace JSONL to write, one record per episode"})
    backend: str = field(metadata={"help": "who answers: mock, static, openai or hf"})
    env: EnvConfig = field(default_factory=EnvConfig)
    samples_per_task: int | None = field(default=None, metadata={
        "help": "episodes per task", "default_help": "1; static: every recorded one"})
    seed: int = field(default=0, metadata={"help": "run seed; every random choice derives from it"})
    # the sandbox; episodes in flight: 2 x execution.workers
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    split: str | None = field(default=None, metadata={"help": "only tasks of this split"})
    limit: int | None = field(default=None, metadata={"help": "only the first N selected tasks"})
    resume: bool = field(default=False, metadata={
        "help": "continue an interrupted run, adding the missing episodes"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing trace file instead of refusing"})
    # not hashed: the same requests and seeds either way (float rounding aside), so a resume may switch
    batch_turns: bool = field(default=True, metadata={
        "flag": "--no-batch-turns", "help": "hf: decode one episode's turn at a time instead of turn k of every "
                                            "open episode in one batched call (same seeds; slower; for comparison)"})
    # not hashed: the replies are the ones decoding would give (agents.FirstTurnReuse)
    first_turns_from: str | None = field(default=None, metadata={
        "metavar": "TRACE", "help": "solve mode, hf/openai: take each episode's first turn from this earlier trace "
                                    "of the same agent, template and seed (e.g. the --feedback tests run of a "
                                    "feedback ablation) instead of decoding it again; missing ones are decoded"})
    backend_options: BackendOptions = field(default_factory=BackendOptions)
    reviser: ReviserConfig = field(default_factory=ReviserConfig)
    command_line: tuple[str, ...] = ()  # the argv that wrote the output, kept in the sidecar

    def __post_init__(self) -> None:
        if self.split is not None and self.split not in SPLITS:
            raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        for name in ("samples_per_task", "limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if self.resume and self.overwrite:
            raise ValueError("--resume and --overwrite contradict each other; choose one")


def select_tasks(settings: AgenticSettings) -> list[Task]:
    tasks = (task for task in load_tasks(settings.tasks) if settings.split is None or task.split == settings.split)
    selected = list(itertools.islice(tasks, settings.limit) if settings.limit else tasks)
    if not selected:
        raise ValueError(f"{settings.tasks}: no tasks selected (split {settings.split!r})")
    return selected


def run_episode(env: CodeRepairEnv, agent: Any, task: Task, sample_index: int, seed: int, config_hash_: str) -> EpisodeTrace:
    """One episode: reset, act/step until the end, the trace with the agent's metadata and timing."""
    started = time.monotonic()
    observation, _ = env.reset(seed=seed, options={"task_id": task.task_id, "sample_index": sample_index})
    replies = []
    while not env.done:
        begun = time.monotonic()
        generation = agent.act(task, observation, sample_index=sample_index, seed=seed)
        replies.append((generation, time.monotonic() - begun))
        observation, *_ = env.step(generation.completion)
    return _traced(env, agent, replies, started, config_hash_)


def _traced(env: CodeRepairEnv, agent: Any, replies: list[tuple[Any, float]], started: float,
            config_hash_: str) -> EpisodeTrace:
    """The finished episode's trace with each turn's agent metadata and timing added."""
    trace = env.trace(backend=agent.name, model=agent.model, config_hash=config_hash_)
    turns = [dataclasses.replace(turn, metadata=dict(generation.metadata),
                                 timing={**turn.timing, "generation_s": round(generation.generation_s or spent, 6)})
             for turn, (generation, spent) in zip(trace.turns, replies)]
    return dataclasses.replace(trace, turns=turns, timing={"episode_s": round(time.monotonic() - started, 6)})


def run_episode_batch(envs: list[CodeRepairEnv], agent: Any, jobs: list[tuple[Task, int]], seed: int,
                      config_hash_: str, pool: ThreadPoolExecutor) -> list["EpisodeTrace | _Skipped"]:
    """The episodes `jobs` in lockstep (module docstring), envs[i] playing jobs[i]; results in job order."""
    started = time.monotonic()
    results: list[EpisodeTrace | _Skipped | None] = [None] * len(jobs)
    observations: dict[int, dict[str, Any]] = {}
    replies: dict[int, list[tuple[Any, float]]] = {}

    def reset(i: int) -> None:
        task, sample_index = jobs[i]
        try:
            observations[i], _ = envs[i].reset(seed=seed, options={"task_id": task.task_id, "sample_index": sample_index})
        except ValueError as error:
            if "no repair start" not in str(error):
                raise
            results[i] = _Skipped(task.task_id, str(error))
        replies[i] = []

    def step(i: int, generation: Any, spent: float) -> None:
        replies[i].append((generation, spent))
        observations[i], *_ = envs[i].step(generation.completion)
        if envs[i].done:
            results[i] = _traced(envs[i], agent, replies[i], started, config_hash_)

    list(pool.map(reset, range(len(jobs))))
    open_ = [i for i in range(len(jobs)) if results[i] is None]
    while open_:
        begun = time.monotonic()
        generations = agent.act_batch([(jobs[i][0], observations[i], jobs[i][1]) for i in open_], seed=seed)
        spent = (time.monotonic() - begun) / len(open_)
        list(pool.map(step, open_, generations, [spent] * len(open_)))
        open_ = [i for i in open_ if results[i] is None]
    return results  # type: ignore[return-value]  (every episode ended or was skipped)


class _Skipped:
    def __init__(self, task_id: str, reason: str) -> None:
        self.task_id, self.reason = task_id, reason


def produce_episodes(jobs: Iterable[tuple[Task, int]], tasks: list[Task], executor: Any, agent: Any,
                     env_config: EnvConfig, seed: int, config_hash_: str, threads: int) -> Iterator[EpisodeTrace | _Skipped]:
    """Episodes in job order, `threads` at a time (at most 4 x threads pulled ahead); in lockstep
    batches when the agent `batches_turns` (module docstring)."""
    cached = executor if isinstance(executor, CachedExecutor) else CachedExecutor(executor)
    if getattr(agent, "batches_turns", False):
        yield from _batched_episodes(jobs, tasks, cached, agent, env_config, seed, config_hash_, threads)
        return
    local = threading.local()

    def one(task: Task, sample_index: int) -> EpisodeTrace | _Skipped:
        if not hasattr(local, "env"):
            local.env = CodeRepairEnv(tasks, cached, env_config)
        try:
            return run_episode(local.env, agent, task, sample_index, seed, config_hash_)
        except ValueError as error:
            if "no repair start" not in str(error):
                raise
            return _Skipped(task.task_id, str(error))

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="codeself-episode") as pool:
        pending: deque = deque()
        for task, sample_index in jobs:
            pending.append(pool.submit(one, task, sample_index))
            if len(pending) >= 4 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _batched_episodes(jobs: Iterable[tuple[Task, int]], tasks: list[Task], cached: CachedExecutor, agent: Any,
                      env_config: EnvConfig, seed: int, config_hash_: str, threads: int) -> Iterator[EpisodeTrace | _Skipped]:
    by_id = {task.task_id: task for task in tasks}  # shared by every environment, not copied
    envs: list[CodeRepairEnv] = []
    remaining = iter(jobs)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="codeself-episode") as pool:
        while batch := list(itertools.islice(remaining, agent.episodes_per_batch)):
            envs += [CodeRepairEnv(by_id, cached, env_config) for _ in range(len(batch) - len(envs))]
            yield from run_episode_batch(envs[:len(batch)], agent, batch, seed, config_hash_, pool)


def run_agentic(settings: AgenticSettings, *, quiet: bool = False, stream: TextIO | None = None) -> dict[str, Any]:
    """Run every missing episode and append its trace; return a summary."""
    from codeself.agents.agentic.agents import create_agent
    from codeself.execution.engine import open_executor

    stream = stream if stream is not None else sys.stderr
    refuse_overwriting_input([settings.tasks] + [p for p in [settings.backend_options.completions,
                                                             settings.first_turns_from] if p],
                             settings.trace_output)
    tasks = select_tasks(settings)
    template = load_template(settings.env.template)
    agent = create_agent(settings.backend, settings.backend_options, settings.reviser, template.stop,
                         settings.batch_turns)
    try:
        if settings.first_turns_from:
            agent = _reusing_first_turns(agent, settings)
        hash_ = config_hash(template, {"agent": agent.describe(), "env": settings.env.to_json()})
        writer = RolloutWriter(Path(settings.trace_output), resume=settings.resume, overwrite=settings.overwrite,
                               config_hash=hash_, seed=settings.seed, sidecar=_sidecar(settings, agent, hash_))
        jobs = [(task, index) for task in tasks for index in range(_samples(settings, agent, task))
                if not writer.is_done(task.task_id, index)]
        counts: Counter = Counter()
        skipped: list[str] = []
        untested = 0  # episodes on tasks with no public test
        try:
            with open_executor(settings.execution) as executor, Progress("episodes", len(jobs), quiet=quiet, stream=stream) as progress:
                cached = CachedExecutor(executor)
                agent.attach_executor(cached)
                for item in produce_episodes(jobs, tasks, cached, agent, settings.env, settings.seed, hash_,
                                               2 * settings.execution.workers):
                    if isinstance(item, _Skipped):
                        skipped.append(item.reason)
                    else:
                        writer.write(item.to_json())
                        counts["passed" if item.final["passed"] else "failed"] += 1
                        untested += item.final.get("public_total") == 0
                    progress.update()
        finally:
            writer.close()
        return {"written": writer.written, "already_present": writer.resumed, "final": dict(sorted(counts.items())),
                "skipped": skipped, "no_public_tests": untested, "config_hash": hash_}
    finally:
        agent.close()


def _reusing_first_turns(agent: Any, settings: AgenticSettings) -> Any:
    from codeself.agents.agentic.agents import FirstTurnReuse, ModelAgent, check_first_turn_source

    path = settings.first_turns_from
    if not isinstance(agent, ModelAgent):
        raise ValueError(f"--first-turns-from is for model backends (hf, openai), not {settings.backend}")
    try:
        sidecar = json.loads(Path(path + ".config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"--first-turns-from {path}: cannot read its sidecar {path}.config.json ({error})") from None
    check_first_turn_source(path, sidecar, agent, settings.seed, settings.env)
    return FirstTurnReuse(agent, path)


def _samples(settings: AgenticSettings, agent: Any, task: Task) -> int:
    if settings.backend == "static":
        available = agent.samples_available(task.task_id)
        return min(available, settings.samples_per_task) if settings.samples_per_task else available
    return settings.samples_per_task or 1


def _sidecar(settings: AgenticSettings, agent: Any, hash_: str) -> dict[str, Any]:
    return {"tool": "run_agentic", "backend": settings.backend, "model": agent.model, "agent": agent.describe(),
            "env": settings.env.to_json(), "config_hash": hash_, "seed": settings.seed,
            "samples_per_task": settings.samples_per_task, "split": settings.split, "limit": settings.limit,
            "batch_turns": bool(getattr(agent, "batches_turns", False)),  # what this run did (hf only)
            "first_turns_from": ({"path": settings.first_turns_from, "sha256": sha256_file(settings.first_turns_from)}
                                 if settings.first_turns_from else None),
            "tasks": str(settings.tasks), "tasks_sha256": sha256_file(settings.tasks),
            "reward_config": settings.env.reward.to_json(), "runs": [{"argv": list(settings.command_line)}]}


def format_summary(summary: dict[str, Any], output: str) -> str:
    final = ", ".join(f"{name} {count}" for name, count in summary["final"].items()) or "none"
    written, kept = summary["written"], summary["already_present"]
    whose = f" of the {written} new" if kept else ""  # the counts are this run's episodes only
    text = f"{written_phrase('episode', written, kept, output)}; final submissions{whose}: {final}"
    if summary.get("no_public_tests"):
        text += (f"; {summary['no_public_tests']} on tasks with no public test (no stop on a public pass; "
                 "the feedback said nothing checked the answers)")
    if summary["skipped"]:
        text += f"; {len(summary['skipped'])} skipped (no repair start), e.g. {summary['skipped'][0]}"
    return text
