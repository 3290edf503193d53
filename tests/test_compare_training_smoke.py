"""Training comparison report: numbers worked by hand from the fixture runs, and the script end to end.

Fixtures (tests/fixtures/training_grpo/, training_ppo/: metrics.jsonl + config.json):

    GRPO  step     1     2     3     4     5        (8 completions per step)
          samples  8    16    24    32    40
          reward   0.25  0.375 0.5   0.625 0.75
          validation/pass_rate at step 3 = 0.4, step 5 = 0.6 -> final 0.6 (step 5), best 0.6 (step 5)
    PPO   step     1     2     3     4     5     6  (4 completions per step)
          samples  4     8    12    16    20    24
          reward   0.25  0.25  0.5   0.25  0.5   0.5
          validation/pass_rate at step 3 = 0.5, step 6 = 0.4 -> final 0.4 (step 6), best 0.5 (step 3)

    Worst run = lowest best reward = PPO (0.5); threshold = (0.25 + 0.5) / 2 = 0.375.
    GRPO first reaches 0.375 at step 2 (16 samples); PPO at step 3 (12 samples).
    Common samples range: max(8, 4) = 8 to min(40, 24) = 24.
      GRPO area = 8 * (0.25 + 0.375) / 2 + 8 * (0.375 + 0.5) / 2 = 2.5 + 3.5 = 6.0; mean 6 / 16 = 0.375
      PPO  area = 4 * (0.25 + 0.5) / 2 + 4 * (0.5 + 0.25) / 2 + 4 * (0.25 + 0.5) / 2 + 4 * (0.5 + 0.5) / 2
                = 1.5 + 1.5 + 1.5 + 2.0 = 6.5; mean 6.5 / 16 = 0.40625
    GRPO reward std across steps: deviations from 0.5 are ±0.25, ±0.125, 0 -> sqrt(0.15625 / 5) = 0.1768.

Held-out files (12 MBPP test tasks, one sample each): base = compare_baseline.jsonl, GRPO =
compare_candidate.jsonl, PPO = training_eval_ppo.jsonl.

    task  11 12 13 14 15 16 17 18 19 20 21 22
    base   P  F  F  F  P  F  P  F  F  P  F  F   4 passes
    grpo   P  P  P  F  F  P  P  P  P  P  P  P  10 passes
    ppo    P  F  P  F  P  F  P  F  P  P  F  F   6 passes

    grpo vs base: b = 1 (15), c = 7 -> p = 2 * (1 + 8) / 256 = 18/256
    ppo vs base:  b = 0, c = 2 (13, 19) -> p = 2 * 1/4 = 0.5
    grpo vs ppo:  b = 1 (15), c = 5 (12, 16, 18, 21, 22) -> p = 2 * (1 + 6) / 64 = 14/64 = 0.21875
"""

import json
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

import support

from codeself.reporting import training_metrics, training_report

F = support.FIXTURES
GRPO, PPO, RLOO = (F / f"training_{name}" / "metrics.jsonl" for name in ("grpo", "ppo", "rloo"))
EVALS = ("--baseline-eval", F / "compare_baseline.jsonl", "--grpo-eval", F / "compare_candidate.jsonl",
         "--ppo-eval", F / "training_eval_ppo.jsonl")
FAST = ("--bootstrap-resamples", "200", "--quiet")
CURVE_FIGURES = ("reward_vs_step.svg", "pass_rate_vs_step.svg", "validation_pass_rate.svg",
                 "reward_vs_samples.svg", "reward_vs_seconds.svg", "kl.svg", "clip_fraction.svg",
                 "entropy.svg", "completion_length.svg", "informative.svg")


def run(*args):
    return support.run_script("compare_training_smoke.py", *args, timeout=60)


