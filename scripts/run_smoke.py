"""The whole CodeSelf pipeline, end to end, on the bundled example tasks, in seconds.

Runs each stage's script exactly as a researcher would from the shell, so a green smoke run
means the CLI contract works, not just the library:

    prepare -> validate -> practise (GRPO and PPO on the smoke policy, train split only)
            -> rollouts of the untrained policy on the locked test split -> evaluate
            -> rollouts of each practised policy (its checkpoint selected on validation)
            -> compare_final (practised vs untrained, paired, on the test split)
            -> compare_training_smoke (GRPO vs PPO) -> manifest

Everything goes under --output-dir (default outputs/smoke); the report paths are printed.
"""

import _bootstrap  # noqa: F401

import argparse
import subprocess
import sys
from pathlib import Path

from codeself.cli import run_main

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = REPO_ROOT / "scripts"
EXAMPLE_TASKS = REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=str(EXAMPLE_TASKS),
                        help="canonical tasks JSONL to run on (default: the bundled example tasks)")
    parser.add_argument("--output-dir", default=str(REPO_ROOT / "outputs" / "smoke"),
                        help="where every output of the run goes (default: outputs/smoke)")
    parser.add_argument("--samples-per-task", type=int, default=4, help="mock samples per task (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--workers", type=int, default=2, help="sandbox workers (default 2)")
    parser.add_argument("--timeout-floor-s", type=float, default=0.25,
                        help="least per-test limit scaled from a reference's time, for every stage that runs "
                             "programs (default 0.25: the example references take milliseconds, and the smoke "
                             "policy writes endless loops on purpose, each of which runs until this limit; a "
                             "timeout is re-run once under re-measured limits before it counts)")
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    return parser


def stage(name: str, script: str, *args: str, quiet: bool) -> None:
    """Run one pipeline stage; stop the run with the stage's own error line if it fails.

    With `quiet`, the stage's stdout (summaries) and progress lines are dropped; its errors
    on stderr still show.
    """
    command = [sys.executable, str(SCRIPTS / script), *args]
    if not quiet:
        print(f"== {name}: {script} {' '.join(args)}", file=sys.stderr)
    elif script != "validate_task_schema.py":  # validate prints one summary line only
        command.append("--quiet")
    completed = subprocess.run(command, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL if quiet else None)
    if completed.returncode != 0:
        raise ValueError(f"stage '{name}' failed with exit code {completed.returncode} (its error is above)")


def smoke(args: argparse.Namespace) -> int:
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = out / "tasks.jsonl"
    floor = ["--timeout-floor-s", str(args.timeout_floor_s)]
    common = ["--samples-per-task", str(args.samples_per_task), "--seed", str(args.seed),
              "--workers", str(args.workers), *floor]
    q = args.quiet

    stage("prepare", "prepare_datasets.py", "--format", "canonical", "--input", args.tasks,
          "--output", str(tasks), "--manifest", str(out / "splits.manifest.json"), quiet=q)
    stage("validate", "validate_task_schema.py", str(tasks), quiet=q)
    for algorithm in ("grpo", "ppo"):
        stage(f"practise ({algorithm})", f"train_{algorithm}_smoke.py", "--tasks", str(tasks),
              "--output-dir", str(out / f"{algorithm}_run"), "--seed", str(args.seed), "--workers",
              str(args.workers), *floor, "--overwrite", quiet=q)
    evaluations = {}
    for name, checkpoint in (("untrained", out / "grpo_run" / "checkpoints" / "step_000000.json"),
                             ("grpo", _selected(out / "grpo_run")), ("ppo", _selected(out / "ppo_run"))):
        evaluations[name] = out / f"rollouts.{name}.jsonl"
        stage(f"rollouts ({name} policy, test split)", "run_rollouts.py", "--tasks", str(tasks),
              "--split", "test", "--output", str(evaluations[name]), "--backend", "policy",
              "--model", str(checkpoint), "--temperature", "1", "--overwrite", *common, quiet=q)
    stage("evaluate", "evaluate_rollouts.py", "--rollouts", str(evaluations["untrained"]),
          "--output", str(out / "report.md"), "--json-output", str(out / "metrics.json"),
          "--power-output", str(out / "power.json"), "--seed", str(args.seed), quiet=q)
    stage("compare", "compare_final.py", "--baseline", str(evaluations["untrained"]),
          "--candidate", str(evaluations["grpo"]), "--split", "test", "--output", str(out / "comparison.md"),
          "--json-output", str(out / "comparison.json"), "--seed", str(args.seed), quiet=q)
    stage("compare training", "compare_training_smoke.py",
          "--grpo-metrics", str(out / "grpo_run" / "metrics.jsonl"),
          "--ppo-metrics", str(out / "ppo_run" / "metrics.jsonl"),
          "--baseline-eval", str(evaluations["untrained"]), "--grpo-eval", str(evaluations["grpo"]),
          "--ppo-eval", str(evaluations["ppo"]), "--output", str(out / "ppo_vs_grpo_report.md"),
          "--seed", str(args.seed), quiet=q)
    stage("manifest", "make_reproducibility_manifest.py", "--output", str(out / "manifest.json"),
          "--markdown-output", str(out / "manifest.md"), "--include", str(out / "splits.manifest.json"),
          *(str(path) for path in evaluations.values()), str(out / "grpo_run" / "metrics.jsonl"),
          str(out / "ppo_run" / "metrics.jsonl"), str(out / "metrics.json"), str(out / "comparison.json"),
          quiet=q)

    print(f"evaluation report: {out / 'report.md'}")
    print(f"comparison report: {out / 'comparison.md'}")
    print(f"training report: {out / 'ppo_vs_grpo_report.md'}")
    print(f"reproducibility manifest: {out / 'manifest.md'}")
    return 0


def _selected(run: Path) -> Path:
    """The checkpoint the run selected on its validation split."""
    import json

    return run / json.loads((run / "best_checkpoint.json").read_text(encoding="utf-8"))["path"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: smoke(args), "run_smoke.py")


if __name__ == "__main__":
    raise SystemExit(main())
