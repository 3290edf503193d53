#!/usr/bin/env python3
"""Measure the agentic loop: its overhead over plain execution, and the HTTP server's throughput and memory.

1. Loop overhead (--tasks, e.g. MBPP's test split): run_agentic's mock episodes (--max-revisions,
   default 2) timed end to end, then every program those episodes executed (one per turn with
   code, duplicates included) judged by scripts/execute_samples.py, also timed end to end (both
   include interpreter start, task loading and timing each reference once). Target: loop time
   within 1.5x of execute_samples'.
2. Server: scripts/serve_env.py on generated trivial tasks; --clients threads each hold one
   keep-alive connection and one session and play episodes (reset, one step with a unique
   correct program, so no result comes from the cache); steps/s and step latency percentiles.
3. Memory: the same server over --memory-episodes episodes, its resident set size printed as
   it goes (flat = no growth per episode).
   With --full-grader, the step latency of the full grader against tests-only grading instead:
   two servers on tasks whose answers can be measured (a loop over a list, train split, scale
   inputs), clients resetting without a task id (the server draws) and answering correctly, each
   answer a distinct program (so efficiency is measured for every step, none from its cache);
   tests-only = the defaults; full = --efficiency, a reward TOML weighting partial credit,
   quality and every registered efficiency component, --curriculum rolling and --memory
   family. Prints p50/p99 of each and their ratios (target: full <= 1.5x tests-only).
4. Batched turns (--hf, needs the training extra): the same episodes with the `hf` backend
   (--hf-model, default SmolLM2-135M prepared by scripts/prepare_model.py) played one at a time
   (one generate call per episode turn, as `run_agentic.py --no-batch-turns`) and batched (turn k
   of every open episode in one call, the default); episodes per minute for each (the model is
   loaded and warmed up once, before both; sandbox time included, each with a fresh result cache),
   this process's CPU seconds for each (less sensitive to a shared machine's load, which is
   printed too) and whether the traces came out identical.
   Small by default (--hf-limit 4 tasks x --hf-samples 2, --hf-max-revisions 1, every turn
   used, --hf-max-tokens 48 per turn); tasks from --tasks (default: the example tasks);
   --hf-threads sets torch's threads.
5. Efficiency (--efficiency): one generated task per family with scale inputs; a linear and a
   quadratic correct answer each (plus a few natural quadratic ones), scored by
   `execute_samples.py --efficiency`'s measure, first alone, then beside --burners processes
   spinning on the CPU; prints every score and whether quiet and busy scores are identical.

Example:
  python3 scripts/prepare_datasets.py --format mbpp --input ../shared/datasets/mbpp.jsonl \\
      --output /tmp/mbpp.jsonl --assign-splits
  python3 scripts/bench_agentic.py --tasks /tmp/mbpp.jsonl --split test --limit 500
  /work/venv-train/bin/python scripts/bench_agentic.py --hf --skip-loop --skip-server
  python3 scripts/bench_agentic.py --efficiency --skip-loop --skip-server
  python3 scripts/bench_agentic.py --skip-loop --full-grader --episodes 400 --clients 4
"""

import _bootstrap  # noqa: F401

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from codeself.cli import run_main
from codeself.execution.bench import rss_mb
from codeself.jsonl import iter_jsonl, write_jsonl
from codeself.training.model_prep import DEFAULT_MODEL_DIR

