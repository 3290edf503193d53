"""The torch / transformers / trl side of `trl_trainer`: model, trainer, callback, checkpoints.

Imported only through `trl_trainer.train()`, after the optional extra has been checked.

Per optimiser step (logging_steps = 1) `StepRecorder.on_log` writes one `metrics.jsonl`
record (TRL's logged values + the scaffold's own, from the reward function's records) and the
step's completions to `rollouts.jsonl`, and the task sampler's store observes them
(`task_sampler.json`; with `task_sampler = "learnability"` the store chooses each step's prompts:
`trl_hooks.SampledPrompts`). Wall time is split by timing TRL's `_generate` (the
generation of the step's completions) and the reward function; `update_s` is the rest of the
step (log-probabilities, loss, backward, optimiser).

At every `save_every` steps and at the last step, in `on_step_end` (which transformers calls
before the step is logged), the policy is saved as a plain model directory
(`checkpoints/step_NNNNNN/`, merged when LoRA) and evaluated on the validation split:
pass@1 = mean over tasks of (passed samples / samples). With `validation_samples = 1` the one
sample is greedy (deterministic); with more, samples use the practice temperature (top_p 1)
and the per-sample seeds of the `hf` backend. `best_checkpoint.json` names the best one.

The output directory (refuse / overwrite / resume, config.json, the record files, the best
checkpoint) is `run_dir.RunDirectory`'s, as for the smoke trainers; TRL's own resumable state
lives under `trainer/`.
"""

from __future__ import annotations

import copy
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download at run time
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402

from codeself.agents.backends.base import GenerationRequest  # noqa: E402
from codeself.agents.backends.hf import HFBackend  # noqa: E402
from codeself.agents.pipeline import not_executed_result  # noqa: E402
from codeself.agents.rollout import Rollout, rollout_id  # noqa: E402
from codeself.agents.templates import load_template, render_prompt  # noqa: E402
from codeself.datasets.task import load_tasks  # noqa: E402
from codeself.jsonl import iter_jsonl, write_json, write_text  # noqa: E402
from codeself.rewards.correctness import load_reward_config  # noqa: E402
from codeself.rewards.trl import CorrectnessReward  # noqa: E402
from codeself.training import algorithms as alg  # noqa: E402
from codeself.training import trl_trainer as core  # noqa: E402
from codeself.training.config import RunConfig  # noqa: E402
from codeself.training.model_prep import is_default_model, prepare_default_model  # noqa: E402
from codeself.training.run_dir import (InformativeTally, RunDirectory, best_checkpoint, checkpoint_name,  # noqa: E402
                                       config_document)
from codeself.training.sampler import make_sampler, rollout_outcomes  # noqa: E402
from codeself.training.trl_episodes import EpisodePractice, episode_metrics, episode_rollouts  # noqa: E402
from codeself.training.trl_hooks import PracticeRollout, SampledPrompts, TimedReward  # noqa: E402
from codeself.agents.agentic.trl_env import agentic_episode_return  # noqa: E402


def resolve_model_dir(config: RunConfig) -> str:
    if is_default_model(config.model):
        return str(prepare_default_model())
    path = Path(config.model)
    if path.suffix == ".gguf":
        raise ValueError(f"model {config.model}: a GGUF file cannot be fine-tuned; convert it to a model "
                         "directory first (scripts/prepare_model.py does this for the default model)")
    return config.model  # a local model directory, or a hub id already in the local cache


def load_policy(config: RunConfig):
    model_dir = resolve_model_dir(config)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    peft_config = None
    if config.lora_rank > 0:
        import peft  # noqa: PLC0415

        peft_config = peft.LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                                      target_modules="all-linear", task_type="CAUSAL_LM")
    return model_dir, model, tokenizer, peft_config


