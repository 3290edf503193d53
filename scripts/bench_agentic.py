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

Example:
  python3 scripts/prepare_datasets.py --format mbpp --input ../shared/datasets/mbpp.jsonl \\
      --output /tmp/mbpp.jsonl --assign-splits
  python3 scripts/bench_agentic.py --tasks /tmp/mbpp.jsonl --split test --limit 500
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

PROG = "bench_agentic.py"
SCRIPTS = Path(__file__).resolve().parent


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


def start_server(tasks: Path, workers: int) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, str(SCRIPTS / "serve_env.py"), "--tasks", str(tasks), "--port", "0",
                                "--workers", str(workers), "--max-revisions", "0", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("serving on"):
        process.kill()
        raise ValueError(f"serve_env.py did not start: {process.communicate()[1].strip()}")
    return process, int(line.split()[2].rsplit(":", 1)[1])


class Client(threading.Thread):
    """Plays `episodes` episodes over one keep-alive connection and one session."""

    def __init__(self, port: int, number: int, episodes: int, tasks: int) -> None:
        super().__init__(daemon=True)
        self.port, self.number, self.episodes, self.tasks = port, number, episodes, tasks
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
        for episode in range(self.episodes):
            k = (self.number * 7 + episode) % self.tasks
            reset = {"task_id": f"trivial/{k}", "seed": episode, **({"session_id": session} if session else {})}
            session = self.post(connection, "/reset", reset)["session_id"]
            code = f"def f(x):\n    return x + {k}  # client {self.number} episode {episode}\n"
            started = time.perf_counter()
            self.post(connection, "/step", {"session_id": session, "action": {"code": code}})
            self.latencies.append(time.perf_counter() - started)
        connection.close()


def play(port: int, clients: int, episodes: int) -> tuple[float, list[float], int]:
    threads = [Client(port, number, episodes // clients, 20) for number in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return elapsed, sorted(x for t in threads for x in t.latencies), sum(t.errors for t in threads)


def bench_server(args: argparse.Namespace, tmp: Path) -> None:
    tasks = tmp / "trivial.jsonl"
    trivial_tasks(tasks)
    process, port = start_server(tasks, args.workers)
    try:
        play(port, args.clients, 20 * args.clients)  # warm-up: every task's reference timed once
        elapsed, latencies, errors = play(port, args.clients, args.episodes)
        p50, p99 = statistics.median(latencies), latencies[int(0.99 * (len(latencies) - 1))]
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


def _run(args: argparse.Namespace) -> int:
    if args.clients < 1 or args.episodes < args.clients or args.memory_episodes < 0:
        raise ValueError("--clients must be >= 1, --episodes >= --clients, --memory-episodes >= 0")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_loop:
            if args.tasks:
                bench_loop(args, Path(tmp))
            else:
                print("loop: skipped (no --tasks)")
        if not args.skip_server:
            bench_server(args, Path(tmp))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
