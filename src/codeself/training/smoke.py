"""The smoke trainers' loop: sample -> execute -> score -> advantages -> update -> log, per step.

Read it top to bottom as the story of a run (`train`). Everything random derives from the
config's seed and the step: which train tasks a step practises (`codeself.training.sampler`:
the uniform `step_tasks` draw, or the learnability sampler's draw from its store), each sample
(through the policy backend's per-sample seeds), the validation draws (the same seed at every
checkpoint, so checkpoints are compared on common random numbers). Nothing depends on wall
time except the fields under `timing`, so a rerun with the same config writes the same bytes
elsewhere, and `--resume` from the last checkpoint continues exactly where an uninterrupted run
would have been.

Output directory (docs/schemas.md, "Training runs"; managed by `run_dir.RunDirectory`, as the
TRL trainer's is):
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
from codeself.jsonl import iter_jsonl, write_json, write_text
from codeself.training import algorithms as alg
from codeself.training.config import RunConfig
from codeself.training.policy import Sample, SoftmaxPolicy
from codeself.training.run_dir import InformativeTally, RunDirectory, best_checkpoint, checkpoint_name, config_document
from codeself.training.sampler import make_sampler, rollout_outcomes
from codeself.training.updates import Completion, Critic, update

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
        self.config, self.out = config, Path(output_dir)
        self.quiet, self.stream = quiet, stream
        self.calibration_cache = calibration_cache  # speed only: reference timings kept across runs
        self.placement = placement or {}  # ExecutionConfig executor / ray_address: where programs run, not what they do
        self.train_tasks, self.validation_tasks = load_splits(config)
        self.template = load_template(config.template or "chat_default")
        from codeself.rewards import get_reward, load_reward_config

        # the scoring function `reward` names, with the components and weights of `reward_config`
        self.score_sample, self.reward_config = get_reward(config.reward), load_reward_config(config.reward_config_path())
        self.reference = SoftmaxPolicy.initial(seed=config.seed, correct_fraction=config.mock_init_correct_fraction,
                                               temperature=config.temperature)
        self.policy, self.critic = self.reference.copy(), Critic() if config.algorithm == "ppo" else None
        self.sampler = make_sampler(config.task_sampler, self.train_tasks, config.seed, config.sampler_config())
        self._set_state(RunState())
        self.run_dir = RunDirectory(self.out, config.config_hash())
        self._prepare_output(resume, overwrite)

    # -- the run ---------------------------------------------------------------------------
    def train(self) -> dict[str, Any]:
        from codeself.execution.engine import ExecutionConfig, open_executor

        config = self.config
        started, resumed_at_step = time.monotonic(), self.state.step
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
                self.run_dir.append("metrics.jsonl", [record])
                if step % config.save_every == 0 or step == config.max_steps:
                    self._save_checkpoint_file(step)
                progress.update()
        write_text(self.out / "summary.md", render_summary(self.out, config))
        return {"steps": self.state.step, "samples": self.state.samples, "best": self.state.best,
                "output_dir": str(self.out),
                "resumed_at_step": resumed_at_step if self._resumed else None}  # the steps this call did not run

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
        self.run_dir.append("rollouts.jsonl", rollouts)
        self.sampler.store.observe(step, rollout_outcomes(rollouts))
        write_json(self.out / "task_sampler.json", self.sampler.store.to_json())
        self.state.step, self.state.samples = step, self.state.samples + len(rollouts)
        record = {"step": step, "algorithm": config.algorithm, "samples": self.state.samples,
                  "num_samples": len(rollouts), "learning_rate": config.learning_rate,
                  **self._reward_metrics(rollouts), "entropy": alg.mean(entropies),
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
        def score(task: Task, code: str | None, status: str, execution: Any) -> dict[str, Any]:
            return self.score_sample(task, code, status, execution, config=self.reward_config).to_json()

        backend = PolicyBackend(self.policy.copy())
        run = RolloutRun(backend, self.template, self._rollout_hash, seed, samples)
        return [r.to_json() for r in produce_rollouts(run, tasks, executor, score)]

    def _reward_metrics(self, rollouts: list[dict[str, Any]]) -> dict[str, Any]:
        rewards = [float(r["reward"]["reward"]) for r in rollouts]
        informative = self.informative.step([r["task_id"] for r in rollouts], rewards)
        statuses = Counter(r["execution"]["status"] for r in rollouts)
        return {"reward": alg.mean(rewards), "reward_std": alg.unbiased_std(rewards),
                "frac_reward_zero_std": informative.pop("frac_reward_zero_std"),
                "completions/mean_length": alg.mean([len(r["completion"].split()) for r in rollouts]),
                "pass_rate": alg.mean([1.0 if r["execution"]["passed"] else 0.0 for r in rollouts]),
                "parse_failure_rate": alg.mean([0.0 if r["parse_status"] in USABLE_PARSE_STATUSES else 1.0
                                                for r in rollouts]),
                "status_counts": dict(sorted(statuses.items())), "error_categories": error_category_counts(rollouts),
                **informative}

    # -- checkpoints and validation -------------------------------------------------------
    def _checkpoint(self, executor: Any, *, validate: bool, step: int = 0) -> dict[str, Any]:
        """Validate the current policy (selection uses validation only) and track the best."""
        metrics: dict[str, Any] = {}
        if validate:
            seed = derive_seed(self.config.seed, "validation")
            rollouts = self._sample(self.validation_tasks, self.config.validation_samples, seed, executor)
            for rollout in rollouts:
                rollout["step"] = step
            self.run_dir.append("validation.jsonl", rollouts)
            pass_rate = alg.mean([1.0 if r["execution"]["passed"] else 0.0 for r in rollouts])
            metrics = {"validation/pass_rate": pass_rate,
                       "validation/reward": alg.mean([float(r["reward"]["reward"]) for r in rollouts])}
            self.validations.append((step, pass_rate))
            best = best_checkpoint(self.validations)
            self.state.best = {"step": best[0], "path": f"checkpoints/{checkpoint_name(best[0], '.json')}",
                               "validation/pass_rate": best[1]}
        if step == 0:
            self._save_checkpoint_file(0)
        return metrics

    def _save_checkpoint_file(self, step: int) -> None:
        document = {"config_hash": self.config.config_hash(), "algorithm": self.config.algorithm,
                    "policy": self.policy.to_json(),
                    "critic": self.critic.to_json() if self.critic is not None else None,
                    "state": self.state.to_json()}
        write_json(self.out / "checkpoints" / checkpoint_name(step, ".json"), document)
        if self.state.best is not None:
            self.run_dir.write_best(self.validations, ".json")

    # -- output directory -----------------------------------------------------------------
    @property
    def _rollout_hash(self) -> str:
        return rollout_config_hash(self.template, {"backend": "policy", "trainer": self.config.to_json()})

    def _prepare_output(self, resume: bool, overwrite: bool) -> None:
        """A new run directory, or the state of the run in it at its last checkpoint (run_dir)."""
        self._elapsed_before, self._resumed = 0.0, False
        if not self.run_dir.start(resume=resume, overwrite=overwrite):
            self.run_dir.write_config(config_document(self.config))
            return
        checkpoints = sorted((self.out / "checkpoints").glob("step_*.json"))
        if not checkpoints:
            raise ValueError(f"{self.out}: no checkpoint to resume from; rerun with --overwrite")
        self.load_checkpoint(checkpoints[-1])
        self._resumed = True
        kept = self.run_dir.truncate(self.state.step)
        if kept:
            self._elapsed_before = kept[-1]["timing"].get("elapsed_s", 0.0)
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
        self._set_state(RunState.from_json(document["state"]))

    def _set_state(self, state: RunState) -> None:
        """Adopt `state`; the informative tally and the validations seen so far follow it (the best
        one stands for all earlier ones: only a strictly higher pass rate replaces it)."""
        self.state = state
        self.informative = InformativeTally((t.task_id for t in self.train_tasks), state.ever_informative)
        self.state.ever_informative = self.informative.ever  # one set: checkpoints save what the tally saw
        best = state.best
        self.validations = [(best["step"], best["validation/pass_rate"])] if best else []


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