PROG = "bench_agentic.py"
SCRIPTS = Path(__file__).resolve().parent
EXAMPLE_TASKS = SCRIPTS.parent / "configs" / "datasets" / "tasks.example.jsonl"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", help="task JSONL for the loop-overhead part (skipped without it)")
    parser.add_argument("--split", help="only tasks of this split (e.g. test)")
    parser.add_argument("--limit", type=int, default=500, help="tasks for the loop-overhead part (default 500)")
    parser.add_argument("--max-revisions", type=int, default=2, help="revisions per episode (default 2)")
    parser.add_argument("--all-turns", action="store_true",
                        help="loop part: episodes do not stop when public tests pass (every episode uses every turn)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="sandbox workers everywhere")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    parser.add_argument("--episodes", type=int, default=2000, help="episodes for the throughput part (default 2000)")
    parser.add_argument("--memory-episodes", type=int, default=10000,
                        help="episodes for the memory part (default 10000; 0 skips it)")
    parser.add_argument("--skip-loop", action="store_true", help="skip the loop-overhead part")
    parser.add_argument("--skip-server", action="store_true", help="skip the server parts")
    parser.add_argument("--grader-rounds", type=int, default=4,
                        help="--full-grader: alternate tests-only and full-grader rounds this many times, "
                             "--episodes split between them (default 4)")
    parser.add_argument("--full-grader", action="store_true",
                        help="server part: compare the step latency of the full grader (efficiency, reward "
                             "components, curriculum, memory) with tests-only grading instead of the usual figures")
    efficiency = parser.add_argument_group("efficiency (--efficiency)")
    efficiency.add_argument("--efficiency", action="store_true",
                            help="run the efficiency part: linear vs quadratic answers per generated family, "
                                 "alone and beside CPU-burning processes")
    efficiency.add_argument("--burners", type=int, default=2,
                            help="CPU-burning processes running during the busy measurement (default 2)")
    hf = parser.add_argument_group("batched turns (--hf)")
    hf.add_argument("--hf", action="store_true", help="run the batched-turns part (needs the training extra)")
    hf.add_argument("--hf-model", default=str(DEFAULT_MODEL_DIR), help="model directory (default %(default)s)")
    hf.add_argument("--hf-limit", type=int, default=4, help="tasks, the first of --tasks/--split (default 4)")
    hf.add_argument("--hf-samples", type=int, default=2, help="episodes per task (default 2)")
    hf.add_argument("--hf-max-revisions", type=int, default=1, help="revisions per episode (default 1)")
    hf.add_argument("--hf-max-tokens", type=int, default=48, help="generated tokens per turn at most (default 48)")
    hf.add_argument("--hf-threads", type=int, default=0,
                    help="torch threads (default 0: torch's own choice); on a loaded machine 1 avoids threads "
                         "spinning while the other is descheduled")
    return parser


def _timed(command: list[str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise ValueError(f"{Path(command[1]).name} failed: {done.stderr.strip()}")
    return time.monotonic() - started


def bench_loop(args: argparse.Namespace, tmp: Path) -> None:
    traces, samples = tmp / "traces.jsonl", tmp / "samples.jsonl"
    split = ["--split", args.split] if args.split else []
    loop_s = _timed([sys.executable, str(SCRIPTS / "run_agentic.py"), "--tasks", args.tasks, *split,
                     "--limit", str(args.limit), "--trace-output", str(traces), "--backend", "mock",
                     "--max-revisions", str(args.max_revisions), "--workers", str(args.workers), "--quiet",
                     *(["--no-stop-when-public-pass"] if args.all_turns else [])])
    programs, episodes, turns = [], 0, 0
    for record in iter_jsonl(traces):
        episodes += 1
        for turn in record["turns"]:
            turns += 1
            if turn["code"] is not None:
                programs.append({"task_id": record["task_id"], "code": turn["code"]})
    write_jsonl(samples, programs)
    plain_s = _timed([sys.executable, str(SCRIPTS / "execute_samples.py"), "--tasks", args.tasks,
                      "--samples", str(samples), "--output", str(tmp / "results.jsonl"), "--workers",
                      str(args.workers), "--quiet"])
    print(f"loop: {episodes} episodes, {turns} turns, {len(programs)} programs executed by turns "
          f"(max {1 + args.max_revisions} turns, mock, {'every turn used' if args.all_turns else 'stop on public pass'})")
    print(f"loop: run_agentic.py {loop_s:.2f} s; execute_samples.py on the same {len(programs)} programs "
          f"{plain_s:.2f} s; ratio {loop_s / plain_s:.2f}x (target <= 1.5x)")


def trivial_tasks(path: Path, count: int = 20) -> None:
    records = [{"task_id": f"trivial/{k}", "source": "example", "prompt": f"Return x + {k}.", "entry_point": "f",
                "starter_code": "", "public_tests": [f"assert f(1) == {1 + k}"],
                "hidden_tests": [f"assert f(2) == {2 + k}"], "setup_code": "",
                "reference_solution": f"def f(x):\n    return x + {k}\n", "split": "test", "metadata": {},
                "schema_version": 1} for k in range(count)]
    write_jsonl(path, records)


LOOP_SUM = "def f(xs):\n    total = {k}{note}\n    for x in xs:\n        total += x\n    return total\n"


def scaled_tasks(path: Path, count: int = 20) -> None:
    """Train tasks f(xs) = k + sum(xs) with scale inputs, in two families (the curriculum's categories)."""
    sizes = (16, 32, 64, 128, 256)
    records = [{"task_id": f"scaled/{'ab'[k % 2]}/{k}", "source": "example", "prompt": f"Return {k} + sum(xs).",
                "entry_point": "f", "starter_code": "", "public_tests": [f"assert f([1, 2]) == {3 + k}"],
                "hidden_tests": [f"assert f([5]) == {5 + k}"], "setup_code": "",
                "reference_solution": LOOP_SUM.format(k=k, note=""), "split": "train",
                "metadata": {"scale_inputs": [{"size": n, "args": repr((list(range(n)),))} for n in sizes]},
                "schema_version": 1} for k in range(count)]
    write_jsonl(path, records)


def start_server(tasks: Path, workers: int, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, str(SCRIPTS / "serve_env.py"), "--tasks", str(tasks), "--port", "0",
                                "--workers", str(workers), "--max-revisions", "0", "--quiet", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("serving on"):
        process.kill()
        raise ValueError(f"serve_env.py did not start: {process.communicate()[1].strip()}")
    return process, int(line.split()[2].rsplit(":", 1)[1])


class Client(threading.Thread):
    """Plays `episodes` episodes over one keep-alive connection and one session."""

    def __init__(self, port: int, number: int, episodes: int, tasks: int, drawn: bool = False, first: int = 0) -> None:
        super().__init__(daemon=True)
        self.port, self.number, self.episodes, self.tasks, self.drawn = port, number, episodes, tasks, drawn
        self.first = first  # the first episode's number: programs stay distinct across calls of play
        self.latencies: list[float] = []
        self.errors = 0

    def post(self, connection: http.client.HTTPConnection, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        connection.request("POST", path, data, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            self.errors += 1
        return answer

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        session = None
        for episode in range(self.first, self.first + self.episodes):
            k = (self.number * 7 + episode) % self.tasks
            reset = {"seed": 1000 * self.number + episode, **({} if self.drawn else {"task_id": f"trivial/{k}"}),
                     **({"session_id": session} if session else {})}
            first = self.post(connection, "/reset", reset)
            session = first["session_id"]
            code = f"def f(x):\n    return x + {k}  # client {self.number} episode {episode}\n"
            if self.drawn:  # the server chose the task: answer it (scaled_tasks)
                k = int(first["metadata"]["task_id"].rsplit("/", 1)[1])
                # a statement, not a comment: code differing in comments only is measured once
                # (efficiency's answer cache), so every answer here is measured
                code = f"unique_{self.number}_{episode} = 0\n" + LOOP_SUM.format(k=k, note="")
            started = time.perf_counter()
            self.post(connection, "/step", {"session_id": session, "action": {"code": code}})
            self.latencies.append(time.perf_counter() - started)
        connection.close()


def play(port: int, clients: int, episodes: int, drawn: bool = False, first: int = 0) -> tuple[float, list[float], int]:
    threads = [Client(port, number, episodes // clients, 20, drawn, first) for number in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return elapsed, sorted(x for t in threads for x in t.latencies), sum(t.errors for t in threads)


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    return statistics.median(latencies), latencies[int(0.99 * (len(latencies) - 1))]


def bench_grader(args: argparse.Namespace, tmp: Path) -> None:
    """Step latency, full grader vs tests-only (module docstring, part 3)."""
    from codeself.rewards.registry import COMPONENTS, _load_builtin

    tasks, reward = tmp / "scaled.jsonl", tmp / "full_reward.toml"
    scaled_tasks(tasks)
    _load_builtin()
    measured = "".join(f"\n[components.{name}]\nweight = 0.05\n" for name in sorted(COMPONENTS)
                       if name == "measured_efficiency")
    reward.write_text('name = "bench_full"\npartial_credit_weight = 0.1\nquality_weight = 0.05\n'
                      'efficiency_weight = 0.05\n' + measured, encoding="utf-8")
    full = ("--efficiency", "--reward-config", str(reward), "--curriculum", "rolling", "--memory", "family")
    # both servers up at once (an idle one costs no CPU), played in alternating rounds, so a change
    # in the machine's load during the bench falls on both sides alike rather than on the second
    rounds = max(1, min(args.grader_rounds, args.episodes // args.clients))
    latencies: dict[str, list[float]] = {"tests-only": [], "full grader": []}
    elapsed, errors = dict.fromkeys(latencies, 0.0), dict.fromkeys(latencies, 0)
    servers, warm_up = {}, 20  # warm-up episodes per client (numbered first)
    try:
        for label, extra in (("tests-only", ()), ("full grader", full)):
            servers[label] = start_server(tasks, args.workers, extra)
            play(servers[label][1], args.clients, warm_up * args.clients, drawn=True)  # references timed, measured
        per_round = args.episodes // rounds
        for number in range(rounds):  # episode numbers go on from round to round: every program is new
            for label, (_, port) in servers.items():
                seconds, round_latencies, round_errors = play(port, args.clients, per_round, drawn=True,
                                                              first=warm_up + number * per_round // args.clients)
                elapsed[label] += seconds
                latencies[label] += round_latencies
                errors[label] += round_errors
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.communicate(timeout=60)
    figures = {}
    for label, values in latencies.items():
        values.sort()
        p50, p99 = figures[label] = _percentiles(values)
        print(f"grader: {label}: {len(values)} steps from {args.clients} clients in {rounds} rounds, "
              f"{elapsed[label]:.2f} s ({len(values) / elapsed[label]:.0f} steps/s); step latency p50 "
              f"{1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, max {1000 * values[-1]:.1f} ms; {errors[label]} errors")
    (base50, base99), (full50, full99) = figures.values()
    print(f"grader: full / tests-only step latency: p50 {full50 / base50:.2f}x, p99 {full99 / base99:.2f}x "
          f"(target <= 1.5x; {'met' if full50 <= 1.5 * base50 and full99 <= 1.5 * base99 else 'NOT met'}; "
          f"1-min load average {os.getloadavg()[0]:.1f})")


def bench_server(args: argparse.Namespace, tmp: Path) -> None:
    if args.full_grader:
        bench_grader(args, tmp)
        return
    tasks = tmp / "trivial.jsonl"
    trivial_tasks(tasks)
    process, port = start_server(tasks, args.workers)
    try:
        play(port, args.clients, 20 * args.clients)  # warm-up: every task's reference timed once
        elapsed, latencies, errors = play(port, args.clients, args.episodes)
        p50, p99 = _percentiles(latencies)
        print(f"server: {len(latencies)} steps from {args.clients} clients in {elapsed:.2f} s = "
              f"{len(latencies) / elapsed:.0f} steps/s ({2 * len(latencies) / elapsed:.0f} requests/s with resets); "
              f"step latency p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, max {1000 * latencies[-1]:.1f} ms; "
              f"{errors} errors (target >= 200 steps/s)")
        if args.memory_episodes:
            chunk = max(args.clients, args.memory_episodes // 10)
            readings, done = [f"{rss_mb(process.pid):.1f}"], 0
            while done < args.memory_episodes:
                play(port, args.clients, chunk)
                done += chunk
                readings.append(f"{rss_mb(process.pid):.1f}")
            print(f"memory: server RSS (MB) every {chunk} episodes over {done}: {' '.join(readings)}")
    finally:
        process.terminate()
        process.communicate(timeout=60)


def bench_hf(args: argparse.Namespace) -> None:
    from codeself.agents.agentic.agents import ModelAgent
    from codeself.agents.agentic.env import CachedExecutor, EnvConfig
    from codeself.agents.agentic.loop import produce_episodes
    from codeself.agents.backends.hf import HFBackend
    from codeself.agents.templates import load_template
    from codeself.datasets.task import load_tasks
    from codeself.execution.config import ExecutionConfig
    from codeself.execution.engine import open_executor

    selected = [task for task in load_tasks(args.tasks or str(EXAMPLE_TASKS))
                if args.split is None or task.split == args.split][:args.hf_limit]
    if not selected:
        raise ValueError("--hf: no tasks selected")
    if not Path(args.hf_model).is_dir():
        raise ValueError(f"--hf-model {args.hf_model}: no such model directory (scripts/prepare_model.py makes the default)")
    backend = HFBackend(args.hf_model, max_tokens=args.hf_max_tokens)
    if args.hf_threads:
        import torch  # noqa: PLC0415 - the --hf part only

        torch.set_num_threads(args.hf_threads)
    config = EnvConfig(max_revisions=args.hf_max_revisions, stop_when_public_pass=False)
    jobs = [(task, index) for task in selected for index in range(args.hf_samples)]
    results = {}
    stop = load_template("chat_default").stop
    load_before = os.getloadavg()[0]  # a shared machine: the figures mean little without the load
    with open_executor(ExecutionConfig(workers=args.workers)) as executor:
        ModelAgent(backend, stop).act(selected[0], {"turn": 0, "messages": [{"role": "user", "content": "Hi"}]},
                                      sample_index=0, seed=1)  # warm-up: first-call costs count for neither mode
        for label, batched in (("one at a time", False), ("batched", True)):
            agent = ModelAgent(backend, stop, batched=batched)
            started, cpu = time.monotonic(), time.process_time()  # a fresh result cache each (no reused verdicts)
            traces = [item.deterministic_json() for item in produce_episodes(
                jobs, selected, CachedExecutor(executor), agent, config, 0, "bench", 2 * args.workers)]
            results[label] = (time.monotonic() - started, time.process_time() - cpu, traces)
    (single_s, single_cpu, single), (batched_s, batched_cpu, together) = results.values()
    differ = sum(a != b for a, b in zip(single, together))
    print(f"hf: {len(jobs)} episodes ({len(selected)} tasks x {args.hf_samples}, {1 + args.hf_max_revisions} turns each, "
          f"<= {args.hf_max_tokens} tokens per turn, {Path(args.hf_model).name}, {torch_threads()} torch threads; "
          f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)")
    print(f"hf: one at a time {single_s:.1f} s = {60 * len(jobs) / single_s:.2f} episodes/min; batched {batched_s:.1f} s = "
          f"{60 * len(jobs) / batched_s:.2f} episodes/min; speed-up {single_s / batched_s:.2f}x; "
          f"traces identical: {'yes' if not differ else f'no, {differ} of {len(jobs)} episodes differ'}")
    # CPU seconds of this process (the model's threads; not the sandbox's): less sensitive to other load
    print(f"hf: CPU one at a time {single_cpu:.1f} s, batched {batched_cpu:.1f} s ({single_cpu / batched_cpu:.2f}x)")


def bench_efficiency(args: argparse.Namespace) -> bool:
    """Part 5; True when both targets hold."""
    from codeself.execution import efficiency_bench
    from codeself.execution.engine import ExecutionConfig, Executor

    tasks = efficiency_bench.family_tasks()
    with Executor(ExecutionConfig(workers=args.workers, efficiency=True)) as executor:
        started = time.monotonic()
        quiet = efficiency_bench.measure(executor, tasks)
        quiet_s = time.monotonic() - started
        # a fresh executor: the busy run measures the references again too
    with Executor(ExecutionConfig(workers=args.workers, efficiency=True)) as executor:
        with efficiency_bench.cpu_burners(args.burners, limit_s=max(600.0, 20 * quiet_s)) as pids:
            started = time.monotonic()
            busy = efficiency_bench.measure(executor, tasks)
            busy_s = time.monotonic() - started
    lines, ok = efficiency_bench.report(quiet, busy, tasks)
    print(f"efficiency: {len(tasks)} families with scale inputs; quiet {quiet_s:.1f} s, beside {args.burners} "
          f"CPU burners (pids {', '.join(map(str, pids))}) {busy_s:.1f} s, load average {os.getloadavg()[0]:.2f}")
    print("\n".join(lines))
    print(f"efficiency targets (quadratic < linear on every family, quiet == busy): {'met' if ok else 'NOT met'}")
    return ok


def torch_threads() -> int:
    import torch  # noqa: PLC0415 - the --hf part only

    return torch.get_num_threads()


def _run(args: argparse.Namespace) -> int:
    if args.burners < 0:
        raise ValueError("--burners must be >= 0")
    if args.clients < 1 or args.episodes < args.clients or args.memory_episodes < 0:
        raise ValueError("--clients must be >= 1, --episodes >= --clients, --memory-episodes >= 0")
    if min(args.hf_limit, args.hf_samples, args.hf_max_tokens) < 1 or min(args.hf_max_revisions, args.hf_threads) < 0:
        raise ValueError("--hf-limit, --hf-samples and --hf-max-tokens must be >= 1, --hf-max-revisions and "
                         "--hf-threads >= 0")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_loop:
            if args.tasks:
                bench_loop(args, Path(tmp))
            else:
                print("loop: skipped (no --tasks)")
        if not args.skip_server:
            bench_server(args, Path(tmp))
    if args.hf:
        bench_hf(args)
    if args.efficiency and not bench_efficiency(args):
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
