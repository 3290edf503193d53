"""Tasks -> prompts -> completions -> programs -> execution -> reward -> rollout records.

Generation and execution overlap: a generator thread renders prompts, calls the backend batch
by batch and parses completions into a bounded queue, while the calling thread feeds the
parsed programs to `Executor.run_many` (parallel, results in input order) and writes each
rollout as soon as its result arrives. Tasks are streamed and the queue is bounded, so memory
stays flat in tasks x samples. A backend that `streams_samples` (`openai`) is not called batch
by batch: the generator thread keeps `samples_ahead` samples submitted (its `concurrency`
requests in flight, the rest queued) and hands each completion on in order as soon as it and
those before it are back, so no request slot waits for the slowest request of a batch and the
sandbox starts on the first completion (`scripts/bench_rollouts.py` measures the overlap).

Order and determinism: records come out in task order, then sample-index order; every random
choice is derived from the run seed and the (task, sample) identity, so the same inputs and
seed give the same file apart from the `timing` fields.

The backend is offered the executor for the duration of the run (`Backend.attach_executor`);
only `mock` uses it, to screen its mutants so that a sample labelled `mutated` really fails.

A sample whose completion has no code (`parse_status` `no_code`) is not executed; its
`execution` is a synthetic result with status `failed`, zero tests passed and
`extra.executed = false`, and its reward is scored with `execution=None`.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from codeself.agents.backends.base import Backend, Generation, GenerationRequest
from codeself.parsing import ParseResult
from codeself.parsing_languages import parse_for_task
from codeself.agents.rollout import Rollout, rollout_id
from codeself.agents.templates import PromptTemplate, render_prompt
from codeself.datasets.task import Task
from codeself.execution.result import ExecutionResult

QUEUE_SAMPLES = 256  # parsed samples waiting for the executor, at most


@dataclass(frozen=True)
class RolloutRun:
    """Everything that identifies a run's records (beyond the task and sample index)."""

    backend: Backend
    template: PromptTemplate
    config_hash: str
    seed: int
    samples_per_task: int | None  # None: as many as the backend has (static)


@dataclass
class _Item:
    task: Task
    sample_index: int
    prompt: Any
    generation: Generation
    parsed: ParseResult
    generation_s: float


class _Done:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def sample_indices(run: RolloutRun, task: Task, is_done: Callable[[str, int], bool]) -> tuple[int, ...]:
    """The sample indices of `task` this run still has to produce."""
    available = run.backend.samples_available(task.task_id)
    count = run.samples_per_task if available is None else available
    if run.samples_per_task is not None and available is not None:
        count = min(run.samples_per_task, available)
    return tuple(index for index in range(count or 0) if not is_done(task.task_id, index))


def not_executed_result(task: Task, parsed: ParseResult, isolation: str) -> ExecutionResult:
    """The verdict of a sample with no program: every test counted as failed, nothing run."""
    return ExecutionResult(
        status="failed", passed=False, phase="syntax",
        public={"passed": 0, "total": len(task.public_tests)},
        hidden={"passed": 0, "total": len(task.hidden_tests)},
        tests=(), tests_judged_in_process=0, isolation=isolation, error_type=None,
        message=f"not executed: {parsed.parse_status} ({parsed.detail})", extra={"executed": False})


