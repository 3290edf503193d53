#!/usr/bin/env python3
"""Benchmarks of the training stack: the smoke trainers, batched hf evaluation, a real run's time split.

    python3 scripts/bench_training.py                        # --smoke (the default section)
    python3 scripts/bench_training.py --smoke --mbpp data/processed/mbpp.codeself.jsonl
    python scripts/bench_training.py --hf-eval --tasks data/processed/mbpp.codeself.jsonl --limit 16 --samples 4
    python scripts/bench_training.py --real-metrics outputs/train/grpo

--smoke (standard library only) times the issue's three example commands (target: under 5 s
each), the policy math of GRPO with group size 8 on MBPP-sized batches without execution
(target: >= 20 steps/s), and, with --mbpp, a short GRPO smoke run on MBPP's train split with the
share of step time spent in the sandbox.
--hf-eval (needs the training extra) samples N tasks x S samples with the batched `hf` backend,
prints tokens/s, samples/s, wall time and the projected time for 100 tasks x 4 samples (target:
under 10 minutes). --real-metrics reads a real run's metrics.jsonl and prints seconds per step
split into generation / reward / update, the reward share of step time (target < 5%) and the
peak memory. One function per section; sections run in the order given.
"""

import argparse
import statistics
import sys
import time

import _bootstrap  # noqa: F401

from codeself.cli import run_main

PROG = "bench_training.py"
TARGET_TASKS, TARGET_SAMPLES, TARGET_S = 100, 4, 600.0  # 100 tasks x 4 samples in under 10 minutes
REWARD_SHARE_TARGET = 0.05


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--hf-eval", action="store_true", help="time the batched hf backend (needs --tasks)")
    parser.add_argument("--tasks", help="--hf-eval: canonical task JSONL to sample from")
    parser.add_argument("--split", help="--hf-eval: only tasks of this split")
    parser.add_argument("--limit", type=int, default=16, help="--hf-eval: number of tasks N (default 16)")
    parser.add_argument("--samples", type=int, default=4, help="--hf-eval: samples per task S (default 4)")
    parser.add_argument("--model", help="--hf-eval: model directory or .gguf (default: the prepared default model)")
    parser.add_argument("--max-tokens", type=int, default=256, help="--hf-eval: tokens per sample at most (default 256)")
    parser.add_argument("--temperature", type=float, default=0.8, help="--hf-eval: sampling temperature (default 0.8)")
    parser.add_argument("--template", default="chat_default", help="--hf-eval: prompt template (default chat_default)")
    parser.add_argument("--real-metrics", metavar="DIR", help="summarise the timing of a real run's metrics.jsonl")
    parser.add_argument("--smoke", action="store_true",
                        help="time the stdlib smoke trainers (the default when no section is chosen)")
    parser.add_argument("--mbpp", help="--smoke: canonical MBPP file; adds a GRPO run on its train split")
    parser.add_argument("--smoke-steps", type=int, default=10, help="--smoke: steps of the MBPP run (default 10)")
    return parser


def bench_hf_eval(args: argparse.Namespace) -> None:
    """Batched hf generation over N tasks x S samples; prints throughput and the 100 x 4 projection."""
    if not args.tasks:
        raise ValueError("--hf-eval needs --tasks FILE (a canonical task file with enough distinct tasks)")
    from codeself.agents.backends.base import GenerationRequest
    from codeself.agents.backends.hf import HFBackend
    from codeself.agents.templates import load_template, render_prompt
    from codeself.datasets.task import load_tasks
    from codeself.training.model_prep import prepare_default_model

    tasks = [t for t in load_tasks(args.tasks) if args.split is None or t.split == args.split][:args.limit]
    if not tasks:
        raise ValueError(f"{args.tasks}: no tasks selected")
    template = load_template(args.template)
    backend = HFBackend(args.model or str(prepare_default_model()), temperature=args.temperature,
                        max_tokens=args.max_tokens)
    started = time.monotonic()
    samples = tokens = 0
    for start in range(0, len(tasks), backend.tasks_per_batch):
        requests = [GenerationRequest(t.public_view(), render_prompt(template, t.public_view()),
                                      tuple(range(args.samples)), 0, template.stop)
                    for t in tasks[start:start + backend.tasks_per_batch]]
        for generations in backend.generate(requests):
            samples += len(generations)
            tokens += sum(g.metadata.get("completion_tokens", 0) for g in generations)
    wall = time.monotonic() - started
    projected = wall / samples * TARGET_TASKS * TARGET_SAMPLES
    print(f"hf eval: {len(tasks)} tasks x {args.samples} samples, max {args.max_tokens} tokens, "
          f"batch rows {backend.max_batch_rows}")
    print(f"  wall {wall:.1f} s; {tokens / wall:.1f} tokens/s; {samples / wall:.3f} samples/s; "
          f"{tokens / samples:.1f} tokens/sample")
    print(f"  projected {TARGET_TASKS} x {TARGET_SAMPLES}: {projected / 60:.1f} min "
          f"({'within' if projected <= TARGET_S else 'over'} the {TARGET_S / 60:.0f}-minute target)")


