"""The torch / transformers / trl side of `sft`: TRL's SFTTrainer inside `trl_run.Run`'s run directory.

Imported only through `sft.train()`, after the optional extra has been checked. Taken from
`trl_run` as it is: the output directory, `--resume` and `--overwrite` (`Run.prepare_output`
and `run_dir.RunDirectory`: config hash, records cut back to the last trainer checkpoint), the
policy (`load_policy`: fp32, LoRA when `lora_rank > 0`), the per-step callback (`StepRecorder`:
step time; at every `save_every` steps and the last, a plain model checkpoint and greedy
validation pass@1 with the sandbox reward), the checkpoint writer and best_checkpoint.json.
Replaced here: the trainer (SFTTrainer on `sft.sft_rows`, no reward during training),
config.json's trainer keys (TRL's SFT arguments, the examples' token counts) and the per-step
record (SFT's logs).

Sequences per step are counted where the loss is computed (`compute_loss` sees each
micro-batch once), not from the data loader, which fetches ahead of the step using them.
"""

from __future__ import annotations

import contextlib
import platform
import resource
import sys
import time
from importlib import metadata
from typing import Any

from codeself.training import trl_run  # noqa: I001 - first: sets the offline switches before transformers loads

import datasets  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402

from codeself.agents.templates import load_template  # noqa: E402
from codeself.datasets.task import load_tasks  # noqa: E402
from codeself.execution.engine import ExecutionConfig  # noqa: E402
from codeself.jsonl import iter_jsonl, write_text  # noqa: E402
from codeself.rewards.correctness import load_reward_config  # noqa: E402
from codeself.rewards.trl import CorrectnessReward  # noqa: E402
from codeself.training.config import SFTConfig  # noqa: E402
from codeself.training.sft import (SFT_LOG_KEYS, format_sft_summary, length_stats, sft_kwargs,  # noqa: E402
                                   sft_rows, summarize_sft)
from codeself.training.run_dir import best_checkpoint, config_document  # noqa: E402
from codeself.training.trl_hooks import TimedReward  # noqa: E402
from codeself.training.trl_trainer import clean_number  # noqa: E402

PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")


def token_lengths(rows: list[dict[str, Any]], tokenizer) -> list[tuple[str, int, int]]:
    """(task_id, prompt tokens, prompt + answer tokens) of each row, tokenized as TRL does
    (the chat template, no special tokens added on top)."""
    def count(messages, **kwargs) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return [(row["task_id"], count(row["prompt"], add_generation_prompt=True), count(row["prompt"] + row["completion"]))
            for row in rows]


class SFTRun(trl_run.Run):
    """One SFT run: `trl_run.Run`'s directory, checkpoints and validation around SFTTrainer."""

    def __init__(self, config: SFTConfig, quiet: bool, resume: bool, overwrite: bool = False) -> None:
        # Checked before the output directory is touched, so a bad template or an example that
        # does not fit leaves nothing behind.
        template = load_template(config.template or "chat_default")
        self.rows = sft_rows(load_tasks(config.tasks), template, config.train_split)
        tokenizer = transformers.AutoTokenizer.from_pretrained(trl_run.resolve_model_dir(config))
        self.data_stats = length_stats(token_lengths(self.rows, tokenizer), config.max_length)
        self.step_sequences = 0  # sequences whose loss the current optimiser step has used
        super().__init__(config, quiet, resume, overwrite)

    def execute(self) -> dict[str, Any]:
        model_dir, model, tokenizer, peft_config = trl_run.load_policy(self.config)
        self.tokenizer = tokenizer
        if self.resume_from is None:
            self.write_config(model_dir)
        executor_config = ExecutionConfig(workers=self.config.workers, sandbox=self.config.sandbox,
                                          timeout_floor_s=self.config.timeout_floor_s)
        self.reward = TimedReward(CorrectnessReward(  # validation only: SFT itself is never scored
            {t.task_id: t for t in self.validation_tasks}, executor_config,
            load_reward_config(self.config.reward_config_path())))
        self.trainer = trl.SFTTrainer(model=model, args=trl.SFTConfig(**sft_kwargs(self.config, self.out, quiet=self.quiet)),
                                      train_dataset=datasets.Dataset.from_list(self.rows), processing_class=tokenizer,
                                      peft_config=peft_config)
        self.trainer.compute_loss = self.counting(self.trainer.compute_loss)
        kept = list(iter_jsonl(self.out / "metrics.jsonl")) if self.resume_from else []
        if kept:  # TRL 1.16 does not restore its token counter from a checkpoint; the records have it
            self.trainer._total_train_tokens = int(kept[-1]["num_tokens"] or 0)
        self.trainer.add_callback(trl_run.StepRecorder(self))
        if self.quiet:  # with tqdm off, transformers would print each log dict
            self.trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        with contextlib.closing(self.reward.reward):  # stops the sandbox workers
            self.trainer.train(resume_from_checkpoint=self.resume_from)
        return self.write_summary()

    def counting(self, compute_loss):
        def wrapper(model, inputs, *args, **kwargs):
            self.step_sequences += int(inputs["input_ids"].shape[0])
            return compute_loss(model, inputs, *args, **kwargs)
        return wrapper

    def write_config(self, model_dir: str) -> None:
        versions = {"python": platform.python_version()}
        for name in PACKAGES:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                pass
        self.run_dir.write_config(config_document(
            self.config, trainer="trl-sft", model_dir=model_dir, trl_args=sft_kwargs(self.config, self.out),
            sft_data=self.data_stats, versions=versions, command_line=sys.argv))

    def write_step(self, step: int, logs: dict[str, Any], pending: dict[str, Any], generation_s: float) -> None:
        """One metrics.jsonl record (called by StepRecorder.on_log; `generation_s` is 0 for SFT)."""
        new, self.step_sequences = self.step_sequences, 0
        self.samples += new
        record: dict[str, Any] = {"step": step, "algorithm": self.config.algorithm,
                                  "samples": self.samples, "num_samples": new}
        record.update({key: clean_number(logs.get(key)) for key in SFT_LOG_KEYS})
        if "validation/pass_rate" in pending:
            record["validation/pass_rate"] = pending["validation/pass_rate"]
        validation_s = pending.get("validation_s")
        record["timing"] = {"step_s": round(pending.get("step_s", 0.0), 4),
                            "validation_s": None if validation_s is None else round(validation_s, 4),
                            "elapsed_s": round(self.elapsed_before + time.monotonic() - self.started, 2)}
        record["memory"] = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        self.run_dir.append("metrics.jsonl", [record])
        if not self.quiet:
            print(f"step {step}/{self.trainer.state.max_steps}: loss {record['loss']} epoch {record['epoch']} "
                  f"validation {record.get('validation/pass_rate', '-')} step_s {record['timing']['step_s']:.1f}",
                  file=sys.stderr)

    def write_summary(self) -> dict[str, Any]:
        records = list(iter_jsonl(self.out / "metrics.jsonl"))
        summary = summarize_sft(records, self.config_hash, best_checkpoint(self.validations), len(self.rows))
        write_text(self.out / "summary.md", format_sft_summary(summary))
        return summary


def run(config: SFTConfig, *, quiet: bool = False, resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    if quiet:  # transformers' and datasets' progress bars and notices off; errors still show
        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        datasets.disable_progress_bars()
    return SFTRun(config, quiet, resume, overwrite).execute()


__all__ = ["SFTRun", "run", "token_lengths"]
