"""The run skeleton both trainers share (codeself.training.run_dir) and the one home of the
advantage formulas for TRL's batches (codeself.training.algorithms.group_advantages)."""

import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.training import algorithms as alg
from codeself.training.config import GRPOConfig, RLOOConfig
from codeself.training.run_dir import (InformativeTally, RunDirectory, best_checkpoint, checkpoint_name,
                                       informative_groups)


class RunDirectoryTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.out = Path(tmp.name, "run")

    def started(self, config_hash="abc", steps=3) -> RunDirectory:
        run = RunDirectory(self.out, config_hash)
        self.assertFalse(run.start(resume=False, overwrite=False))
        run.write_config({"config_hash": config_hash})
        for step in range(1, steps + 1):
            run.append("metrics.jsonl", [{"step": step, "timing": {"elapsed_s": float(step)}}])
            run.append("rollouts.jsonl", [{"step": step, "i": 0}, {"step": step, "i": 1}])
        (self.out / "checkpoints" / checkpoint_name(3, ".json")).write_text("{}")
        return run

    def test_a_run_is_refused_unless_resumed_with_its_config_or_overwritten(self):
        self.started()
        with self.assertRaisesRegex(ValueError, "already holds a training run; use --resume .* or --overwrite"):
            RunDirectory(self.out, "abc").start(resume=False, overwrite=False)
        with self.assertRaisesRegex(ValueError, r"another config \(hash abc, this one xyz\)"):
            RunDirectory(self.out, "xyz").start(resume=True, overwrite=False)
        with self.assertRaisesRegex(ValueError, "contradict"):
            RunDirectory(self.out, "abc").start(resume=True, overwrite=True)
        self.assertTrue(RunDirectory(self.out, "abc").start(resume=True, overwrite=False))
        (self.out / "trainer").mkdir()
        (self.out / "notes.txt").write_text("mine")
        self.assertFalse(RunDirectory(self.out, "xyz").start(resume=False, overwrite=True))
        self.assertEqual(sorted(p.name for p in self.out.iterdir()),  # the run's names only; empty records
                         ["checkpoints", "metrics.jsonl", "notes.txt", "rollouts.jsonl", "validation.jsonl"])
        self.assertEqual(list((self.out / "checkpoints").iterdir()), [])
        self.assertEqual((self.out / "metrics.jsonl").read_text(), "")

    def test_resume_on_an_empty_directory_starts_a_run_and_a_broken_config_is_one_line(self):
        self.assertFalse(RunDirectory(self.out, "abc").start(resume=True, overwrite=False))
        (self.out / "config.json").write_text("{not json")
        with self.assertRaisesRegex(ValueError, "config.json: cannot resume: not a training run's config"):
            RunDirectory(self.out, "abc").start(resume=True, overwrite=False)

    def test_truncate_keeps_the_records_up_to_the_checkpoint(self):
        run = self.started()
        kept = run.truncate(2)
        self.assertEqual([r["step"] for r in kept], [1, 2])
        rollouts = [json.loads(line) for line in (self.out / "rollouts.jsonl").read_text().splitlines()]
        self.assertEqual([(r["step"], r["i"]) for r in rollouts], [(1, 0), (1, 1), (2, 0), (2, 1)])
        self.assertEqual((self.out / "validation.jsonl").read_text(), "")

    def test_best_checkpoint_ties_go_to_the_earliest_and_the_document_names_it(self):
        self.assertEqual(best_checkpoint([(30, 0.4), (15, 0.2), (45, 0.4)]), (30, 0.4))
        self.assertIsNone(best_checkpoint([]))
        run = self.started()
        self.assertIsNone(run.write_best([]))
        self.assertFalse((self.out / "best_checkpoint.json").exists())
        document = run.write_best([(0, 0.5), (3, 0.5), (6, 0.75)], ".json", validation_split="validation")
        self.assertEqual(document, {"step": 6, "path": "checkpoints/step_000006.json", "validation/pass_rate": 0.75,
                                    "validation_split": "validation"})
        self.assertEqual(json.loads((self.out / "best_checkpoint.json").read_text()), document)


class InformativeTest(unittest.TestCase):
    def test_groups_and_the_tally(self):
        # a: rewards 1, 0 (informative); b: 0, 0; c: 0.5, 0.5
        ids, rewards = ["a", "a", "b", "b", "c", "c"], [1.0, 0.0, 0.0, 0.0, 0.5, 0.5]
        self.assertEqual(informative_groups(ids, rewards), (["a"], 3))
        tally = InformativeTally(["a", "b", "c", "d"])
        self.assertEqual(tally.step(ids, rewards), {"frac_reward_zero_std": 2 / 3, "informative/tasks": ["a"],
                                                    "informative/frac_tasks": 1 / 3, "informative/never_count": 3})
        self.assertEqual(tally.step(["b", "b"], [1.0, 0.0])["informative/never_count"], 2)  # c and d


class GroupAdvantagesTest(unittest.TestCase):
    def test_groups_by_task_id_wherever_the_rows_are(self):
        # interleaved rows of groups a = [1, 0] and b = [0, 1]: the same as the consecutive layout
        interleaved = alg.group_advantages([1.0, 0.0, 0.0, 1.0], ["a", "b", "a", "b"], GRPOConfig())
        consecutive = alg.grpo_advantages([1.0, 0.0, 0.0, 1.0], 2)
        self.assertEqual(interleaved, [consecutive[0], consecutive[2], consecutive[1], consecutive[3]])
        self.assertAlmostEqual(interleaved[0], 0.5 / (0.5 ** 0.5 + 1e-4))
        # RLOO, whitened over the batch: [1, 0, 0] -> [1, -0.5, -0.5] -> mean 0, std 0.866 -> 1.1546, -0.5773
        whitened = alg.group_advantages([1.0, 0.0, 0.0], ["a"] * 3, RLOOConfig(num_generations=3,
                                                                                 normalize_advantages=True))
        self.assertEqual([round(a, 4) for a in whitened], [1.1546, -0.5773, -0.5773])
        with self.assertRaisesRegex(ValueError, "groups of different sizes"):
            alg.group_advantages([1.0, 0.0, 0.0], ["a", "a", "b"], GRPOConfig())

    def test_advantage_stats(self):
        self.assertEqual(alg.advantage_stats([1.0, -1.0]), {"advantages/mean": 0.0, "advantages/std": 2 ** 0.5,
                                                            "advantages/min": -1.0, "advantages/max": 1.0})
        self.assertEqual(alg.advantage_stats([]), dict.fromkeys(("advantages/mean", "advantages/std",
                                                                 "advantages/min", "advantages/max")))


if __name__ == "__main__":
    unittest.main()
