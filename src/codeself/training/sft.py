"""The imitation baseline: supervised fine-tuning (TRL `SFTTrainer`) on the train split's references.

The question it answers (issue 16): is practice with execution feedback (GRPO) better than plain
imitation of correct answers on the same distribution? For the comparison to be fair, SFT sees
exactly what GRPO's policy sees and is asked for exactly what GRPO's reward pays for:

* prompt = the config's template rendered from the task's *public view* — the rows GRPO practises
  on (`trl_trainer.dataset_rows`), chat template `chat_default` by default;
* target = the task's reference solution in the answer form the reward reads
  (`answer_form`: one ```` ```python ```` block and nothing else, which `codeself.parsing` takes
  with status `ok`); the tests check every target passes its task in the sandbox;
* loss on the answer only (TRL's prompt-completion format, `completion_only_loss=True`): the
  chat template closes the answer with `<|im_end|>`, so the model also learns to stop.

Only the train split is read (`sft_rows` refuses any other): validation chooses the checkpoint,
test stays locked. The run directory is `train_grpo.py`'s (`trl_run.Run`, `run_dir.RunDirectory`):
config.json (with the config hash), metrics.jsonl (one record per optimiser step),
validation.jsonl, checkpoints/step_NNNNNN/ (plain model directories, evaluable with
`run_rollouts.py --backend hf --model DIR` and usable as `model = DIR` in a GRPO config),
best_checkpoint.json (greedy validation pass@1), summary.md; rollouts.jsonl stays empty (SFT
samples nothing). This module is standard-library only; the torch side is `sft_run`.

Choices the config does not name: constant learning rate without warm-up (as in the GRPO runs,
and so a checkpoint in mid-run is the model a shorter run would end with), weight decay 0,
gradient clipping at norm 1.0, no packing (each example is one sequence, padded per batch).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from codeself.optional import require_packages
from codeself.training.config import SFTConfig
from codeself.training.model_prep import check_model_reference
from codeself.training.trl_trainer import TRAINING_EXTRA_HINT, dataset_rows, trainer_kwargs, validation_lines

TRAIN_SPLIT = "train"
# TRL log keys copied into each metrics record as they are (null when TRL did not log them)
SFT_LOG_KEYS = ("loss", "grad_norm", "learning_rate", "entropy", "mean_token_accuracy", "num_tokens", "epoch")


def answer_form(reference_solution: str) -> str:
    """The reference as the answer the reward expects: one fenced Python block, nothing after it.

    >>> answer_form("def f():\\n    return 1\\n")
    '```python\\ndef f():\\n    return 1\\n```'
    """
    return "```python\n" + reference_solution.strip("\n") + "\n```"


def sft_rows(tasks: Iterable[Any], template: Any, split: str = TRAIN_SPLIT) -> list[dict[str, Any]]:
    """One TRL prompt-completion row per task of the train split, in file order:
    `{"prompt": [system, user messages], "task_id", "completion": [assistant message]}`.

    The prompt and task_id are GRPO's own rows (`dataset_rows`: the template rendered from the
    task's public view); the completion holds `answer_form(task.reference_solution)`. Tasks of
    other splits are skipped, and asking for another split is an error, so no reference of
    validation or test is ever a training target.
    """
    if split != TRAIN_SPLIT:
        raise ValueError(f"SFT imitates the {TRAIN_SPLIT!r} split only, not {split!r}: validation selects "
                         "checkpoints and test is locked (methodology.md)")
    if template.kind != "chat":
        raise ValueError(f"template {template.name!r} is a {template.kind} template; SFT targets are chat "
                         "answers (one ```python block), so it needs a chat template such as chat_default")
    train_tasks = [task for task in tasks if task.split == split]
    if not train_tasks:
        raise ValueError(f"no tasks in split {split!r}: nothing to imitate")
    return [{**row, "completion": [{"role": "assistant", "content": answer_form(task.reference_solution)}]}
            for row, task in zip(dataset_rows(train_tasks, template), train_tasks)]


def sft_kwargs(config: SFTConfig, output_dir: str | Path, *, quiet: bool = False) -> dict[str, Any]:
    """Keyword arguments for TRL's SFTConfig (plain values; no TRL import needed): the arguments
    shared with GRPO (`trainer_kwargs`: CPU, fp32, constant learning rate, ...) and SFT's own."""
    return {
        **trainer_kwargs(config, output_dir, quiet=quiet),
        "num_train_epochs": config.num_train_epochs,
        "max_steps": config.max_steps if config.max_steps > 0 else -1,  # -1: TRL counts steps from the epochs
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "max_length": config.max_length,
        "completion_only_loss": True,  # loss on the answer tokens only
        "packing": False,
    }