def build_trainer(config: RunConfig, output_dir: Path, model, tokenizer, peft_config, rows, reward, quiet,
                  episodes: EpisodePractice | None = None):
    """GRPO generates through a `rollout_func`: single answers (`PracticeRollout`) or, with
    `episodes`, multi-turn episodes whose return is the only reward (`trl_episodes`)."""
    import datasets  # noqa: PLC0415

    kwargs = core.trl_kwargs(config, output_dir, quiet=quiet)
    extra = {}
    if config.algorithm == "grpo":
        args, trainer_class = trl.GRPOConfig(**kwargs), trl.GRPOTrainer
        os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is marked experimental
        extra["rollout_func"] = episodes if episodes is not None else PracticeRollout(config)
        if episodes is not None:
            reward = agentic_episode_return
    else:  # RLOOTrainer has no rollout_func: TRL's own generation
        args, trainer_class = trl.RLOOConfig(**kwargs), trl.RLOOTrainer
    return trainer_class(model=model, reward_funcs=[reward], args=args,
                         train_dataset=datasets.Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=peft_config, **extra)


class StepRecorder(transformers.TrainerCallback):
    """Writes metrics.jsonl / rollouts.jsonl records, checkpoints and validates."""

    def __init__(self, run: "Run") -> None:
        self.run = run
        self.step_started = 0.0
        self.generation_s = 0.0
        self.pending: dict[str, Any] = {}  # validation results waiting for the step's log record

    def timed_generate(self, generate):
        def wrapper(*args, **kwargs):
            started = time.monotonic()
            try:
                return generate(*args, **kwargs)
            finally:
                self.generation_s += time.monotonic() - started
        return wrapper

    def on_step_begin(self, args, state, control, **kwargs):
        self.step_started = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        self.pending = {"step_s": time.monotonic() - self.step_started}
        step = state.global_step
        if step % self.run.config.save_every == 0 or step >= state.max_steps:
            started = time.monotonic()
            self.pending["validation/pass_rate"] = self.run.checkpoint_and_validate(step)
            self.pending["validation_s"] = time.monotonic() - started

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "train_runtime" in logs:  # the end-of-training summary, not a step
            return
        self.run.write_step(state.global_step, logs, self.pending, self.generation_s)
        self.generation_s, self.pending = 0.0, {}


