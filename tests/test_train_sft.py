"""train_sft.py and its library (codeself.training.sft): the stdlib parts always run; a real two-step
SFT run runs only where the training extra is installed
(e.g. `/work/venv-train/bin/python -m unittest tests.test_train_sft -v`)."""

import support  # noqa: F401

import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import unittest  # noqa: E402
from pathlib import Path  # noqa: E402

from test_train_grpo import EXAMPLE_TASKS, EXTRA_REASON, HAVE_EXTRA, _same_weights, write_toml  # noqa: E402

from codeself.agents.templates import load_template, render_prompt  # noqa: E402
from codeself.datasets.task import Task, load_tasks  # noqa: E402
from codeself.execution.engine import ExecutionConfig  # noqa: E402
from codeself.parsing import parse_completion  # noqa: E402
from codeself.rewards.trl import CorrectnessReward  # noqa: E402
from codeself.training.config import SFTConfig, config_from_json, load_training_config  # noqa: E402
from codeself.training.sft import (answer_form, format_sft_summary, length_stats, sft_kwargs, sft_rows,  # noqa: E402
                                   steps_per_epoch, summarize_sft)

# A reference with an import, a helper and no final newline: the answer form must still hold it whole.
HELPER = Task(task_id="fixture/mean_of_squares", source="fixture", prompt="Write mean_of_squares(xs).",
              entry_point="mean_of_squares", starter_code="", public_tests=("assert mean_of_squares([2]) == 4",),
              hidden_tests=("assert mean_of_squares([1, 3]) == 5", "assert mean_of_squares([0, 0, 3]) == 3"),
              setup_code="", split="train", metadata={},
              reference_solution="import statistics\n\ndef _square(x):\n    return x * x\n\n"
                                 "def mean_of_squares(xs):\n    return statistics.fmean(_square(x) for x in xs)")
# Keys every SFT metrics.jsonl record carries (validation/pass_rate only on validation steps).
SFT_STEP_KEYS = {"step", "algorithm", "samples", "num_samples", "loss", "grad_norm", "learning_rate", "entropy",
                 "mean_token_accuracy", "num_tokens", "epoch", "timing", "memory"}


def example_tasks():
    return list(load_tasks(EXAMPLE_TASKS)) + list(load_tasks(support.FIXTURES / "train_grpo_tasks.jsonl")) + [HELPER]


