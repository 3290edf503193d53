"""Error-pattern analysis: the pure pieces on literal input, and scripts/analyze_errors.py end to end.

Fixtures (tests/fixtures/errors_*.jsonl), written by hand with known answers:
- errors_baseline.jsonl: 4 tasks x 2 samples, written before `error_category` existed (derived
  on load): reference 2 (NameError 'foo' / 'bar'), passed 2, syntax 1, timeout 1,
  wrong_answer 1 (expected [1, 2], got [2, 1]), no_code 1.
- errors_candidate.jsonl: the same samples later, with `error_category` stored: passed 4,
  index_key 1, wrong_answer 2, type_value 1.
- errors_training_steps.jsonl: a training run's rollouts, steps 2 then 1, three tasks each.
"""

import json
import tempfile
import unittest
from pathlib import Path

import support
from codeself.reporting.error_analysis import analyse, normalise_message

F = support.FIXTURES
BASELINE, CANDIDATE = F / "errors_baseline.jsonl", F / "errors_candidate.jsonl"
STEPS = F / "errors_training_steps.jsonl"


def nonzero(counts):
    return {key: value for key, value in counts.items() if value}


class NormaliseTest(unittest.TestCase):
    def test_numbers_names_and_values_are_masked(self):
        cases = {
            "name 'foo' is not defined": "name '<name>' is not defined",
            "'NoneType' object is not subscriptable": "'NoneType' object is not subscriptable",  # builtin type kept
            "'Foo' object has no attribute 'bar_2'": "'<name>' object has no attribute '<name>'",
            "invalid literal for int() with base 10: 'x y'": "invalid literal for int() with base <n>: '<str>'",
            "expected [1, 2], got [2, 1]": "expected <value>, got <value>",
            "expected a true value, got 0": "expected a true value, got <value>",
            "assertion failed: _v0 > 3 with _v0 = 1": "assertion failed: <judge> with <values>",
            "list index out of range  at line 12": "list index out of range at line <n>",
            "x1 has -3.5e-2 items": "x1 has <n> items",  # identifiers with digits are not numbers
        }
        for message, expected in cases.items():
            with self.subTest(message=message):
                self.assertEqual(normalise_message(message), expected)
        self.assertEqual(len(normalise_message("a" * 500)), 160)


class AnalyseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.analysis = analyse([str(BASELINE), str(CANDIDATE)])

    def test_counts_and_shares_per_file(self):
        first, last = self.analysis["files"]
        self.assertEqual(nonzero(first["counts"]), {"passed": 2, "no_code": 1, "syntax": 1, "reference": 2,
                                                    "wrong_answer": 1, "timeout": 1})
        self.assertEqual(nonzero(last["counts"]), {"passed": 4, "type_value": 1, "index_key": 1, "wrong_answer": 2})
        self.assertEqual((first["samples"], first["tasks"], first["failing"]), (8, 4, 6))
        self.assertEqual(first["shares"]["reference"], 2 / 8)
        self.assertEqual(list(first["counts"])[:3], ["passed", "no_code", "syntax"])  # every category, in order
        # LiveCodeBench: syntax -1; wrong answer -2; timeout -3; the two NameErrors in tests -4; no_code none
        self.assertEqual(first["lcb_error_codes"], {"-1": 1, "-2": 1, "-3": 1, "-4": 2, "-5": 0, "none": 1})

    def test_paired_transitions(self):
        t = self.analysis["transitions"]
        self.assertEqual((t["from"], t["to"], t["paired"], t["note"]),
                         ("errors_baseline.jsonl", "errors_candidate.jsonl", 8, None))
        self.assertEqual(t["unpaired"], {"from_only": 0, "to_only": 0})
        self.assertEqual(nonzero(t["table"]["reference"]), {"passed": 1, "index_key": 1})  # t/1 #0 fixed, #1 changed
        self.assertEqual(nonzero(t["table"]["timeout"]), {"wrong_answer": 1})
        self.assertEqual(nonzero(t["fixed"]), {"no_code": 1, "syntax": 1, "reference": 1})
        self.assertEqual(nonzero(t["appeared"]), {"type_value": 1})
        self.assertEqual(t["changed"], 6)  # all but passed->passed (t/2 #0) and wrong_answer->wrong_answer (t/3 #1)

    def test_most_frequent_messages_with_an_example(self):
        messages = self.analysis["messages"]
        self.assertEqual(messages["reference"], [{"error_type": "NameError", "message": "name '<name>' is not defined",
                                                  "count": 2, "example_task_id": "t/1",
                                                  "example_file": "errors_baseline.jsonl"}])
        self.assertEqual([(m["count"], m["message"]) for m in messages["wrong_answer"]],
                         [(3, "expected <value>, got <value>")])  # [1, 2] vs [2, 1], [3] vs [], 5 vs 4
        self.assertEqual(list(messages), ["no_code", "syntax", "reference", "type_value", "index_key",
                                          "wrong_answer", "timeout"])  # category order

    def test_per_split(self):
        splits = self.analysis["files"][0]["per_split"]
        self.assertEqual(nonzero(splits["test"]), {"passed": 1, "syntax": 1, "reference": 2})
        self.assertEqual(nonzero(splits["train"]), {"passed": 1, "no_code": 1, "wrong_answer": 1, "timeout": 1})

    def test_by_step_groups_in_step_order(self):
        analysis = analyse([str(STEPS)], by_step=True)
        self.assertEqual([(f["label"], f["step"]) for f in analysis["files"]], [("step 1", 1), ("step 2", 2)])
        self.assertEqual(nonzero(analysis["files"][0]["counts"]), {"passed": 1, "syntax": 1, "timeout": 1})
        self.assertEqual(nonzero(analysis["transitions"]["fixed"]), {"syntax": 1})

    def test_files_over_different_tasks_are_not_paired(self):
        analysis = analyse([str(BASELINE), str(STEPS)])
        self.assertIn("different tasks", analysis["transitions"]["note"])
        self.assertEqual(analysis["files"][1]["duplicate_samples"], 3)  # every step repeats (task, 0)


class ScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.out = Path(self.tmp.name)

    def run_script(self, *args):
        return support.run_script("analyze_errors.py", *args, "--quiet", timeout=120)

    def refused(self, *args):
        """As run_script, in this process (support.refusal): for runs refused before any work."""
        return support.refusal("analyze_errors.py", *args, "--quiet")

    def test_report_json_and_figure(self):
        done, again = support.run_scripts(  # the same command twice, at once: the same JSON bytes
            *(("analyze_errors.py", "--rollouts", BASELINE, CANDIDATE, "--output", self.out / f"{name}.md",
               "--json-output", self.out / f"{name}.json", "--quiet") for name in ("errors", "again")))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, f"2 group(s), 16 samples, 10 failing; report: {self.out / 'errors.md'}\n")
        report = (self.out / "errors.md").read_text()
        for section in ("## 1. Error categories per group", "## 2. Trend", "## 3. Paired transitions",
                        "## 4. Most frequent failure messages", "## 5. Per split"):
            self.assertIn(section, report)
        self.assertIn("| `reference` | 25.0 % | 0.0 % | -25.0 | 0.0 % | 25.0 % |", report)
        self.assertIn("| 2 | NameError | name '<name>' is not defined | `t/1` (errors_baseline.jsonl) |", report)
        self.assertIn("![Figure 1: error categories across groups](errors_figures/error_trend.svg)", report)
        chart = (self.out / "errors_figures" / "error_trend.svg").read_text()
        self.assertTrue(chart.startswith("<svg") and "reference" in chart)
        document = json.loads((self.out / "errors.json").read_text())
        self.assertEqual(document, json.loads(json.dumps(analyse([str(BASELINE), str(CANDIDATE)]))))
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual((self.out / "again.json").read_bytes(), (self.out / "errors.json").read_bytes())

    def test_training_rollouts_by_step(self):
        done = self.run_script("--rollouts", STEPS, "--by-step", "--output", self.out / "steps.md")
        self.assertEqual(done.returncode, 0, done.stderr)
        report = (self.out / "steps.md").read_text()
        self.assertIn("| 1 | step 1 |", report)
        self.assertIn("against the training step", report)

    def test_bad_input_is_one_line(self):
        directory = self.out / "adir"
        directory.mkdir()
        cases = [
            (("--rollouts", "/dev/null"), "--rollouts /dev/null: not a regular file"),
            (("--rollouts", directory), f"--rollouts {directory}: is a directory"),
            (("--rollouts", self.out / "missing.jsonl"), "missing.jsonl: no such file"),
            (("--rollouts", BASELINE, "--by-step"), "errors_baseline.jsonl:1: no 'step' field"),
            (("--rollouts", BASELINE, "--messages-per-category", "-1"), "--messages-per-category must be >= 0"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                done = self.refused(*args, "--output", self.out / "r.md")
                self.assertEqual(done.returncode, 2)
                self.assertIn(message, done.stderr)
                self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        bad = self.out / "bad.jsonl"
        bad.write_text('{"task_id": "t/1", "execution": {"status": "failed", "error_category": "typo"}}\n')
        done = self.refused("--rollouts", bad, "--output", self.out / "r.md")
        self.assertIn("bad.jsonl:1: execution.error_category 'typo' is not one of", done.stderr)
        refused = self.refused("--rollouts", BASELINE, "--output", BASELINE)
        self.assertIn("is also an input", refused.stderr)


class PipelineTest(unittest.TestCase):
    """Rollouts made by the real pipeline (mock backend, sandbox) at two correct fractions, and a
    smoke training run's rollouts. Two rounds of runs at once (support.run_scripts): the two mock
    runs with the training run; then the evaluation of one mock run with the training run's
    by-step analysis."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        tmp = Path(cls.tmp.name)
        tasks = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
        cls.mock_runs = [Path(tmp, f"mock-{fraction}.jsonl") for fraction in ("0.3", "0.9")]
        cls.training_run = Path(tmp, "run")
        first = {output: ("run_rollouts.py", "--tasks", tasks, "--backend", "mock", "--samples-per-task", "3",
                          "--seed", "0", "--mock-correct-fraction", fraction, "--workers", "1", "--output", output,
                          "--quiet", *support.FAST_TIMEOUTS)
                 for fraction, output in zip(("0.3", "0.9"), cls.mock_runs)}
        # its validation is not analysed: one sample per validation task
        first["training"] = ("train_grpo_smoke.py", "--tasks", tasks, "--output-dir", cls.training_run,
                             "--validation-samples", "1", "--quiet", *support.FAST_TIMEOUTS)
        cls.results = dict(zip(first, support.run_scripts(*first.values())))
        second = {}
        if cls.results[cls.mock_runs[0]].returncode == 0:
            second["evaluation"] = ("evaluate_rollouts.py", "--rollouts", cls.mock_runs[0], "--output",
                                    Path(tmp, "r.md"), "--json-output", Path(tmp, "m.json"), "--quiet")
        if cls.results["training"].returncode == 0:
            second["by step"] = ("analyze_errors.py", "--rollouts", cls.training_run / "rollouts.jsonl", "--by-step",
                                 "--output", Path(tmp, "steps.md"), "--json-output", Path(tmp, "steps.json"), "--quiet")
        cls.results.update(zip(second, support.run_scripts(*second.values())))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assert_succeeded(self, name) -> None:
        self.assertIn(name, self.results, f"{name} did not run: a run it needs failed")
        self.assertEqual(self.results[name].returncode, 0, self.results[name].stderr)

    def test_mock_runs_differing_only_in_correct_fraction(self):
        for run in self.mock_runs:
            self.assert_succeeded(run)
        self.assert_succeeded("evaluation")
        records = [json.loads(line) for line in self.mock_runs[0].read_text().splitlines()]
        analysis = analyse([str(path) for path in self.mock_runs])
        evaluation = json.loads(Path(self.tmp.name, "m.json").read_text())
        self.assertTrue(all("error_category" in r["execution"] for r in records))  # written by the pipeline
        self.assertEqual(analysis["files"][0]["counts"], evaluation["error_category_counts"])
        t = analysis["transitions"]
        self.assertEqual((t["paired"], t["note"]), (24, None))  # 8 example tasks x 3 samples
        # Raising the mock's correct fraction with the same seed only turns samples correct.
        self.assertEqual(sum(t["appeared"].values()), 0)
        self.assertGreater(sum(t["fixed"].values()), 0)

    def test_a_smoke_training_run_by_step(self):
        self.assert_succeeded("training")
        self.assert_succeeded("by step")
        metrics = [json.loads(line) for line in (self.training_run / "metrics.jsonl").read_text().splitlines()]
        analysis = json.loads(Path(self.tmp.name, "steps.json").read_text())
        # the trainer's per-step counts (metrics.jsonl) are the analysis' per-step counts
        self.assertEqual([(f["step"], f["counts"]) for f in analysis["files"]],
                         [(m["step"], m["error_categories"]) for m in metrics])
        self.assertEqual([sum(m["error_categories"].values()) for m in metrics], [m["num_samples"] for m in metrics])


if __name__ == "__main__":
    unittest.main()