def bench_real_metrics(args: argparse.Namespace) -> None:
    """Seconds per step split into generation / reward / update, from a real run's metrics.jsonl."""
    from pathlib import Path

    from codeself.jsonl import iter_jsonl

    path = Path(args.real_metrics) / "metrics.jsonl"
    records = [r for r in iter_jsonl(path) if "timing" in r]
    if not records:
        raise ValueError(f"{path}: no step records")
    parts = ("generation_s", "reward_s", "update_s", "step_s")
    means = {part: statistics.fmean(r["timing"].get(part) or 0.0 for r in records) for part in parts}
    share = means["reward_s"] / means["step_s"] if means["step_s"] else 0.0
    validation = [r["timing"]["validation_s"] for r in records if r["timing"].get("validation_s")]
    peak = max((r.get("memory", {}).get("peak_rss_mb") or 0.0) for r in records)
    print(f"real run {path.parent}: {len(records)} steps")
    print("  per step (mean s): " + ", ".join(f"{p[:-2]} {means[p]:.2f}" for p in parts))
    print(f"  reward share of step time: {share:.1%} (target < {REWARD_SHARE_TARGET:.0%}: "
          f"{'ok' if share < REWARD_SHARE_TARGET else 'over'})")
    if validation:
        print(f"  validation+checkpoint: {len(validation)} x {statistics.fmean(validation):.1f} s")
    print(f"  peak RSS: {peak:.0f} MB")


def bench_smoke(args: argparse.Namespace) -> None:
    """The smoke trainers: the example commands, pure policy math, and (with --mbpp) a run's time split."""
    import random
    import subprocess
    import tempfile
    from pathlib import Path

    from codeself.training.config import GRPOConfig
    from codeself.training.policy import SoftmaxPolicy
    from codeself.training.updates import Completion, update

    root = Path(__file__).resolve().parent
    example = root.parent / "configs" / "datasets" / "tasks.example.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        for algorithm, size in (("grpo", "--group-size"), ("ppo", "--samples-per-task"), ("rloo", "--group-size")):
            command = [sys.executable, str(root / f"train_{algorithm}_smoke.py"), "--tasks", str(example),
                       "--output-dir", str(Path(tmp, algorithm)), "--backend", "mock", size, "4",
                       "--max-steps", "3", "--quiet"]
            started = time.monotonic()
            subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            wall = time.monotonic() - started
            print(f"smoke {algorithm} example command: {wall:.2f} s (target < 5 s: {'ok' if wall < 5 else 'over'})")

    # policy math alone: 8 prompts x G 8 per step, sampled, scored with seeded fake rewards, updated
    config = GRPOConfig(model="mock", num_generations=8, prompts_per_step=8, num_iterations=2, beta=0.04,
                        learning_rate=1.0)
    policy = SoftmaxPolicy.initial(seed=0, correct_fraction=0.3)
    reference, rng, steps = policy.copy(), random.Random(0), 200
    started = time.monotonic()
    for step in range(steps):
        batch = []
        for prompt in range(config.prompts_per_step):
            task_id = f"mbpp/{(step * 8 + prompt) % 374}"
            for _ in range(config.num_generations):
                sample = policy.sample(task_id, rng)
                batch.append(Completion(task_id, sample, float(sample.plan == "correct"),
                                        policy.token_logprobs(task_id, sample), reference.token_logprobs(task_id, sample)))
        update(policy, batch, config, None)
    rate = steps / (time.monotonic() - started)
    print(f"GRPO policy math, 8 prompts x G 8, 2 iterations, no execution: {rate:.0f} steps/s "
          f"(target >= 20: {'ok' if rate >= 20 else 'under'})")

    if args.mbpp:
        from codeself.jsonl import iter_jsonl
        from codeself.training.smoke import Trainer

        config = GRPOConfig(model="mock", tasks=args.mbpp, num_generations=8, prompts_per_step=8,
                            max_steps=args.smoke_steps, save_every=args.smoke_steps, learning_rate=2.0)
        with tempfile.TemporaryDirectory() as tmp:
            Trainer(config, tmp, quiet=True).train()
            records = list(iter_jsonl(Path(tmp, "metrics.jsonl")))
        total = {part: sum(r["timing"][part] for r in records) for part in
                 ("generation_s", "execution_s", "update_s", "step_s")}
        print(f"GRPO smoke on MBPP train, {len(records)} steps x 64 samples: {total['step_s'] / len(records):.2f} s/step; "
              f"execution {total['execution_s'] / total['step_s']:.0%} of step time, generation (incl. mutant "
              f"screening in the sandbox) {total['generation_s'] / total['step_s']:.0%}, update "
              f"{total['update_s'] / total['step_s']:.1%}; policy math {len(records) / total['update_s']:.0f} updates/s")


SECTIONS = (("smoke", bench_smoke), ("hf_eval", bench_hf_eval), ("real_metrics", bench_real_metrics))


def _run(args: argparse.Namespace) -> int:
    chosen = [function for name, function in SECTIONS if getattr(args, name)]
    if not chosen:
        chosen = [bench_smoke]
    for function in chosen:
        function(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