class DataTest(unittest.TestCase):
    def test_rows_are_the_train_tasks_with_the_practice_prompt(self):
        tasks, template = example_tasks(), load_template("chat_default")
        rows = sft_rows(tasks, template)
        train = [t for t in tasks if t.split == "train"]
        self.assertGreater(len(tasks), len(train))  # the file also holds validation and test tasks
        self.assertEqual([row["task_id"] for row in rows], [t.task_id for t in train])
        for task, row in zip(train, rows):
            self.assertEqual(row["prompt"], render_prompt(template, task.public_view()))
            self.assertEqual(row["completion"], [{"role": "assistant", "content": answer_form(task.reference_solution)}])
            for hidden in task.hidden_tests:
                self.assertNotIn(hidden, json.dumps(row["prompt"]))

    def test_answer_form(self):
        # the reference between a ```python line and a closing ``` line, one newline before the fence
        self.assertEqual(answer_form("def f():\n    return 1\n\n"), "```python\ndef f():\n    return 1\n```")
        self.assertEqual(answer_form("def f():\n    return 1"), "```python\ndef f():\n    return 1\n```")

    def test_targets_parse_to_the_reference_and_pass_in_the_sandbox(self):
        tasks = example_tasks()
        rows = sft_rows(tasks, load_template("chat_default"))
        by_id = {t.task_id: t for t in tasks}
        for row in rows:
            task = by_id[row["task_id"]]
            parsed = parse_completion(row["completion"][0]["content"], task.starter_code, task.entry_point)
            self.assertEqual((parsed.parse_status, parsed.detail), ("ok", "one ```python block"), task.task_id)
            self.assertEqual(parsed.code, task.reference_solution.strip("\n") + "\n")
        reward = CorrectnessReward(by_id, ExecutionConfig(workers=1))
        try:  # the completions exactly as TRL hands them to a reward function: assistant messages
            records = reward.score(None, [row["completion"] for row in rows], task_id=[row["task_id"] for row in rows])
        finally:
            reward.close()
        self.assertEqual([(r.reward, r.diagnostics["passed"]) for r in records], [(1.0, True)] * len(rows))

    def test_only_the_train_split_and_chat_templates(self):
        tasks = example_tasks()
        with self.assertRaisesRegex(ValueError, "SFT imitates the 'train' split only, not 'validation'"):
            sft_rows(tasks, load_template("chat_default"), "validation")
        with self.assertRaisesRegex(ValueError, "completion template; SFT targets are chat answers"):
            sft_rows(tasks, load_template("completion_default"))
        with self.assertRaisesRegex(ValueError, "no tasks in split 'train'"):
            sft_rows([t for t in tasks if t.split != "train"], load_template("chat_default"))

    def test_examples_longer_than_max_length_are_refused(self):
        # (task_id, prompt tokens, prompt + answer tokens): answers of 40 and 60 tokens
        stats = length_stats([("a", 100, 140), ("b", 120, 180)], 180)
        self.assertEqual(stats, {"examples": 2, "max_tokens": 180, "mean_tokens": 160.0, "answer_tokens": 100,
                                 "mean_answer_tokens": 50.0})
        with self.assertRaisesRegex(ValueError, r"1 of 2 examples are longer than max_length = 179 tokens "
                                                r"\(longest: b, 180\)"):
            length_stats([("a", 100, 140), ("b", 120, 180)], 179)