class _Producer(threading.Thread):
    """Renders, generates and parses in the background, feeding a bounded queue."""

    def __init__(self, run: RolloutRun, tasks: Iterable[Task], is_done: Callable[[str, int], bool]) -> None:
        super().__init__(name="rollout-generator", daemon=True)
        self.run_config, self.tasks, self.is_done = run, tasks, is_done
        self.items: queue.Queue = queue.Queue(maxsize=QUEUE_SAMPLES)
        self.stop = threading.Event()

    def run(self) -> None:
        outcome = _Done()
        try:
            if self.run_config.backend.streams_samples:
                self._stream()
                return
            batch: list[tuple[Task, tuple[int, ...]]] = []
            for task in self.tasks:
                indices = sample_indices(self.run_config, task, self.is_done)
                if indices:
                    batch.append((task, indices))
                if len(batch) >= self.run_config.backend.tasks_per_batch:
                    self._generate(batch)
                    batch = []
                if self.stop.is_set():
                    return
            self._generate(batch)
        except BaseException as error:  # noqa: BLE001 - handed to the consuming thread
            outcome = _Done(error)
        finally:
            self._put(outcome)

    def _stream(self) -> None:
        """Sample by sample, `samples_ahead` submitted; completions handed on in order."""
        run, ahead = self.run_config, collections.deque()
        for task in self.tasks:
            indices = sample_indices(run, task, self.is_done)
            if not indices:
                continue
            prompt = render_prompt(run.template, task.public_view())
            request = GenerationRequest(task if run.backend.sees_reference_solution else task.public_view(),
                                        prompt, indices, run.seed, run.template.stop_for(task))
            for index in indices:
                ahead.append((task, index, prompt, run.backend.submit(request, index)))
                while len(ahead) >= max(1, run.backend.samples_ahead):
                    self._hand_on(*ahead.popleft())
                if self.stop.is_set():
                    return
        while ahead and not self.stop.is_set():
            self._hand_on(*ahead.popleft())

    def _hand_on(self, task: Task, index: int, prompt: Any, future: Any) -> None:
        generation = future.result()
        parsed = parse_for_task(task, generation.completion, mode=generation.parse_mode)
        self._put(_Item(task, index, prompt, generation, parsed, generation.generation_s))

    def _generate(self, batch: list[tuple[Task, tuple[int, ...]]]) -> None:
        if not batch:
            return
        run = self.run_config
        prompts = [render_prompt(run.template, task.public_view()) for task, _ in batch]
        requests = [GenerationRequest(task if run.backend.sees_reference_solution else task.public_view(),
                                      prompt, indices, run.seed, run.template.stop_for(task))
                    for (task, indices), prompt in zip(batch, prompts)]
        started = time.monotonic()
        generations = run.backend.generate(requests)
        share = (time.monotonic() - started) / max(1, sum(len(indices) for _, indices in batch))
        for (task, indices), prompt, produced in zip(batch, prompts, generations):
            if len(produced) != len(indices):
                raise ValueError(f"backend {run.backend.name} returned {len(produced)} samples for "
                                 f"{task.task_id}, {len(indices)} were requested")
            for index, generation in zip(indices, produced):
                parsed = parse_for_task(task, generation.completion, mode=generation.parse_mode)
                self._put(_Item(task, index, prompt, generation, parsed, generation.generation_s or share))

    def _put(self, item: object) -> None:
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def take(self) -> object:
        while True:
            try:
                return self.items.get(timeout=0.1)
            except queue.Empty:
                if self.stop.is_set() or not self.is_alive() and self.items.empty():
                    return _Done(RuntimeError("rollout generator stopped unexpectedly"))


def produce_rollouts(run: RolloutRun, tasks: Iterable[Task], executor: Any,
                     score: Callable[[Task, str | None, str, ExecutionResult | None], dict[str, Any]],
                     is_done: Callable[[str, int], bool] = lambda task_id, index: False) -> Iterator[Rollout]:
    """Yield one Rollout per missing sample, in task then sample order, while generating ahead."""
    producer = _Producer(run, tasks, is_done)
    pending: collections.deque[_Item] = collections.deque()
    failure: list[BaseException] = []

    def jobs() -> Iterator[tuple[Task, str]]:
        while True:
            item = producer.take()
            if isinstance(item, _Done):
                if item.error is not None:
                    failure.append(item.error)
                return
            pending.append(item)
            if item.parsed.code is not None:
                yield item.task, item.parsed.code

    run.backend.attach_executor(executor)
    producer.start()
    try:
        for result in executor.run_many(jobs()):
            while pending[0].parsed.code is None:
                yield _finish(run, pending.popleft(), None, executor, score)
            yield _finish(run, pending.popleft(), result, executor, score)
        while pending:
            yield _finish(run, pending.popleft(), None, executor, score)
    finally:
        producer.stop.set()
        producer.join(timeout=5)
        run.backend.attach_executor(None)
    if failure:
        raise failure[0]


def _finish(run: RolloutRun, item: _Item, result: ExecutionResult | None, executor: Any,
            score: Callable[..., dict[str, Any]]) -> Rollout:
    task, parsed = item.task, item.parsed
    assert (result is None) == (parsed.code is None), "executor results out of step with samples"
    reward = score(task, parsed.code, parsed.parse_status, result)
    execution = result if result is not None else not_executed_result(task, parsed, executor.isolation)
    metadata = {**item.generation.metadata, "parse_detail": parsed.detail}
    return Rollout(
        rollout_id=rollout_id(task.task_id, item.sample_index, run.config_hash, run.seed),
        task_id=task.task_id, sample_index=item.sample_index, split=task.split, language=task.language,
        backend=run.backend.name, model=run.backend.model, template=run.template.name,
        config_hash=run.config_hash, prompt=item.prompt, completion=item.generation.completion,
        code=parsed.code, parse_status=parsed.parse_status, execution=execution, reward=reward,
        seed=run.seed, metadata=metadata, timing={"generation_s": round(item.generation_s, 6)})