class ReaderTest(unittest.TestCase):
    def write(self, tmp, text):
        path = Path(tmp, "metrics.jsonl")
        path.write_text(text, encoding="utf-8")
        return path

    def test_good_file(self):
        records, algorithm = training_metrics.load_metrics(GRPO)
        self.assertEqual(([r["step"] for r in records], algorithm), ([1, 2, 3, 4, 5], "grpo"))
        run_ = training_metrics.load_run("grpo", GRPO, "grpo")
        self.assertEqual(run_.config_hash, "a1b2c3d4e5f60718")
        self.assertEqual(run_.series("timing.elapsed_s")[-1], (5, 7.5))

    def test_bad_files_name_file_and_line(self):
        cases = {  # text -> expected message fragment
            '{"step": 1}\nnot json\n': ":2: invalid JSON",
            '{"step": 1}\n{"reward": 0.5}\n': ":2: record has no integer `step`",
            '{"step": 1}\n{"step": 2}\n{"step": 2}\n': ":3: step 2 does not increase",
            '{"step": 1, "reward": NaN}\n': ":1: `reward` must be a finite number",
            '{"step": 1, "samples": 8}\n{"step": 2, "samples": 4}\n': ":2: cumulative `samples` decreases",
            '{"step": 1, "algorithm": "grpo"}\n{"step": 2, "algorithm": "ppo"}\n': ":2: records of several",
            "\n": ": no records",
        }
        with tempfile.TemporaryDirectory() as tmp:
            for text, fragment in cases.items():
                path = self.write(tmp, text)
                with self.subTest(text=text), self.assertRaises(ValueError) as caught:
                    training_metrics.load_metrics(path)
                self.assertIn(f"{path}{fragment}", str(caught.exception))

    def test_algorithm_must_match_flag(self):
        with self.assertRaisesRegex(ValueError, "this run is 'ppo'; pass it as --ppo-metrics"):
            training_metrics.load_run("grpo", PPO, "grpo")


class NumbersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.runs = [training_metrics.load_run("grpo", GRPO, "grpo"), training_metrics.load_run("ppo", PPO, "ppo")]
        cls.summaries = [training_metrics.summarize_run(r) for r in cls.runs]

    def test_area_under_docstring_example(self):
        self.assertEqual(training_metrics.area_under([(0, 0), (10, 1)], 5, 10), 3.75)
        with self.assertRaises(ValueError):
            training_metrics.area_under([(0, 0), (10, 1)], 5, 11)

    def test_per_run_summary(self):
        grpo, ppo = self.summaries
        self.assertEqual(grpo["validation"]["final"], {"step": 5, "value": 0.6})
        self.assertEqual(ppo["validation"]["final"], {"step": 6, "value": 0.4})
        self.assertEqual(ppo["validation"]["best"], {"step": 3, "value": 0.5})
        self.assertEqual(ppo["reward"]["best"], {"step": 3, "value": 0.5})  # first step at the maximum
        self.assertAlmostEqual(grpo["reward"]["std_across_steps"], (0.15625 / 5) ** 0.5)
        self.assertAlmostEqual(grpo["stability"]["entropy_drop"], 0.3)
        self.assertEqual(grpo["stability"]["kl_max"], {"step": 5, "value": 0.03})
        # PPO logs no clip_ratio/*, so its clip fraction comes from policy/clipfrac_avg: 0.6 / 6
        self.assertEqual(ppo["stability"]["clip_key"], "policy/clipfrac_avg")
        self.assertAlmostEqual(ppo["stability"]["clip_mean"], 0.1)
        self.assertEqual(ppo["samples"], 24)
        self.assertEqual(ppo["wall_time_s"], 9.0)
        self.assertAlmostEqual(grpo["informative"]["mean_frac_tasks"], 0.7)  # (1 + .5 + 1 + .5 + .5) / 5
        self.assertEqual(grpo["informative"]["final_never_count"], {"step": 5, "value": 3})

    def test_sample_efficiency(self):
        eff = training_metrics.sample_efficiency(self.runs, self.summaries)
        self.assertEqual((eff["threshold"], eff["worst_run"], eff["range"]), (0.375, "ppo", [8, 24]))
        self.assertEqual(eff["runs"]["grpo"], {"threshold_step": 2, "threshold_samples": 16, "area": 6.0,
                                               "mean_reward": 0.375})
        self.assertEqual(eff["runs"]["ppo"], {"threshold_step": 3, "threshold_samples": 12, "area": 6.5,
                                              "mean_reward": 0.40625})

    def test_pairs_docstring_example(self):
        self.assertEqual(training_report.comparison_pairs(["grpo", "ppo", "rloo"], True),
                         [("grpo", "base"), ("ppo", "base"), ("rloo", "base"), ("grpo", "ppo"),
                          ("grpo", "rloo"), ("ppo", "rloo")])

    def test_needs_a_run(self):
        with self.assertRaisesRegex(ValueError, "at least one run"):
            training_report.build_report([])