class Run:
    """One practice run's state and outputs."""

    def __init__(self, config: RunConfig, quiet: bool, resume: bool, overwrite: bool = False) -> None:
        self.config, self.quiet = config, quiet
        self.out = Path(config.output_dir)
        self.config_hash = config.config_hash()
        self.run_dir = RunDirectory(self.out, self.config_hash)
        self.template = load_template(config.template or "chat_default")
        tasks = list(load_tasks(config.tasks))
        self.train_tasks = [t for t in tasks if t.split == config.train_split]
        self.validation_tasks = [t for t in tasks if t.split == config.validation_split]
        if not self.train_tasks:
            raise ValueError(f"{config.tasks}: no tasks in split {config.train_split!r}")
        self.prompts = {t.task_id: render_prompt(self.template, t.public_view()) for t in self.train_tasks}
        self.samples, self.validations = 0, []
        self.informative = InformativeTally(self.prompts)
        self.started = time.monotonic()
        self.elapsed_before = 0.0
        self.resume_from = self.prepare_output(resume, overwrite)

    # -- output directory -------------------------------------------------------------------

    def prepare_output(self, resume: bool, overwrite: bool = False) -> str | None:
        """The trainer checkpoint to resume from (counters restored from the records kept), or None."""
        if not self.run_dir.start(resume=resume, overwrite=overwrite):
            return None
        last = transformers.trainer_utils.get_last_checkpoint(str(self.out / "trainer"))
        if last is None:
            raise ValueError(f"{self.out}: nothing to resume (no trainer checkpoint yet); start it again "
                             "with --overwrite")
        for record in self.run_dir.truncate(int(Path(last).name.split("-")[-1])):
            self.samples = record["samples"]
            self.informative.ever.update(record.get("informative/tasks") or [])
            if record.get("validation/pass_rate") is not None:
                self.validations.append((record["step"], record["validation/pass_rate"]))
            self.elapsed_before = record["timing"]["elapsed_s"]
        return last

    def write_config(self, model_dir: str) -> None:
        versions = {"python": platform.python_version(), "torch": torch.__version__,
                    "transformers": transformers.__version__, "trl": trl.__version__}
        try:
            import peft  # noqa: PLC0415

            versions["peft"] = peft.__version__
        except ImportError:
            pass
        self.run_dir.write_config(config_document(
            self.config, trainer="trl", model_dir=model_dir, trl_args=core.trl_kwargs(self.config, self.out),
            versions=versions, command_line=sys.argv))

    # -- training ---------------------------------------------------------------------------

    def execute(self) -> dict[str, Any]:
        model_dir, model, tokenizer, peft_config = load_policy(self.config)
        self.tokenizer = tokenizer
        if self.resume_from is None:
            self.write_config(model_dir)
        reward_tasks = {t.task_id: t for t in self.train_tasks + self.validation_tasks}
        from codeself.execution.engine import ExecutionConfig  # noqa: PLC0415

        executor_config = ExecutionConfig(workers=self.config.workers, sandbox=self.config.sandbox,
                                          timeout_floor_s=self.config.timeout_floor_s)
        self.reward = TimedReward(CorrectnessReward(reward_tasks, executor_config,
                                                    load_reward_config(self.config.reward_config_path()),
                                                    reward=self.config.reward))
        rows = core.dataset_rows(self.train_tasks, self.template)
        self.episodes = (EpisodePractice(self.config, self.train_tasks, executor=self.reward.reward._get_executor())
                         if self.config.max_revisions > 0 else None)
        self.trainer = build_trainer(self.config, self.out, model, tokenizer, peft_config, rows,
                                     self.reward, self.quiet, self.episodes)
        self.sampler = make_sampler(self.config.task_sampler, self.train_tasks, self.config.seed,
                                    self.config.sampler_config())
        if self.resume_from is not None:  # the store as it was at the checkpoint's step
            self.sampler.store.replay(iter_jsonl(self.out / "rollouts.jsonl"))
        self.sampled_p_hat = None  # of the last generated batch (steps that reuse it report it again)
        if self.config.task_sampler != "uniform":  # uniform: TRL's own shuffled sampler, as before
            SampledPrompts(self.sampler, {row["task_id"]: row for row in rows},
                           self.config.samples_per_prompt).install(self.trainer)
        recorder = StepRecorder(self)
        self.trainer._generate = recorder.timed_generate(self.trainer._generate)
        self.trainer.add_callback(recorder)
        if self.quiet:  # with tqdm disabled transformers prints every log dict instead
            self.trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        try:
            self.trainer.train(resume_from_checkpoint=self.resume_from)
        finally:
            if self.episodes is not None:
                self.episodes.close()
            self.reward.reward.close()
        return self.write_summary()

    def write_step(self, step: int, logs: dict[str, Any], pending: dict[str, Any], generation_s: float) -> None:
        if self.episodes is not None:
            return self.write_episode_step(step, logs, pending, generation_s)
        batches, self.reward.batches = self.reward.batches, []
        if batches:
            self.last_batch = core.merge_batches(batches)
            self.sampled_p_hat = self.sampler.store.histogram(dict.fromkeys(self.last_batch["task_ids"]))
        batch = getattr(self, "last_batch", None)
        new = sum(len(b["records"]) for b in batches)
        self.samples += new
        record: dict[str, Any] = {"step": step, "algorithm": self.config.algorithm,
                                  "samples": self.samples, "num_samples": new}
        record.update({key: core.clean_number(logs.get(key)) for key in core.TRL_LOG_KEYS})
        if batch is not None:
            rewards = [r.reward for r in batch["records"]]
            advantages = alg.group_advantages(rewards, batch["task_ids"], self.config)
            record.update(core.scaffold_metrics(batch["task_ids"], batch["records"], advantages, self.informative))
        record.update({"task_sampler": self.config.task_sampler, "sampled_p_hat": self.sampled_p_hat})
        if "validation/pass_rate" in pending:
            record["validation/pass_rate"] = pending["validation/pass_rate"]
        self.finish_step(record, pending, generation_s, sum(b["reward_s"] for b in batches))
        if batches:
            rollouts = self.write_rollouts(step, core.merge_batches(batches), generation_s)
            self.observe(step, rollouts)

    def write_episode_step(self, step: int, logs: dict[str, Any], pending: dict[str, Any],
                           generation_s: float) -> None:
        """Multi-turn practice: the step's episodes (`trl_episodes`); their sandbox time is inside
        generation (the environment executes each turn as it is played), so reward_s is 0."""
        traces = self.episodes.take()
        self.samples += len(traces)
        record: dict[str, Any] = {"step": step, "algorithm": self.config.algorithm,
                                  "samples": self.samples, "num_samples": len(traces),
                                  "max_revisions": self.config.max_revisions}
        record.update({key: core.clean_number(logs.get(key)) for key in core.TRL_LOG_KEYS})
        if traces:
            record.update(episode_metrics(traces, self.config, self.informative))
            self.sampled_p_hat = self.sampler.store.histogram(dict.fromkeys(t.task_id for t in traces))
        record.update({"task_sampler": self.config.task_sampler, "sampled_p_hat": self.sampled_p_hat})
        if "validation/pass_rate" in pending:
            record["validation/pass_rate"] = pending["validation/pass_rate"]
        self.finish_step(record, pending, generation_s, 0.0)
        if traces:
            rollouts = episode_rollouts(traces, step, self.config)
            self.run_dir.append("rollouts.jsonl", rollouts)
            self.observe(step, rollouts)

    def finish_step(self, record: dict[str, Any], pending: dict[str, Any], generation_s: float,
                    reward_s: float) -> None:
        """Timing and memory, then the record appended to metrics.jsonl (and the progress line)."""
        step_s = pending.get("step_s", 0.0)
        record["timing"] = {
            "generation_s": round(generation_s, 4), "reward_s": round(reward_s, 4),
            "update_s": round(max(0.0, step_s - generation_s - reward_s), 4), "step_s": round(step_s, 4),
            "validation_s": round(pending["validation_s"], 4) if "validation_s" in pending else None,
            "elapsed_s": round(self.elapsed_before + time.monotonic() - self.started, 2),
            "process_cpu_s": round(time.process_time(), 2)}  # this process, since it started
        record["memory"] = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        self.run_dir.append("metrics.jsonl", [record])
        if not self.quiet:
            print(f"step {record['step']}: reward {record['reward']} pass_rate {record.get('pass_rate')} "
                  f"validation {record.get('validation/pass_rate', '-')} step_s {step_s:.1f}", file=sys.stderr)

    def observe(self, step: int, rollouts: list[dict[str, Any]]) -> None:
        self.sampler.store.observe(step, rollout_outcomes(rollouts))
        write_json(self.out / "task_sampler.json", self.sampler.store.to_json())

    def write_rollouts(self, step: int, batch: dict[str, Any], generation_s: float) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        share = generation_s / max(1, len(batch["records"]))
        isolation = getattr(self.reward.reward._executor, "isolation", "unknown")
        tasks = {t.task_id: t for t in self.train_tasks}
        rollouts = []
        for task_id, completion, record, parsed, execution in zip(
                batch["task_ids"], batch["completions"], batch["records"], batch["parsed"], batch["executions"]):
            index = counts[task_id] = counts.get(task_id, -1) + 1
            task = tasks[task_id]
            rollout = Rollout(
                rollout_id=rollout_id(task_id, index, f"{self.config_hash}/step-{step}", self.config.seed),
                task_id=task_id, sample_index=index, split=task.split, backend="hf", model=self.config.model,
                template=self.template.name, config_hash=self.config_hash, prompt=self.prompts[task_id],
                completion=completion, code=parsed.code, parse_status=parsed.parse_status,
                execution=execution if execution is not None else not_executed_result(task, parsed, isolation),
                reward=record.to_json(), seed=self.config.seed,
                metadata={"trainer": "trl", "algorithm": self.config.algorithm, "parse_detail": parsed.detail},
                timing={"generation_s": round(share, 6)})
            rollouts.append({**rollout.to_json(), "step": step})
        self.run_dir.append("rollouts.jsonl", rollouts)
        return rollouts

    # -- checkpoints and validation ---------------------------------------------------------

    def checkpoint_and_validate(self, step: int) -> float | None:
        model = self.trainer.accelerator.unwrap_model(self.trainer.model)
        was_training = model.training
        if self.config.lora_rank > 0:
            model = copy.deepcopy(model).merge_and_unload()
        self.save_checkpoint(model, step)
        model.eval()
        try:
            rate = self.validate(model, step)
        finally:
            if was_training:
                self.trainer.model.train()
        if rate is not None:
            self.validations.append((step, rate))
            self.write_best()
        return rate

    def save_checkpoint(self, model, step: int) -> None:
        target = self.out / "checkpoints" / checkpoint_name(step)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        model.save_pretrained(staging)
        self.tokenizer.save_pretrained(staging)
        write_json(staging / "codeself_checkpoint.json",
                   {"step": step, "config_hash": self.config_hash, "algorithm": self.config.algorithm})
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)

    def validate(self, model, step: int) -> float | None:
        if not self.validation_tasks:
            return None
        n = self.config.validation_samples
        backend = HFBackend(self.config.model, temperature=0.0 if n == 1 else self.config.temperature,
                            top_p=1.0, max_tokens=self.config.max_completion_tokens,
                            loaded=(model, self.tokenizer))
        requests = [GenerationRequest(t.public_view(), render_prompt(self.template, t.public_view()),
                                      tuple(range(n)), self.config.seed, self.template.stop)
                    for t in self.validation_tasks]
        generations = backend.generate(requests)
        task_ids = [t.task_id for t, samples in zip(self.validation_tasks, generations) for _ in samples]
        completions = [g.completion for samples in generations for g in samples]
        records = self.reward.reward.score(None, completions, task_id=task_ids)
        passed: dict[str, list[bool]] = {}
        lines = []
        for task_id, completion, record in zip(task_ids, completions, records):
            passed.setdefault(task_id, []).append(bool(record.diagnostics.get("passed")))
            lines.append({"step": step, "task_id": task_id, "sample_index": len(passed[task_id]) - 1,
                          "completion": completion, "reward": record.to_json()})
        self.run_dir.append("validation.jsonl", lines)
        return sum(sum(v) / len(v) for v in passed.values()) / len(passed)

    def write_best(self) -> None:
        self.run_dir.write_best(self.validations, config_hash=self.config_hash,
                                validation_split=self.config.validation_split,
                                validation_samples=self.config.validation_samples,
                                candidates=[{"step": s, "validation/pass_rate": r} for s, r in self.validations])

    def write_summary(self) -> dict[str, Any]:
        records = list(iter_jsonl(self.out / "metrics.jsonl"))
        summary = core.summarize(records, self.config_hash, best_checkpoint(self.validations))
        write_text(self.out / "summary.md", core.format_summary(summary))
        return summary


def run(config: RunConfig, *, quiet: bool = False, resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    if quiet:
        import warnings  # noqa: PLC0415

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        warnings.filterwarnings("ignore", category=FutureWarning)
    return Run(config, quiet, resume, overwrite).execute()
