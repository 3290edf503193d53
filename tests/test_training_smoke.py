"""The smoke trainers as a researcher runs them: the issue's commands, their files, determinism,
--resume, and one-line errors for bad input."""

import support

import json
import shutil
import tempfile
import unittest
from pathlib import Path

EXAMPLE = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
TRL_METRICS = ("reward", "reward_std", "frac_reward_zero_std", "kl", "entropy", "clip_ratio/low_mean",
               "clip_ratio/high_mean", "clip_ratio/region_mean", "completions/mean_length")
SCAFFOLD_METRICS = ("step", "samples", "pass_rate", "parse_failure_rate", "status_counts", "informative/tasks",
                    "informative/never_count", "advantages/mean", "advantages/std", "advantages/min",
                    "advantages/max", "timing")
PPO_METRICS = ("loss/policy_avg", "loss/value_avg", "val/clipfrac_avg", "policy/approxkl_avg",
               "val/explained_variance")


def train_call(algorithm, out, *extra) -> tuple:
    """The issue's command for `algorithm`: (script, *args)."""
    size_flag = "--samples-per-task" if algorithm == "ppo" else "--group-size"
    return (f"train_{algorithm}_smoke.py", "--tasks", EXAMPLE, "--output-dir", out,
            "--backend", "mock", size_flag, "4", "--max-steps", "3", "--quiet", *support.FAST_TIMEOUTS, *extra)


def without_timing(path: Path) -> list:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:
        record.pop("timing", None)
    return records


def run_files(out: Path) -> dict:
    """Every file of a run with wall-time fields removed."""
    files = {}
    for path in sorted(out.rglob("*")):
        if path.suffix == ".jsonl":
            files[str(path.relative_to(out))] = without_timing(path)
        elif path.suffix == ".json":
            files[str(path.relative_to(out))] = path.read_bytes()
    return files


def interrupt_after_step_1(run: Path) -> None:
    """As if stopped after step 1's checkpoint: later checkpoints gone, step 2's records half-written."""
    for name in ("step_000002.json", "step_000003.json"):
        (run / "checkpoints" / name).unlink()
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(lines[:2]) + "\n")
    (run / "summary.md").unlink()


def interrupt_before_step_1(run: Path) -> None:
    """As if stopped before any step finished: only the untrained policy's checkpoint is left."""
    for name in ("step_000001.json", "step_000002.json", "step_000003.json"):
        (run / "checkpoints" / name).unlink()
    (run / "metrics.jsonl").write_text("")


