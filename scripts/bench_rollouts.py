#!/usr/bin/env python3
"""Measure how well rollouts overlap generation and execution with the `openai` backend.

A stdlib stand-in server on 127.0.0.1 answers every request with the task's reference
solution after a fixed latency. Two scenarios, each timed three ways on the same samples:
generation only (the rollout pipeline with an executor that costs nothing), execution only
(`Executor.run_many` over the same programs) and the full rollouts (generation, sandbox and
reward overlapped). When generation dominates, the rollouts should take at most 10% longer
than generation alone; when execution dominates (each program sleeps at import), at most 10%
longer than execution alone. The Executor is started and its timeouts calibrated before any
timing, so the figures are the steady state of a long run. The line "batch by batch" is the
same rollouts with the backend called one batch of tasks at a time (how the pipeline worked
before it streamed samples).

Example:
  python3 scripts/bench_rollouts.py --samples-per-task 20 --workers 2 --rounds 3
"""

import argparse
import sys
import time

import _bootstrap  # noqa: F401

from codeself.cli import run_main

PROG = "bench_rollouts.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="configs/datasets/tasks.example.jsonl",
                        help="canonical task JSONL whose reference solutions the server returns "
                             "(default %(default)s)")
    parser.add_argument("--samples-per-task", type=int, default=20, help="samples per task (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="sandbox workers (default 2)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument("--generation-latency", type=float, default=0.1,
                        help="seconds per request in the generation-bound scenario (default 0.1)")
    parser.add_argument("--execution-latency", type=float, default=0.002,
                        help="seconds per request in the execution-bound scenario (default 0.002)")
    parser.add_argument("--program-sleep", type=float, default=0.05,
                        help="seconds each program sleeps at import in the execution-bound scenario (default 0.05)")
    parser.add_argument("--rounds", type=int, default=1, help="time each figure this many times; report the best")
    return parser


def _answers(tasks, template, sleep_s: float) -> dict[str, str]:
    from codeself.agents.templates import render_prompt

    prefix = f"import time\ntime.sleep({sleep_s})\n\n" if sleep_s else ""
    answers = {}
    for task in tasks:
        prompt = render_prompt(template, task.public_view())
        answers[prompt[-1]["content"] if isinstance(prompt, list) else prompt] = \
            f"```python\n{prefix}{task.reference_solution}\n```"
    return answers


class NoCostExecutor:
    """Stands in for the sandbox when timing generation alone: every program 'passes' at once."""

    isolation = "none"

    def __init__(self, passed):
        self.passed = passed

    def run_many(self, jobs):
        for _ in jobs:
            yield self.passed


def _timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def scenario(args, tasks, executor, latency_s: float, sleep_s: float) -> dict[str, float]:
    """Best-of-rounds seconds for generation only, execution only, rollouts (and batch by batch)."""
    from codeself.agents.backends.openai_http import OpenAIBackend
    from codeself.agents.backends.standin_server import StandInServer
    from codeself.agents.pipeline import RolloutRun, produce_rollouts
    from codeself.agents.templates import load_template

    template = load_template("chat_default")
    server = StandInServer(_answers(tasks, template, sleep_s), latency_s=latency_s).start()
    backend = OpenAIBackend("stand-in", base_url=server.base_url, concurrency=args.concurrency, max_retries=0)
    try:
        run = RolloutRun(backend, template, "bench", 0, args.samples_per_task)

        def rollouts(execution) -> list:
            return list(produce_rollouts(run, tasks, execution, lambda *_: {}))

        warm = rollouts(executor)  # also calibrates every task's timeouts before anything is timed
        if not all(rollout.execution.passed for rollout in warm):
            raise ValueError("a stand-in answer did not pass its tests; check --tasks")
        programs = [(rollout_task(tasks, rollout), rollout.code) for rollout in warm]
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            figures = {"generation only": _timed(lambda: rollouts(NoCostExecutor(warm[0].execution)))[0],
                       "execution only": _timed(lambda: list(executor.run_many(programs)))[0],
                       "rollouts": _timed(lambda: rollouts(executor))[0]}
            backend.streams_samples = False
            figures["rollouts, batch by batch"] = _timed(lambda: rollouts(executor))[0]
            backend.streams_samples = True
            for name, seconds in figures.items():
                best[name] = min(seconds, best.get(name, seconds))
        return best
    finally:
        backend.close()
        server.stop()


def rollout_task(tasks, rollout):
    return next(task for task in tasks if task.task_id == rollout.task_id)


def _report(title: str, figures: dict[str, float], bound: str, count: int) -> None:
    print(title)
    for name, seconds in figures.items():
        print(f"  {name:<26} {seconds:7.2f} s  {count / seconds:7.1f} samples/s")
    print(f"  rollouts / {bound} = {figures['rollouts'] / figures[bound]:.2f}  (target <= 1.10); "
          f"batch by batch / {bound} = {figures['rollouts, batch by batch'] / figures[bound]:.2f}")


def _run(args) -> int:
    from codeself.datasets.task import load_tasks
    from codeself.execution.engine import ExecutionConfig, Executor

    if min(args.samples_per_task, args.workers, args.concurrency, args.rounds) < 1:
        raise ValueError("--samples-per-task, --workers, --concurrency and --rounds must be >= 1")
    tasks = [task for task in load_tasks(args.tasks) if task.reference_solution]
    if not tasks:
        raise ValueError(f"{args.tasks} has no task with a reference solution")
    count = len(tasks) * args.samples_per_task
    print(f"rollouts through the openai backend from a stand-in server on 127.0.0.1: {len(tasks)} tasks x "
          f"{args.samples_per_task} samples = {count}; concurrency {args.concurrency}; workers {args.workers}")
    with Executor(ExecutionConfig(workers=args.workers)) as executor:
        generation = scenario(args, tasks, executor, args.generation_latency, 0.0)
        _report(f"generation-bound: {args.generation_latency:g} s per request, programs as written",
                generation, "generation only", count)
        execution = scenario(args, tasks, executor, args.execution_latency, args.program_sleep)
        _report(f"execution-bound: {args.execution_latency:g} s per request, each program sleeps "
                f"{args.program_sleep:g} s at import", execution, "execution only", count)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    sys.exit(main())
