"""`scripts/run_rollouts.py` as a library call: settings in, a rollout file and its sidecar out.

The sidecar `<output>.config.json` records the resolved configuration — backend and its
output-affecting settings, model, template and its hash, config hash, seed, tasks file hash,
reward config and every command line that wrote to the output — so a reproducibility manifest
can find how each rollout file was made.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from codeself.agents.backends import BACKENDS, BackendOptions, StaticBackend, create_backend
from codeself.agents.pipeline import RolloutRun, produce_rollouts
from codeself.agents.rollout_output import RolloutWriter, written_phrase
from codeself.agents.templates import canonical_json, config_hash, load_template, with_stop_strings
from codeself.jsonl import refuse_overwriting_input
from codeself.progress import Progress
from codeself.datasets.task import SPLITS, Task, load_tasks
from codeself.execution.config import ExecutionConfig
from codeself.jsonl import sha256_file


@dataclass(frozen=True)
class RolloutSettings:
    """One run of scripts/run_rollouts.py. The field metadata is the flag's help
    (`codeself.cli.add_dataclass_flags` builds the flags)."""

    tasks: str = field(metadata={"help": "canonical task JSONL (from scripts/prepare_datasets.py)"})
    output: str = field(metadata={"help": "rollout JSONL to write (appended as produced)"})
    backend: str = field(metadata={"help": f"generation backend: {', '.join(sorted(BACKENDS))}"})
    samples_per_task: int | None = field(default=None, metadata={
        "help": "samples per task (static: at most this many; default all in the file)"})
    split: str | None = field(default=None, metadata={"help": f"only tasks of this split ({', '.join(SPLITS)})"})
    seed: int = field(default=0, metadata={"help": "run seed; every random choice derives from it"})
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)  # the sandbox
    resume: bool = field(default=False, metadata={
        "help": "continue an interrupted run: keep existing records, add the missing ones"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing output instead of refusing"})
    template: str = field(default="chat_default", metadata={
        "help": "prompt template name in configs/prompts or a .toml path"})
    stop: tuple[str, ...] = field(default=(), metadata={
        "metavar": "STRING",
        "help": "end a sample at this string, cut before it (repeatable; added to the template's stop strings; "
                "hf and openai backends; \\n and \\t are read as newline and tab, e.g. --stop '\\n```\\n' "
                "ends an answer at its closing fence)"})
    reward_config: str | None = field(default=None, metadata={
        "help": "reward TOML", "default_help": "configs/rewards/reward_v0.toml"})
    limit: int | None = field(default=None, metadata={"help": "only the first N selected tasks"})
    backend_options: BackendOptions = field(default_factory=BackendOptions)
    command_line: tuple[str, ...] = ()  # the argv that wrote the output, kept in the sidecar


def _check(settings: RolloutSettings) -> None:
    if settings.split is not None and settings.split not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {settings.split!r}")
    if settings.samples_per_task is None and settings.backend != "static":
        raise ValueError(f"--backend {settings.backend} needs --samples-per-task K")
    if settings.samples_per_task is not None and settings.samples_per_task < 1:
        raise ValueError("--samples-per-task must be at least 1")
    if settings.limit is not None and settings.limit < 1:
        raise ValueError("--limit must be at least 1")
    if settings.resume and settings.overwrite:
        raise ValueError("--resume and --overwrite contradict each other; choose one")
    inputs = [settings.tasks] + [p for p in [settings.backend_options.completions] if p]
    refuse_overwriting_input(inputs, settings.output)


def select_tasks(settings: RolloutSettings) -> Iterator[Task]:
    """Stream the tasks of the run: the requested split, at most `limit` of them."""
    tasks = (task for task in load_tasks(settings.tasks)
             if settings.split is None or task.split == settings.split)
    return itertools.islice(tasks, settings.limit) if settings.limit else tasks


def _reward_identity(reward_config: Any) -> dict[str, Any]:
    values = reward_config.to_json()  # the TOML's content (unchanged for a config with no extra components)
    return {"name": values.get("name"),
            "sha256": hashlib.sha256(canonical_json(values).encode("utf-8")).hexdigest()}


def build_sidecar(settings: RolloutSettings, backend: Any, template: Any, hash_: str,
                  reward_config: Any) -> dict[str, Any]:
    return {
        "tool": "run_rollouts", "backend": backend.name, "model": backend.model,
        "backend_config": backend.config(), "template": template.name,
        "template_sha256": template.sha256(), "stop": list(template.stop), "config_hash": hash_, "seed": settings.seed,
        "samples_per_task": settings.samples_per_task, "split": settings.split, "limit": settings.limit,
        "tasks": str(settings.tasks), "tasks_sha256": sha256_file(settings.tasks),
        "reward_config": _reward_identity(reward_config),
        "runs": [{"argv": list(settings.command_line)}],
    }


def run_rollouts(settings: RolloutSettings, *, quiet: bool = False, stream: TextIO | None = None) -> dict[str, Any]:
    """Generate, execute, score and write every missing sample; return a summary."""
    from codeself.rewards import load_reward_config
    from codeself.rewards.correctness import check_reward_with_execution

    _check(settings)
    stream = stream if stream is not None else sys.stderr
    template = with_stop_strings(load_template(settings.template), settings.stop)
    reward_config = load_reward_config(settings.reward_config)
    check_reward_with_execution(reward_config, settings.execution.stop_at_first_failure)
    backend = create_backend(settings.backend, settings.backend_options)
    try:
        hash_ = config_hash(template, backend.config())
        sidecar = build_sidecar(settings, backend, template, hash_, reward_config)
        run = RolloutRun(backend, template, hash_, settings.seed, settings.samples_per_task)
        total = _count_samples(settings, run)
        if isinstance(backend, StaticBackend):
            _report_unused(backend, stream)
        writer = RolloutWriter(Path(settings.output), resume=settings.resume, overwrite=settings.overwrite,
                               config_hash=hash_, seed=settings.seed, sidecar=sidecar)
        try:
            statuses = _write_rollouts(settings, run, writer, reward_config,
                                       Progress("rollouts", max(total - writer.resumed, 0), quiet=quiet, stream=stream))
        except BaseException:
            writer.close()
            if writer.written == 0 and writer.resumed == 0:
                writer.discard()  # nothing to resume: the same command can simply be rerun
            raise
        writer.close()
        return {"written": writer.written, "already_present": writer.resumed,
                "status_counts": dict(sorted(statuses.items())), "config_hash": hash_}
    finally:
        backend.close()


def _write_rollouts(settings: RolloutSettings, run: RolloutRun, writer: RolloutWriter, reward_config: Any,
                    progress: Progress) -> Counter:
    """Run the sandbox and the pipeline, appending each rollout as it completes."""
    from codeself.execution.engine import open_executor
    from codeself.rewards import score_sample

    def score(task: Task, code: str | None, status: str, execution: Any) -> dict[str, Any]:
        return score_sample(task, code, status, execution, config=reward_config).to_json()

    statuses: Counter = Counter()
    with open_executor(settings.execution) as executor, progress:
        for rollout in produce_rollouts(run, select_tasks(settings), executor, score, writer.is_done):
            writer.write(rollout.to_json())
            statuses[rollout.execution.status] += 1
            progress.update()
    return statuses


def _count_samples(settings: RolloutSettings, run: RolloutRun) -> int:
    """Samples the run will hold in total (for the progress meter); one cheap pass over tasks."""
    total = 0
    for task in select_tasks(settings):
        available = run.backend.samples_available(task.task_id)
        wanted = run.samples_per_task if available is None else available
        if run.samples_per_task is not None and available is not None:
            wanted = min(available, run.samples_per_task)
        total += wanted or 0
    return total


def _report_unused(backend: StaticBackend, stream: TextIO) -> None:
    unused = backend.unused_keys()
    if not backend.used_keys:
        raise ValueError(f"none of the task ids in {backend.path} match the selected tasks "
                         f"(e.g. {unused[0]!r}); check --tasks and --split")
    if unused:
        print(f"run_rollouts: note: {len(unused)} task id(s) in {backend.path} match no selected task "
              f"(e.g. {unused[0]!r})", file=stream)


def format_summary(summary: dict[str, Any], output: str) -> str:
    counts = ", ".join(f"{name} {count}" for name, count in summary["status_counts"].items()) or "none"
    written, kept = summary["written"], summary["already_present"]
    whose = f" of the {written} new" if kept else ""  # the status counts are this run's records only
    return f"{written_phrase('rollout', written, kept, output)}; execution{whose}: {counts}"