class ConfigTest(unittest.TestCase):
    def test_toml_with_algorithm_sft(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = load_training_config(write_toml(tmp, algorithm="sft", num_train_epochs=2, max_length=512))
        self.assertIsInstance(config, SFTConfig)
        self.assertEqual((config.algorithm, config.num_train_epochs, config.max_length), ("sft", 2, 512))
        self.assertEqual(config_from_json(config.to_json()), config)
        self.assertEqual(config.config_hash(), SFTConfig(num_train_epochs=2, max_length=512,
                                                         output_dir="elsewhere").config_hash())
        self.assertNotEqual(config.config_hash(), SFTConfig(num_train_epochs=2, max_length=512, seed=1).config_hash())
        bundled = load_training_config(support.REPO_ROOT / "configs" / "training" / "sft.toml")
        self.assertIsInstance(bundled, SFTConfig)
        self.assertEqual(bundled.lora_rank, 0)  # full fine-tuning, as the GRPO run

    def test_bad_values_are_refused(self):
        for values, message in [({"train_split": "test"}, "practice must use the 'train' split"),
                                ({"validation_split": "test"}, "validation only"),
                                ({"model": "mock"}, "smoke policy"),
                                ({"per_device_train_batch_size": 0}, "run.toml: per_device_train_batch_size = 0: "
                                                                     "must be > 0"),
                                ({"max_steps": -1}, "run.toml: max_steps = -1: must be >= 0"),
                                ({"prompts_per_step": 2}, r"unknown sft field\(s\): prompts_per_step")]:
            with self.subTest(values=values), tempfile.TemporaryDirectory() as tmp:
                with self.assertRaisesRegex(ValueError, message):
                    load_training_config(write_toml(tmp, algorithm="sft", **values))

    def test_trl_arguments(self):
        kwargs = sft_kwargs(SFTConfig(num_train_epochs=2, per_device_train_batch_size=4, save_every=20, seed=3), "out")
        self.assertEqual((kwargs["num_train_epochs"], kwargs["max_steps"]), (2, -1))  # -1: the epochs decide
        self.assertEqual(sft_kwargs(SFTConfig(max_steps=5), "out")["max_steps"], 5)
        self.assertEqual((kwargs["completion_only_loss"], kwargs["packing"]), (True, False))
        self.assertEqual((kwargs["per_device_train_batch_size"], kwargs["save_steps"], kwargs["seed"]), (4, 20, 3))
        self.assertEqual((kwargs["lr_scheduler_type"], kwargs["logging_steps"], kwargs["use_cpu"]),
                         ("constant", 1, True))
        self.assertEqual(kwargs["output_dir"], str(Path("out", "trainer")))
        # 320 examples in batches of 8 = 40 passes; accumulating 3 a step -> 14 steps (the last of 1 pass)
        self.assertEqual(steps_per_epoch(320, SFTConfig(gradient_accumulation_steps=3)), 14)

    def test_summary(self):
        records = [{"step": 1, "samples": 8, "loss": 0.9, "mean_token_accuracy": 0.7, "epoch": 0.5,
                    "timing": {"step_s": 10.0, "validation_s": None}, "memory": {"peak_rss_mb": 100.0}},
                   {"step": 2, "samples": 16, "loss": 0.5, "mean_token_accuracy": 0.8, "epoch": 1.0,
                    "validation/pass_rate": 0.25, "timing": {"step_s": 14.0, "validation_s": 30.0},
                    "memory": {"peak_rss_mb": 150.0}}]
        summary = summarize_sft(records, "abc", (2, 0.25), 16)
        self.assertEqual((summary["steps"], summary["samples"], summary["first_loss"], summary["last_loss"]),
                         (2, 16, 0.9, 0.5))
        # 24 s of steps over 1 epoch; 12 s a step
        self.assertEqual((summary["step_s"], summary["mean_step_s"], summary["epoch_s"], summary["validation_s"]),
                         (24.0, 12.0, 24.0, 30.0))
        text = format_sft_summary(summary)
        self.assertIn("| 2 | 0.25 |", text)
        self.assertIn("Selected checkpoint: checkpoints/step_000002 (validation pass@1 0.2500)", text)


class ScriptTest(unittest.TestCase):
    def test_help(self):
        result = support.run_script("train_sft.py", "--help")
        self.assertEqual(result.returncode, 0)
        for flag in ("--config", "--output-dir", "--max-steps", "--resume", "--overwrite", "--quiet"):
            self.assertIn(flag, result.stdout)

    def test_trainer_flags_override_output_dir_and_max_steps_only_when_given(self):
        import argparse

        from codeself.cli import add_trainer_flags, trainer_overrides

        parser = argparse.ArgumentParser()
        add_trainer_flags(parser)
        self.assertEqual(trainer_overrides(parser.parse_args([])), {})
        args = parser.parse_args(["--output-dir", "o", "--max-steps", "0", "--overwrite"])
        self.assertEqual(trainer_overrides(args), {"output_dir": "o", "max_steps": 0})  # 0 is a value, not unset
        self.assertEqual((args.resume, args.overwrite, args.quiet), (False, True, False))

    def test_bad_input_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            def config(name, **values):  # each TOML in its own directory (write_toml names it run.toml)
                Path(tmp, name).mkdir()
                return str(write_toml(Path(tmp, name), **values))

            cases = [(("--config", str(Path(tmp, "missing.toml"))), "cannot read training config"),
                     (("--config", config("grpo", algorithm="grpo")),
                      'is a grpo config; train_sft.py trains algorithm = "sft"'),
                     (("--config", config("typo", algorithm="sft", learning_rat=1e-5)),
                      "unknown sft field(s): learning_rat"),
                     (("--config", config("steps", algorithm="sft"), "--max-steps", "-1"),  # the flag, not the file
                      "error: --max-steps -1: must be >= 0")]
            cases.append((("--config", str(support.REPO_ROOT / "configs" / "training" / "sft.toml")),
                          'algorithm = "sft" is the imitation baseline; train it with scripts/train_sft.py'))
            results = support.run_scripts(*(("train_sft.py", *args) for args, _ in cases[:-1]),
                                          ("train_grpo.py", *cases[-1][0]))  # the other trainer points here
        for (_, message), result in zip(cases, results):
            with self.subTest(message=message):
                self.assertEqual(result.returncode, 2)
                self.assertRegex(result.stderr, r"^train_(sft|grpo).py: error: ")
                self.assertIn(message, result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1)

    def test_missing_extra_is_one_line(self):
        python = shutil.which("python3")
        probe = subprocess.run([python or "python3", "-c", "import transformers"], capture_output=True)
        if python is None or probe.returncode == 0:
            self.skipTest("needs a python3 without transformers to see the missing-extra message")
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run([python, str(support.SCRIPTS / "train_sft.py"), "--config",
                                     write_toml(tmp, algorithm="sft", tasks=str(EXAMPLE_TASKS)),
                                     "--output-dir", str(Path(tmp, "run"))], capture_output=True, text=True, timeout=120)
            self.assertFalse(Path(tmp, "run").exists(), "nothing written")
        self.assertEqual(result.returncode, 2)
        self.assertRegex(result.stderr, r"^train_sft.py: error: train_sft.py needs .*install the training extra")
        self.assertEqual(len(result.stderr.strip().splitlines()), 1)


@unittest.skipUnless(HAVE_EXTRA, EXTRA_REASON)
class RealModelTest(unittest.TestCase):
    """Slow (minutes on 2 CPU cores): the real SmolLM2-135M model."""

    def test_two_sft_steps_change_the_weights_and_log_every_key(self):
        from codeself.training import sft
        from codeself.training.model_prep import prepare_default_model

        model_dir = prepare_default_model()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "run")
            # 3 train examples in batches of 2: step 1 sees 2 sequences, step 2 the last one (epoch 1.0)
            config = SFTConfig(model=str(model_dir), tasks=str(EXAMPLE_TASKS), max_steps=2,
                               per_device_train_batch_size=2, learning_rate=1e-4, gradient_checkpointing=False,
                               save_every=2, max_completion_tokens=24, workers=1, output_dir=str(out))
            summary = sft.train(config, quiet=True)
            records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            self.assertEqual([r["step"] for r in records], [1, 2])
            for record in records:
                self.assertLessEqual(SFT_STEP_KEYS, set(record), SFT_STEP_KEYS - set(record))
                self.assertGreater(record["loss"], 0)
            self.assertEqual([(r["num_samples"], r["samples"]) for r in records], [(2, 2), (1, 3)])
            self.assertEqual((records[0]["epoch"], records[1]["epoch"]), (0.5, 1.0))
            self.assertNotIn("validation/pass_rate", records[0])
            self.assertIn("validation/pass_rate", records[1])
            validation = [json.loads(line) for line in (out / "validation.jsonl").read_text().splitlines()]
            self.assertEqual(sorted(r["task_id"] for r in validation), ["example/count_vowels", "example/merge_intervals"])
            best = json.loads((out / "best_checkpoint.json").read_text())
            self.assertEqual(best["path"], "checkpoints/step_000002")
            written = json.loads((out / "config.json").read_text())
            self.assertEqual((written["algorithm"], written["config_hash"]), ("sft", config.config_hash()))
            self.assertEqual(written["sft_data"]["examples"], 3)
            self.assertEqual((summary["steps"], summary["examples"]), (2, 3))
            self.assertTrue((out / "summary.md").is_file())
            self.assertEqual((out / "rollouts.jsonl").read_text(), "")  # SFT samples nothing
            self.assertFalse(_same_weights(model_dir, out / "checkpoints" / "step_000002"))
            with self.assertRaisesRegex(ValueError, "already holds a training run"):  # before any training
                sft.train(config, quiet=True)


if __name__ == "__main__":
    unittest.main()