def length_stats(lengths: list[tuple[str, int, int]], max_length: int) -> dict[str, Any]:
    """Token counts of the examples, `(task_id, prompt tokens, prompt + answer tokens)` each;
    refuses a set in which any example is longer than `max_length` (TRL would cut its answer,
    teaching the model a truncated program)."""
    too_long = [(task_id, total) for task_id, _, total in lengths if total > max_length]
    if too_long:
        task_id, total = max(too_long, key=lambda item: item[1])
        raise ValueError(f"{len(too_long)} of {len(lengths)} examples are longer than max_length = {max_length} "
                         f"tokens (longest: {task_id}, {total}); raise max_length so no answer is cut")
    answers = [total - prompt for _, prompt, total in lengths]
    return {"examples": len(lengths), "max_tokens": max(total for _, _, total in lengths),
            "mean_tokens": round(statistics.fmean(total for _, _, total in lengths), 1),
            "answer_tokens": sum(answers), "mean_answer_tokens": round(statistics.fmean(answers), 1)}


def steps_per_epoch(examples: int, config: SFTConfig) -> int:
    """Optimiser steps in one pass: ceil(examples / batch) passes, grouped by gradient accumulation.

    >>> steps_per_epoch(320, SFTConfig(per_device_train_batch_size=8, gradient_accumulation_steps=2))
    20
    """
    return math.ceil(math.ceil(examples / config.per_device_train_batch_size) / config.gradient_accumulation_steps)


def summarize_sft(records: list[dict[str, Any]], config_hash: str, best: tuple[int, float] | None,
                  examples: int) -> dict[str, Any]:
    """The run's account from its metrics records (what summary.md and train_sft.py print)."""
    step_s = sum(r["timing"]["step_s"] for r in records)
    epochs = records[-1].get("epoch") if records else None
    return {
        "config_hash": config_hash, "steps": len(records), "examples": examples,
        "epochs": epochs, "samples": records[-1]["samples"] if records else 0,
        "first_loss": records[0].get("loss") if records else None,
        "last_loss": records[-1].get("loss") if records else None,
        "last_token_accuracy": records[-1].get("mean_token_accuracy") if records else None,
        "step_s": round(step_s, 1), "mean_step_s": round(step_s / len(records), 2) if records else None,
        "epoch_s": round(step_s / epochs, 1) if epochs else None,
        "validation_s": round(sum(r["timing"].get("validation_s") or 0.0 for r in records), 1),
        "peak_rss_mb": max((r["memory"]["peak_rss_mb"] for r in records), default=None),
        "validation": [(r["step"], r["validation/pass_rate"]) for r in records if "validation/pass_rate" in r],
        "best": best,
    }


def format_sft_summary(summary: dict[str, Any]) -> str:
    lines = [f"# SFT run {summary['config_hash']}", "",
             f"- {summary['steps']} optimiser steps, {summary['epochs']} epochs over {summary['examples']} "
             f"train examples ({summary['samples']} sequences)",
             f"- loss: first {summary['first_loss']}, last {summary['last_loss']}; last token accuracy "
             f"{summary['last_token_accuracy']}",
             f"- time (s): steps {summary['step_s']} ({summary['mean_step_s']} a step, {summary['epoch_s']} an "
             f"epoch); validation {summary['validation_s']}",
             f"- peak RSS: {summary['peak_rss_mb']} MB", ""]
    return "\n".join(lines + validation_lines(summary["validation"], summary["best"]))


def train(config: SFTConfig, *, quiet: bool = False, resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Run the SFT run described by `config`; returns the run summary (`summarize_sft`)."""
    check_model_reference(config.model)
    needed = ["torch", "transformers", "trl", "datasets"] + (["peft"] if config.lora_rank > 0 else [])
    require_packages(needed, purpose="train_sft.py", hint=TRAINING_EXTRA_HINT)
    from codeself.training import sft_run  # noqa: PLC0415 - needs the optional extra

    return sft_run.run(config, quiet=quiet, resume=resume, overwrite=overwrite)


__all__ = ["answer_form", "format_sft_summary", "length_stats", "sft_kwargs",
           "sft_rows", "steps_per_epoch", "summarize_sft", "train"]
