"""The smoke trainers' loop: sample -> execute -> score -> advantages -> update -> log, per step.

Read it top to bottom as the story of a run (`train`). Everything random derives from the
config's seed and the step: which train tasks a step practises (`codeself.training.sampler`:
the uniform `step_tasks` draw, or the learnability sampler's draw from its store), each sample
(through the policy backend's per-sample seeds), the validation draws (the same seed at every
checkpoint, so checkpoints are compared on common random numbers). Nothing depends on wall
time except the fields under `timing`, so a rerun with the same config writes the same bytes
elsewhere, and `--resume` from the last checkpoint continues exactly where an uninterrupted run
would have been.

Output directory (docs/schemas.md, "Training runs"):
    config.json            the resolved config and its hash
    metrics.jsonl          one record per step (TRL's metric names + the scaffold's own)
    rollouts.jsonl         every practice sample: run_rollouts' record shape plus `step`
    validation.jsonl       every validation sample at each checkpoint, plus `step`
    checkpoints/step_N.json  policy (and critic) parameters; step 0 is the untrained policy
    best_checkpoint.json   the checkpoint with the highest validation pass rate
    task_sampler.json      the per-task store of the task sampler after the last step
    summary.md             a short human-readable account of the run
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from codeself.agents.backends.base import derive_seed
from codeself.agents.backends.policy import PolicyBackend
from codeself.parsing import USABLE_PARSE_STATUSES
from codeself.agents.pipeline import RolloutRun, produce_rollouts
from codeself.agents.templates import config_hash as rollout_config_hash, load_template
from codeself.progress import Progress
from codeself.datasets.task import Task, load_tasks
from codeself.execution.errors import error_category_counts
from codeself.jsonl import dumps_record, iter_jsonl, sha256_file, write_json, write_jsonl, write_text
from codeself.training import algorithms as alg
from codeself.training.config import RunConfig, config_from_json
from codeself.training.policy import Sample, SoftmaxPolicy
from codeself.training.sampler import make_sampler, rollout_outcomes
from codeself.training.updates import Completion, Critic, update

RUN_FILES = ("config.json", "metrics.jsonl", "rollouts.jsonl", "validation.jsonl", "best_checkpoint.json",
             "summary.md", "task_sampler.json")


@dataclass
class RunState:
    """What a checkpoint must carry besides parameters for a resumed run to continue exactly."""

    step: int = 0
    samples: int = 0
    ever_informative: set[str] = field(default_factory=set)
    best: dict[str, Any] | None = None  # {"step", "path", "validation/pass_rate"}

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "samples": self.samples, "ever_informative": sorted(self.ever_informative),
                "best": self.best}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> "RunState":
        return cls(int(document["step"]), int(document["samples"]), set(document["ever_informative"]),
                   document.get("best"))


def load_splits(config: RunConfig) -> tuple[list[Task], list[Task]]:
    tasks = list(load_tasks(config.tasks))
    train = [t for t in tasks if t.split == config.train_split]
    validation = [t for t in tasks if t.split == config.validation_split]
    if not train:
        raise ValueError(f"{config.tasks}: no tasks in split {config.train_split!r}: nothing to practise on")
    if config.prompts_per_step > len(train):
        raise ValueError(f"prompts_per_step ({config.prompts_per_step}) exceeds the {len(train)} train task(s)")
    missing = [t.task_id for t in train + validation if not t.reference_solution]
    if missing:
        raise ValueError(f"the smoke policy renders reference solutions; task {missing[0]} has none")
    return train, validation


class Trainer:
    """One smoke run: owns the policy, its critic, the sandbox and the output files."""

    def __init__(self, config: RunConfig, output_dir: str | os.PathLike, *, resume: bool = False,
                 overwrite: bool = False, quiet: bool = False, stream: TextIO | None = None,
                 calibration_cache: str = "", placement: dict[str, str] | None = None) -> None:
        if not config.is_mock:
            raise ValueError(f"the smoke trainers practise the stdlib policy (model = \"mock\"), got "
                             f"model = {config.model!r}; train real models with scripts/train_grpo.py")
        if resume and overwrite:
            raise ValueError("--resume and --overwrite contradict each other; choose one")
        self.config, self.out = config, Path(output_dir)
        self.quiet, self.stream = quiet, stream
        self.calibration_cache = calibration_cache  # speed only: reference timings kept across runs
        self.placement = placement or {}  # ExecutionConfig executor / ray_address: where programs run, not what they do
        self.train_tasks, self.validation_tasks = load_splits(config)
        self.template = load_template(config.template or "chat_default")
        from codeself.rewards import load_reward_config

        self.reward_config = load_reward_config(config.reward_config_path())
        self.reference = SoftmaxPolicy.initial(seed=config.seed, correct_fraction=config.mock_init_correct_fraction,
                                               temperature=config.temperature)
        self.policy, self.critic = self.reference.copy(), Critic() if config.algorithm == "ppo" else None
        self.state = RunState()
        self.sampler = make_sampler(config.task_sampler, self.train_tasks, config.seed, config.sampler_config())
        self._prepare_output(resume, overwrite)

    # -- the run ---------------------------------------------------------------------------
    def train(self) -> dict[str, Any]:
        from codeself.execution.engine import ExecutionConfig, open_executor

        config = self.config
        started = time.monotonic()
        execution = ExecutionConfig(workers=config.workers, sandbox=config.sandbox,
                                    timeout_floor_s=config.timeout_floor_s,
                                    calibration_cache=self.calibration_cache, **self.placement)
        with open_executor(execution) as executor, \
                Progress("steps", config.max_steps - self.state.step, quiet=self.quiet, stream=self.stream) as progress:
            if not self._resumed:  # the untrained policy: checkpoint 0 and its validation pass rate
                self._checkpoint(executor, validate=bool(self.validation_tasks))
            for step in range(self.state.step + 1, config.max_steps + 1):
                record = self._step(step, executor)
                if step % config.save_every == 0 or step == config.max_steps:
                    record.update(self._checkpoint(executor, validate=bool(self.validation_tasks), step=step))
                record["timing"] = {**record.pop("timing"),  # last, after any validation metrics
                                    "elapsed_s": round(self._elapsed_before + time.monotonic() - started, 6)}
                self._append("metrics.jsonl", [record])
                if step % config.save_every == 0 or step == config.max_steps:
                    self._save_checkpoint_file(step)
                progress.update()
        write_text(self.out / "summary.md", render_summary(self.out, config))
        return {"steps": self.state.step, "samples": self.state.samples, "best": self.state.best,
                "output_dir": str(self.out)}

    def _step(self, step: int, executor: Any) -> dict[str, Any]:
        config = self.config
        tasks = self.sampler.choose(step, config.prompts_per_step)
        sampled_p_hat = self.sampler.store.histogram(task.task_id for task in tasks)  # before this step's groups
        started = time.monotonic()
        rollouts, batch, turn_metrics = self._practise(tasks, derive_seed(config.seed, "step", step), executor)
        sampled = time.monotonic()
        entropies = [e for c in batch for e in self.policy.token_entropies(c.task_id)]
        algorithm_metrics = update(self.policy, batch, config, self.critic)
        updated = time.monotonic()
        generation_s = sum(r["timing"]["generation_s"] for r in rollouts)
        for rollout in rollouts:
            rollout["step"] = step
        self._append("rollouts.jsonl", rollouts)
        self.sampler.store.observe(step, rollout_outcomes(rollouts))
        write_json(self.out / "task_sampler.json", self.sampler.store.to_json())
        self.state.step, self.state.samples = step, self.state.samples + len(rollouts)
        record = {"step": step, "algorithm": config.algorithm, "samples": self.state.samples,
                  "num_samples": len(rollouts), "learning_rate": config.learning_rate,
                  **self._reward_metrics(rollouts, config.samples_per_prompt), "entropy": alg.mean(entropies),
                  **algorithm_metrics, **turn_metrics,
                  "task_sampler": config.task_sampler, "sampled_p_hat": sampled_p_hat}
        record["timing"] = {"generation_s": round(generation_s, 6),
                            "execution_s": round(max(0.0, sampled - started - generation_s), 6),
                            "update_s": round(updated - sampled, 6), "step_s": round(updated - started, 6)}
        return record

    def _practise(self, tasks: Sequence[Task], seed: int, executor: Any) -> tuple[list, list[Completion], dict]:
        """A step's samples, executed and scored, with the update's batch (and per-turn metrics of
        multi-turn episodes, `max_revisions` > 0: codeself.training.multiturn)."""
        if self.config.max_revisions:
            from codeself.training.multiturn import practise_episodes

            return practise_episodes(self, tasks, self.config.samples_per_prompt, seed, executor)
        rollouts = self._sample(tasks, self.config.samples_per_prompt, seed, executor)
        batch = [Completion(r["task_id"], _sample_of(r), float(r["reward"]["reward"]),
                            self.policy.token_logprobs(r["task_id"], _sample_of(r)),
                            self.reference.token_logprobs(r["task_id"], _sample_of(r))) for r in rollouts]
        return rollouts, batch, {}

    def _sample(self, tasks: Sequence[Task], samples: int, seed: int, executor: Any) -> list[dict[str, Any]]:
        """The policy's own samples of `tasks`, executed and scored: rollout records."""
        from codeself.rewards import score_sample

        def score(task: Task, code: str | None, status: str, execution: Any) -> dict[str, Any]:
            return score_sample(task, code, status, execution, config=self.reward_config).to_json()

        backend = PolicyBackend(self.policy.copy())
        run = RolloutRun(backend, self.template, self._rollout_hash, seed, samples)
        return [r.to_json() for r in produce_rollouts(run, tasks, executor, score)]

    def _reward_metrics(self, rollouts: list[dict[str, Any]], group: int) -> dict[str, Any]:
        rewards = [float(r["reward"]["reward"]) for r in rollouts]
        informative = sorted({rollouts[i]["task_id"] for i in range(0, len(rollouts), group)
                              if len(set(rewards[i:i + group])) > 1})
        self.state.ever_informative.update(informative)
        zero_std = sum(1 for i in range(0, len(rewards), group) if len(set(rewards[i:i + group])) == 1)
        statuses = Counter(r["execution"]["status"] for r in rollouts)
        return {"reward": alg.mean(rewards), "reward_std": alg.unbiased_std(rewards),
                "frac_reward_zero_std": zero_std / (len(rewards) // group),
                "completions/mean_length": alg.mean([len(r["completion"].split()) for r in rollouts]),
                "pass_rate": alg.mean([1.0 if r["execution"]["passed"] else 0.0 for r in rollouts]),
                "parse_failure_rate": alg.mean([0.0 if r["parse_status"] in USABLE_PARSE_STATUSES else 1.0
                                                for r in rollouts]),
                "status_counts": dict(sorted(statuses.items())), "error_categories": error_category_counts(rollouts),
                "informative/tasks": informative, "informative/frac_tasks": len(informative) / (len(rewards) // group),
                "informative/never_count": len(self.train_tasks) - len(self.state.ever_informative)}

    # -- checkpoints and validation -------------------------------------------------------
    def _checkpoint(self, executor: Any, *, validate: bool, step: int = 0) -> dict[str, Any]:
        """Validate the current policy (selection uses validation only) and track the best."""
        metrics: dict[str, Any] = {}
        if validate:
            seed = derive_seed(self.config.seed, "validation")
            rollouts = self._sample(self.validation_tasks, self.config.validation_samples, seed, executor)
            for rollout in rollouts:
                rollout["step"] = step
            self._append("validation.jsonl", rollouts)
            pass_rate = alg.mean([1.0 if r["execution"]["passed"] else 0.0 for r in rollouts])
            metrics = {"validation/pass_rate": pass_rate,
                       "validation/reward": alg.mean([float(r["reward"]["reward"]) for r in rollouts])}
            best = self.state.best
            if best is None or pass_rate > best["validation/pass_rate"]:
                self.state.best = {"step": step, "path": f"checkpoints/{_checkpoint_name(step)}",
                                   "validation/pass_rate": pass_rate}
        if step == 0:
            self._save_checkpoint_file(0)
        return metrics

    def _save_checkpoint_file(self, step: int) -> None:
        document = {"config_hash": self.config.config_hash(), "algorithm": self.config.algorithm,
                    "policy": self.policy.to_json(),
                    "critic": self.critic.to_json() if self.critic is not None else None,
                    "state": self.state.to_json()}
        write_json(self.out / "checkpoints" / _checkpoint_name(step), document)
        if self.state.best is not None:
            write_json(self.out / "best_checkpoint.json", self.state.best)

    # -- output directory -----------------------------------------------------------------
    @property
    def _rollout_hash(self) -> str:
        return rollout_config_hash(self.template, {"backend": "policy", "trainer": self.config.to_json()})

    def _prepare_output(self, resume: bool, overwrite: bool) -> None:
        config_path = self.out / "config.json"
        self._elapsed_before, self._resumed = 0.0, False
        document = {"algorithm": self.config.algorithm, "config": self.config.to_json(),
                    "config_hash": self.config.config_hash(), "tasks_sha256": sha256_file(self.config.tasks)}
        existing = config_path.exists() or (self.out / "metrics.jsonl").exists()
        if resume and existing:
            self._resume(config_path, document)
            return
        if existing and not overwrite:
            raise ValueError(f"{self.out} already holds a training run; use --resume to continue it "
                             "or --overwrite to replace it")
        (self.out / "checkpoints").mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            (self.out / name).unlink(missing_ok=True)
        for old in (self.out / "checkpoints").glob("step_*.json"):
            old.unlink()
        write_json(config_path, document)

    def _resume(self, config_path: Path, document: dict[str, Any]) -> None:
        try:
            previous = json.loads(config_path.read_text(encoding="utf-8"))
            config_from_json(previous["config"], where=str(config_path))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{config_path}: cannot resume: not a training run's config ({error})") from None
        if previous.get("config_hash") != document["config_hash"]:
            raise ValueError(f"{self.out}: its checkpoints come from another config (hash "
                             f"{previous.get('config_hash')}, this one {document['config_hash']}); "
                             "resume with the same config or choose another --output-dir")
        checkpoints = sorted((self.out / "checkpoints").glob("step_*.json"))
        if not checkpoints:
            raise ValueError(f"{self.out}: no checkpoint to resume from; rerun with --overwrite")
        self.load_checkpoint(checkpoints[-1])
        self._resumed = True
        for name in ("metrics.jsonl", "rollouts.jsonl", "validation.jsonl"):
            kept = [r for r in iter_jsonl(self.out / name) if r["step"] <= self.state.step] \
                if (self.out / name).exists() else []
            if name == "metrics.jsonl" and kept:
                self._elapsed_before = kept[-1]["timing"].get("elapsed_s", 0.0)
            write_jsonl(self.out / name, kept)
        self.sampler.store.replay(iter_jsonl(self.out / "rollouts.jsonl"))  # the store as it was at that step
        write_json(self.out / "task_sampler.json", self.sampler.store.to_json())

    def load_checkpoint(self, path: Path) -> None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"{path}: cannot read checkpoint: {error}") from None
        if document.get("config_hash") != self.config.config_hash():
            raise ValueError(f"{path}: checkpoint from another config (hash {document.get('config_hash')}, "
                             f"this run {self.config.config_hash()})")
        self.policy = SoftmaxPolicy.from_json(document["policy"], where=str(path))
        self.critic = Critic(document["critic"]) if self.config.algorithm == "ppo" else None
        self.state = RunState.from_json(document["state"])

    def _append(self, name: str, records: list[dict[str, Any]]) -> None:
        with open(self.out / name, "a", encoding="utf-8") as handle:
            handle.writelines(dumps_record(record) + "\n" for record in records)


def _checkpoint_name(step: int) -> str:
    return f"step_{step:06d}.json"


def _sample_of(rollout: dict[str, Any]) -> Sample:
    return Sample.from_names(rollout["metadata"]["policy_plan"], rollout["metadata"]["policy_form"])


def render_summary(out: Path, config: RunConfig) -> str:
    records = list(iter_jsonl(out / "metrics.jsonl"))
    best = json.loads((out / "best_checkpoint.json").read_text()) if (out / "best_checkpoint.json").exists() else None
    first, last = records[0], records[-1]
    lines = [f"# Smoke {config.algorithm.upper()} run", "",
             f"config hash `{config.config_hash()}`, seed {config.seed}, {len(records)} step(s), "
             f"{last['samples']} samples, tasks `{config.tasks}`", "",
             "| step | reward | pass rate | kl | entropy | clip region | informative | validation pass rate |",
             "|---|---|---|---|---|---|---|---|"]
    for record in records:
        validation = record.get("validation/pass_rate")
        lines.append(f"| {record['step']} | {record['reward']:.3f} | {record['pass_rate']:.3f} | {record['kl']:.4f} "
                     f"| {record['entropy']:.3f} | {record['clip_ratio/region_mean']:.3f} "
                     f"| {record['informative/frac_tasks']:.2f} | {'' if validation is None else f'{validation:.3f}'} |")
    lines += ["", f"Reward {first['reward']:.3f} → {last['reward']:.3f}; pass rate {first['pass_rate']:.3f} → "
              f"{last['pass_rate']:.3f}."]
    validation = [r for r in iter_jsonl(out / "validation.jsonl")] if (out / "validation.jsonl").exists() else []
    at_start = [r["execution"]["passed"] for r in validation if r["step"] == 0]
    if at_start:
        lines.append(f"Validation pass rate of the untrained policy (step 0): {sum(at_start) / len(at_start):.3f}.")
    if best is not None:
        lines.append(f"Selected on validation: `{best['path']}` (step {best['step']}, validation pass rate "
                     f"{best['validation/pass_rate']:.3f}); the untrained policy is `checkpoints/step_000000.json`.")
    lines += ["", "Wall time (machine-dependent, excluded from reproducibility hashes): "
              f"{sum(r['timing']['step_s'] for r in records):.2f} s in steps "
              f"(generation {sum(r['timing']['generation_s'] for r in records):.2f} s, execution "
              f"{sum(r['timing']['execution_s'] for r in records):.2f} s, update "
              f"{sum(r['timing']['update_s'] for r in records):.2f} s).", ""]
    return "\n".join(lines)