class SmokeTrainersTest(unittest.TestCase):
    """Two rounds of runs at once (support.run_scripts): the three trainers' commands with the grpo
    command a second time; then the grpo checkpoint's evaluation with two interrupted copies of the
    repeated run, resumed."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        outs = {algorithm: Path(cls.tmp, algorithm) for algorithm in ("grpo", "ppo", "rloo")}
        cls.again = Path(cls.tmp, "grpo-again")  # the grpo command a second time, for the determinism test
        *results, cls.again_result = support.run_scripts(
            *(train_call(algorithm, out) for algorithm, out in outs.items()), train_call("grpo", cls.again))
        cls.runs = {algorithm: (out, result) for (algorithm, out), result in zip(outs.items(), results)}
        second, copies = {}, {}
        if results[0].returncode == 0:
            second["evaluation"] = ("run_rollouts.py", "--tasks", EXAMPLE, "--split", "test", "--backend", "policy",
                                    "--model", outs["grpo"] / "checkpoints/step_000003.json", "--samples-per-task",
                                    "2", "--temperature", "1", "--output", Path(cls.tmp, "eval.jsonl"), "--quiet",
                                    *support.FAST_TIMEOUTS)
        if cls.again_result.returncode == 0:
            for name, interrupt in (("after step 1", interrupt_after_step_1), ("before step 1", interrupt_before_step_1)):
                copies[name] = Path(cls.tmp, "grpo-resumed-" + name.replace(" ", "-"))
                shutil.copytree(cls.again, copies[name])
                interrupt(copies[name])
                second[name] = train_call("grpo", copies[name], "--resume")
        results = dict(zip(second, support.run_scripts(*second.values())))
        cls.evaluation = results.pop("evaluation", None)
        cls.resumed = {name: (copy, results[name]) for name, copy in copies.items()}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_runs_write_every_file_with_trl_metric_names(self):
        for algorithm, (out, result) in self.runs.items():
            with self.subTest(algorithm):
                self.assertEqual(result.returncode, 0, result.stderr)
                for name in ("config.json", "metrics.jsonl", "rollouts.jsonl", "validation.jsonl",
                             "best_checkpoint.json", "summary.md", "checkpoints/step_000000.json",
                             "checkpoints/step_000003.json"):
                    self.assertTrue((out / name).is_file(), name)
                records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
                self.assertEqual([r["step"] for r in records], [1, 2, 3])
                wanted = TRL_METRICS + SCAFFOLD_METRICS + (PPO_METRICS if algorithm == "ppo" else ())
                for key in wanted:
                    self.assertIn(key, records[-1], key)
                self.assertEqual(records[-1]["samples"], 3 * 2 * 4)
                self.assertEqual(set(records[0]["timing"]), {"generation_s", "execution_s", "update_s", "step_s",
                                                             "elapsed_s"})
                rollouts = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
                self.assertEqual(len(rollouts), 24)
                self.assertTrue(all(r["split"] == "train" and "step" in r and "reward" in r["reward"]
                                    for r in rollouts), "practice uses the train split only")
                validation = [json.loads(line) for line in (out / "validation.jsonl").read_text().splitlines()]
                self.assertEqual({r["split"] for r in validation}, {"validation"})
                config = json.loads((out / "config.json").read_text())
                self.assertEqual(config["algorithm"], algorithm)
                self.assertEqual(len(config["config_hash"]), 16)

    def test_policy_changes_and_checkpoint_is_evaluable(self):
        out, _ = self.runs["grpo"]
        first = json.loads((out / "checkpoints/step_000000.json").read_text())["policy"]
        last = json.loads((out / "checkpoints/step_000003.json").read_text())["policy"]
        self.assertNotEqual(first["params"], last["params"])
        self.assertIsNotNone(self.evaluation, "the grpo run failed: no checkpoint to evaluate")
        self.assertEqual(self.evaluation.returncode, 0, self.evaluation.stderr)
        records = [json.loads(line) for line in Path(self.tmp, "eval.jsonl").read_text().splitlines()]
        self.assertEqual(len(records), 6)
        self.assertTrue(all(r["metadata"]["policy_plan"] for r in records))

    def test_same_seed_same_files_and_resume_equals_uninterrupted(self):
        out, _ = self.runs["grpo"]
        self.assertEqual(self.again_result.returncode, 0, self.again_result.stderr)
        self.assertEqual(run_files(out), run_files(self.again))
        self.assertEqual(set(self.resumed), {"after step 1", "before step 1"})
        for name, (copy, resumed) in self.resumed.items():
            with self.subTest(f"interrupted {name}"):
                self.assertEqual(resumed.returncode, 0, resumed.stderr)
                self.assertEqual(run_files(out), run_files(copy))
        # the summary says what this run did and what the run holds now
        self.assertRegex(self.resumed["after step 1"][1].stdout,
                         r"^grpo: 3 step\(s\) \(2 new, 1 kept from before\), 24 samples -> ")

    def test_bad_input_is_one_line(self):
        tmp = Path(self.tmp, "bad")
        tmp.mkdir(exist_ok=True)
        no_train = tmp / "no_train.jsonl"
        no_train.write_text("".join(line + "\n" for line in EXAMPLE.read_text().splitlines()
                                    if '"split": "train"' not in line))
        bad_config = tmp / "bad.toml"
        bad_config.write_text('algorithm = "grpo"\nmodel = "mock"\nlearning_rte = 1\n')
        bad_group = tmp / "bad_group.toml"
        bad_group.write_text('algorithm = "grpo"\nmodel = "mock"\nnum_generations = 1\n')
        out, _ = self.runs["grpo"]
        cases = {
            "no train tasks": (("grpo", tmp / "a", "--tasks", no_train), "no tasks in split 'train'"),
            # a bad value names where it came from, the flag or the config's key, and the value itself
            "group of one": (("grpo", tmp / "b", "--group-size", "1"), r"error: --group-size 1: must be >= 2 \("),
            "rloo group of none": (("rloo", tmp / "f", "--group-size", "0"), r"error: --group-size 0: must be >= 2 "),
            "ppo no samples": (("ppo", tmp / "g", "--samples-per-task", "0"), r"error: --samples-per-task 0: must be "
                                                                            r">= 1$"),
            "negative temperature": (("ppo", tmp / "h", "--temperature", "-1"), r"error: --temperature -1.0: must be "
                                                                              r">= 0$"),
            "group of one in the config": (("grpo", tmp / "i", "--config", bad_group, "--tasks", EXAMPLE),
                                           r"error: \S*bad_group.toml: num_generations = 1: must be >= 2 "),
            "unknown key": (("grpo", tmp / "c", "--config", bad_config), "unknown grpo field.*learning_rte"),
            "other backend": (("grpo", tmp / "d", "--backend", "hf"), "train_grpo.py"),
            "existing run": (("grpo", out), "already holds a training run"),
            "other config": (("grpo", out, "--resume", "--seed", "7"), "another config"),
            "missing tasks": (("ppo", tmp / "e", "--tasks", tmp / "nope.jsonl"), "nope.jsonl"),
        }
        calls = [train_call(algorithm, target, *flags) if "--tasks" not in flags else
                 (f"train_{algorithm}_smoke.py", "--output-dir", target, "--quiet", *flags)
                 for (algorithm, target, *flags), _ in cases.values()]
        results = [support.refusal(*call) for call in calls]  # in this process: each is refused before any work
        for (label, (_, message)), result in zip(cases.items(), results):
            with self.subTest(label):
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
                self.assertRegex(result.stderr, message)
                self.assertNotIn("Traceback", result.stderr)
        self.assertFalse((tmp / "a" / "metrics.jsonl").exists())


if __name__ == "__main__":
    unittest.main()