class ScriptTest(unittest.TestCase):
    """Both fixture runs with held-out files, written twice into separate directories."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.results = []
        for name in ("a", "b"):
            out = Path(cls.tmp.name, name)
            cls.results.append(run("--grpo-metrics", GRPO, "--ppo-metrics", PPO, *EVALS, *FAST,
                                   "--output", out / "report.md", "--json-output", out / "report.json"))
        cls.out = Path(cls.tmp.name, "a")
        cls.text = (cls.out / "report.md").read_text(encoding="utf-8")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_and_quiet(self):
        for result in self.results:
            self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "", ""))

    def test_report_numbers(self):
        for expected in ("| grpo | 0.250 (step 1) | 0.750 (step 5) | 0.750 (step 5) | 75.0 % (step 5) | "
                         "60.0 % (step 5) | 60.0 % (step 5) |",
                         "| ppo | 0.250 (step 1) | 0.500 (step 6) | 0.500 (step 3) | 50.0 % (step 6) | "
                         "40.0 % (step 6) | 50.0 % (step 3) |",
                         "| grpo | grpo | `a1b2c3d4e5f60718` | 5 | 40 | 7.50 |",
                         "Threshold: reward **0.375**", "8 to 24 completions",
                         "| grpo | 2 | 16 | 6.000 | 0.375 |", "| ppo | 3 | 12 | 6.500 | 0.406 |",
                         "machine-dependent", "`policy/clipfrac_avg`",
                         "**Protocol warning:** `max_steps` differs between runs (grpo = `5`, ppo = `6`)."):
            self.assertIn(expected, self.text)

    def test_head_to_head(self):
        self.assertIn("never by comparing their p-values", self.text)
        self.assertIn("| grpo vs ppo | 12 | 10 | 6 | +33.3 |", self.text)
        self.assertIn("| 1 | 5 | 0.2188 |", self.text)
        document = json.loads((self.out / "report.json").read_text(encoding="utf-8"))
        p = {c["label"]: c["result"]["effects"]["first_sample"]["p_value"] for c in document["comparisons"]}
        self.assertEqual(p, {"grpo vs base": 18 / 256, "ppo vs base": 0.5, "grpo vs ppo": 14 / 64})

    def test_figures_parse(self):
        names = CURVE_FIGURES + ("outcomes_grpo_vs_base.svg", "outcomes_ppo_vs_base.svg", "outcomes_grpo_vs_ppo.svg")
        self.assertEqual(sorted(p.name for p in (self.out / "report_figures").iterdir()), sorted(names))
        for name in names:
            self.assertEqual(ET.parse(self.out / "report_figures" / name).getroot().tag,
                             "{http://www.w3.org/2000/svg}svg")
            self.assertIn(f"(report_figures/{name})", self.text)

    def test_byte_identical_rerun(self):
        other = Path(self.tmp.name, "b")
        for path in sorted(self.out.rglob("*")):
            if path.is_file():
                self.assertEqual(path.read_bytes(), (other / path.relative_to(self.out)).read_bytes(), path.name)


class ScriptErrorsTest(unittest.TestCase):
    def assert_refused(self, result, fragment, out):
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn(fragment, result.stderr)
        self.assertFalse(out.exists())

    def test_bad_metrics_file_writes_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "out")
            result = run("--grpo-metrics", GRPO, "--ppo-metrics", F / "training_metrics_bad_step.jsonl",
                         "--output", out / "report.md", *FAST)
            self.assert_refused(result, "training_metrics_bad_step.jsonl:3: step 2 does not increase", out)

    def test_no_run_refused_one_run_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "out")
            self.assert_refused(run("--output", out / "r.md"), "at least one run", out)
            result = run("--grpo-metrics", GRPO, "--output", out / "r.md")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(Path(out, "r_figures").is_dir())

    def test_three_runs_generic_run_and_no_config(self):
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp, "r.md")
            result = run("--grpo-metrics", GRPO, "--rloo-metrics", RLOO, "--run", f"trl={PPO}",
                         "--grpo-eval", F / "compare_candidate.jsonl", "--eval", f"trl={F / 'training_eval_ppo.jsonl'}",
                         "--output", report, *FAST)
            self.assertEqual(result.returncode, 0, result.stderr)
            text = report.read_text(encoding="utf-8")
            self.assertIn("# Training comparison: grpo vs rloo vs trl", text)
            self.assertIn("No `config.json` beside the metrics of `rloo`", text)
            self.assertIn("| grpo vs trl | 12 | 10 | 6 | +33.3 |", text)
            self.assertNotIn("vs base", text)


if __name__ == "__main__":
    unittest.main()
