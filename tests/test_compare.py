"""Final paired comparison: numbers worked by hand from the fixture files, and the script
end to end on good and bad input.

Fixture tests/fixtures/compare_baseline.jsonl / compare_candidate.jsonl: 12 MBPP test tasks,
one sample each (the candidate file is in reverse order, so pairing must use task_id):

    task  11 12 13 14 15 16 17 18 19 20 21 22
    base   P  F  F  F  P  F  P  F  F  P  F  F   -> 4 passes
    cand   P  P  P  F  F  P  P  P  P  P  P  P   -> 10 passes

    both_pass = {11,17,20} = 3, candidate_only = {12,13,16,18,19,21,22} = 7 (c),
    baseline_only = {15} = 1 (b), both_fail = {14} = 1.
    exact McNemar: 2 * P(X <= 1 | 8, 1/2) = 2 * (1 + 8)/256 = 18/256 = 0.0703125
    mid-p: 18/256 - 8/256 = 10/256 = 0.0390625
    chi2 cc: (|7 - 1| - 1)^2 / 8 = 25/8 = 3.125, p = erfc(sqrt(3.125/2)) = erfc(1.25)
    rates 4/12 and 10/12, diff = 6/12 = 0.5; reward = 1 on pass, 0 on fail -> same diff.
"""

import json
import math
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

import support

from codeself.reporting import compare, power, stats
from codeself.reporting.records import SampleCount

BASE = support.FIXTURES / "compare_baseline.jsonl"
CAND = support.FIXTURES / "compare_candidate.jsonl"
MULTI_BASE = support.FIXTURES / "compare_multi_baseline.jsonl"
MULTI_CAND = support.FIXTURES / "compare_multi_candidate.jsonl"


def execution(passed):
    return {"status": "passed" if passed else "failed", "passed": passed}


class CompareNumbersTest(unittest.TestCase):
    def setUp(self):
        self.result = compare.run_comparison(BASE, CAND, compare.CompareOptions(bootstrap_resamples=500))

    def test_table_and_tests_match_hand_count(self):
        r = self.result
        self.assertEqual(r["n"], 12)
        self.assertEqual((r["split_status"], r["non_test_warning"]), ("locked_test", None))
        self.assertEqual(r["table"], {"both_pass": 3, "baseline_only": 1, "candidate_only": 7, "both_fail": 1})
        self.assertEqual(r["mcnemar_exact_p"], 18 / 256)
        self.assertEqual(r["mcnemar_midp"], 10 / 256)
        self.assertAlmostEqual(r["mcnemar_asymptotic"]["statistic"], 3.125)
        self.assertAlmostEqual(r["mcnemar_asymptotic"]["p"], math.erfc(1.25), places=15)
        self.assertAlmostEqual(r["baseline_rate"], 4 / 12)
        self.assertAlmostEqual(r["candidate_rate"], 10 / 12)
        self.assertAlmostEqual(r["diff"], 0.5)
        self.assertEqual(r["baseline_ci"], list(stats.wilson_interval(4, 12)))
        self.assertEqual(r["flipped"]["candidate_only"],
                         ["Mbpp/12", "Mbpp/13", "Mbpp/16", "Mbpp/18", "Mbpp/19", "Mbpp/21", "Mbpp/22"])
        self.assertEqual(r["flipped"]["baseline_only"], ["Mbpp/15"])
        self.assertAlmostEqual(r["reward"]["diff"], 0.5)
        low, high = r["diff_ci"]
        self.assertTrue(-1 <= low <= 0.5 <= high <= 1)

    def test_mde_and_verdict(self):
        r = self.result
        # fixed discordance psi = 8/12; mde is the smallest delta with Connor n <= 12
        psi = 8 / 12
        self.assertLessEqual(power._connor_n(psi, r["mde_80"], 0.05, 0.8), 12 + 1e-6)
        self.assertGreater(power._connor_n(psi, r["mde_80"] - 1e-3, 0.05, 0.8), 12)
        self.assertTrue(r["verdict"].startswith("Not significant at α = 0.05"))
        self.assertIn(f"{100 * r['mde_80']:.1f} points", r["verdict"])
        self.assertNotIn("better", r["verdict"])

    def test_significant_verdict_names_direction(self):
        base = {f"t{i}": compare.TaskSamples(f"t{i}", "test", (i < 2,), None) for i in range(30)}
        cand = {f"t{i}": compare.TaskSamples(f"t{i}", "test", (i < 14,), None) for i in range(30)}
        # b = 0, c = 12: exact p = 2 / 2^12 = 0.000488
        r = compare.compare(base, cand, compare.CompareOptions(bootstrap_resamples=200))
        self.assertEqual(r["mcnemar_exact_p"], 2 / 4096)
        self.assertTrue(r["verdict"].startswith("Significant at α = 0.05: the candidate is better"))
        r = compare.compare(cand, base, compare.CompareOptions(bootstrap_resamples=200))
        self.assertIn("the candidate is worse", r["verdict"])

    def test_split_mismatch_refused(self):
        base = {"t": compare.TaskSamples("t", None, (True,), None)}
        cand = {"t": compare.TaskSamples("t", "test", (True,), None)}
        options = compare.CompareOptions(allow_non_test=True, bootstrap_resamples=10)
        with self.assertRaises(ValueError) as caught:
            compare.compare(base, cand, options)
        self.assertIn("the files' splits differ", str(caught.exception))
        half = {"t": cand["t"], "u": compare.TaskSamples("u", None, (True,), None)}
        with self.assertRaises(ValueError) as caught:
            compare.compare(half, half, options)
        self.assertIn("mixes records with and without a split", str(caught.exception))

    def test_other_splits_are_set_aside(self):
        # Files covering every split: only the --split tasks are compared, the rest counted.
        def tasks(passes):
            splits = ["test", "train", "train", "validation", "test"]
            return {f"t{i}": compare.TaskSamples(f"t{i}", split, (p,), None)
                    for i, (split, p) in enumerate(zip(splits, passes))}
        base, cand = tasks([False, True, True, True, True]), tasks([True, False, False, False, True])
        r = compare.compare(base, cand, compare.CompareOptions(bootstrap_resamples=10))
        # test tasks t0 (F->T) and t4 (T->T)
        self.assertEqual(r["table"], {"both_pass": 1, "baseline_only": 0, "candidate_only": 1, "both_fail": 0})
        self.assertEqual(r["other_splits_ignored"]["baseline"], {"train": 2, "validation": 1})
        self.assertIn("left out (2 train, 1 validation in --baseline)", compare.render_markdown(r, None))
        with self.assertRaises(ValueError) as caught:
            compare.compare(base, cand, compare.CompareOptions(split="nope", allow_non_test=True))
        self.assertIn("has no records in split 'nope' (it has ['test', 'train', 'validation'])",
                      str(caught.exception))

    def test_no_flips(self):
        r = compare.run_comparison(BASE, BASE, compare.CompareOptions(bootstrap_resamples=100))
        self.assertEqual(r["mcnemar_exact_p"], 1.0)
        self.assertIsNone(r["mde_80"])
        self.assertEqual(r["diff_ci"], [0.0, 0.0])
        self.assertIn("no task flipped", r["verdict"])

    def test_outcome_rules_on_multi_sample_files(self):
        # Samples (by sample_index 0,1,2; the files list them out of order):
        #   HE/0 base 100 cand 011 | HE/1 base 011 cand 110 | HE/2 base 000 cand 001 | HE/3 111 / 111
        # first:    base T F F T, cand F T F T -> 1 / 1 / 1 / 1
        # majority: base F T F T, cand T T F T -> both_pass 2, candidate_only 1, both_fail 1
        # any:      base T T F T, cand T T T T -> both_pass 3, candidate_only 1
        expected = {"first": (1, 1, 1, 1), "majority": (2, 0, 1, 1), "any": (3, 0, 1, 0)}
        for rule, (bp, bo, co, bf) in expected.items():
            options = compare.CompareOptions(outcome=rule, allow_non_test=True, bootstrap_resamples=100)
            r = compare.run_comparison(MULTI_BASE, MULTI_CAND, options)
            with self.subTest(rule=rule):
                self.assertEqual(r["table"], {"both_pass": bp, "baseline_only": bo,
                                              "candidate_only": co, "both_fail": bf})
                # pass@1 = mean c/n: base (1/3 + 2/3 + 0 + 1)/4 = 1/2, cand (2/3+2/3+1/3+1)/4 = 2/3
                self.assertAlmostEqual(r["pass_at_1"]["baseline"], 0.5)
                self.assertAlmostEqual(r["pass_at_1"]["candidate"], 2 / 3)
                self.assertIsNone(r["reward"])
                self.assertIn("no split", r["non_test_warning"])
                self.assertEqual(r["split_status"], "unknown")
                self.assertIn("not confirmed as the locked test split", r["verdict"])

    def test_deterministic_for_same_seed(self):
        again = compare.run_comparison(BASE, CAND, compare.CompareOptions(bootstrap_resamples=500))
        self.assertEqual(json.dumps(self.result, sort_keys=True), json.dumps(again, sort_keys=True))


class LoadingTest(unittest.TestCase):
    def write(self, directory, lines):
        path = Path(directory) / "x.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        return path

    def test_bad_records(self):
        # records as execution writes them (compare reads them with evaluation's checks)
        ok, bad = execution(True), execution(False)
        cases = {
            "no boolean execution.passed": [{"task_id": "a", "execution": {"status": "passed"}}],
            "no string task_id": [{"execution": ok}],
            "task a sample_index 0 appears twice": [
                {"task_id": "a", "sample_index": 0, "execution": ok},
                {"task_id": "a", "sample_index": 0, "execution": bad}],
            "task a appears in two splits: test and train": [
                {"task_id": "a", "split": "test", "sample_index": 0, "execution": ok},
                {"task_id": "a", "split": "train", "sample_index": 1, "execution": ok}],
            "reward.reward must be a finite number": [{"task_id": "a", "execution": ok, "reward": {"reward": "1"}}],
        }
        with tempfile.TemporaryDirectory() as tmp:
            for message, lines in cases.items():
                with self.subTest(message=message), self.assertRaises(ValueError) as caught:
                    compare.load_task_samples(self.write(tmp, lines))
                self.assertIn(message, str(caught.exception))
                self.assertIn("x.jsonl:", str(caught.exception))

    def test_natural_order(self):
        self.assertEqual(sorted(["Mbpp/10", "Mbpp/2", "HumanEval/1"], key=compare.natural_key),
                         ["HumanEval/1", "Mbpp/2", "Mbpp/10"])


class SampleCountTest(unittest.TestCase):
    """The one per-task counter of samples (n) and passes (c), shared by compare and evaluation."""

    @staticmethod
    def sample(index, passed=True, split="test"):
        return {"sample_index": index, "passed": passed, "split": split}

    def test_counts_and_file_order_indices(self):
        count = SampleCount("t", "test")
        # samples 0 and 1 given, then two without an index: they become samples 2 and 3
        given = ((0, True), (1, False), (None, True), (None, False))
        self.assertEqual([count.add(self.sample(i, p)) for i, p in given], [0, 1, 2, 3])
        self.assertEqual((count.n, count.c), (4, 2))

    def test_refuses_what_would_make_n_or_c_wrong(self):
        count = SampleCount("t", "test")
        count.add(self.sample(3))
        with self.assertRaisesRegex(ValueError, "task t sample_index 3 appears twice"):
            count.add(self.sample(3))
        with self.assertRaisesRegex(ValueError, "task t appears in two splits: test and train"):
            count.add(self.sample(4, split="train"))
        self.assertEqual((count.n, count.c), (1, 1))


class CompareScriptTest(unittest.TestCase):
    def run_compare(self, tmp, *extra, baseline=BASE, candidate=CAND):
        out = Path(tmp) / "report.md"
        result = support.run_script("compare_final.py", "--baseline", baseline, "--candidate", candidate,
                                    "--output", out, "--json-output", Path(tmp) / "report.json",
                                    "--bootstrap-resamples", "300", *extra)
        return result, out

    def test_end_to_end(self):
        with tempfile.TemporaryDirectory() as tmp:
            result, out = self.run_compare(tmp)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr, "")
            self.assertIn("Not significant at α = 0.05", result.stdout)
            report = out.read_text(encoding="utf-8")
            self.assertTrue(report.startswith("# Final paired comparison"))
            self.assertIn("| **baseline passes** | 3 | 1 | 4 |", report)
            self.assertIn("| **baseline fails** | 7 | 1 | 8 |", report)
            self.assertIn("| exact McNemar (primary, two-sided) | b = 1, c = 7 | 0.0703 |", report)
            self.assertIn("| mid-p McNemar | | 0.0391 |", report)
            self.assertIn("`Mbpp/15`", report)
            self.assertIn("![Per-task outcomes: one cell per task](report.outcomes.svg)", report)
            chart = ET.parse(Path(tmp) / "report.outcomes.svg").getroot()
            titles = [e.text for e in chart.iter("{http://www.w3.org/2000/svg}title")]
            self.assertIn("Mbpp/15: only baseline passes", titles)
            data = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
            for key in ("n", "table", "baseline_rate", "candidate_rate", "diff", "diff_ci",
                        "mcnemar_exact_p", "mcnemar_midp", "mde_80"):
                self.assertIn(key, data)
            first_json = (Path(tmp) / "report.json").read_bytes()
            first_report = report
            result, out = self.run_compare(tmp)
            self.assertEqual((Path(tmp) / "report.json").read_bytes(), first_json)
            self.assertEqual(out.read_text(encoding="utf-8"), first_report)

    def test_different_task_sets_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            result, out = self.run_compare(tmp, candidate=support.FIXTURES / "compare_candidate_other_tasks.jsonl")
            self.assertEqual(result.returncode, 2)
            self.assertIn("compare_final.py: error: the files cover different tasks (1 only in --baseline, "
                          "e.g. ['Mbpp/22']; 1 only in --candidate, e.g. ['Mbpp/23'])", result.stderr)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1)
            self.assertFalse(out.exists())

    def test_missing_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            result, _ = self.run_compare(tmp, candidate=Path(tmp) / "nope.jsonl")
            self.assertEqual(result.returncode, 2)
            self.assertIn("nope.jsonl: no such file", result.stderr)
            self.assertNotIn("Traceback", result.stderr)

    def test_non_test_split(self):
        val_base = support.FIXTURES / "compare_baseline_validation.jsonl"
        val_cand = support.FIXTURES / "compare_candidate_validation.jsonl"
        with tempfile.TemporaryDirectory() as tmp:
            result, out = self.run_compare(tmp, baseline=val_base, candidate=val_cand)
            self.assertEqual(result.returncode, 2)
            self.assertIn("--baseline has no records in split 'test' (it has ['validation'])", result.stderr)
            result, out = self.run_compare(tmp, "--split", "validation", baseline=val_base, candidate=val_cand)
            self.assertEqual(result.returncode, 2)
            self.assertIn("not the locked test split; refusing", result.stderr)
            result, out = self.run_compare(tmp, "--split", "validation", "--allow-non-test",
                                           baseline=val_base, candidate=val_cand)
            self.assertEqual(result.returncode, 0, result.stderr)
            first_line = out.read_text(encoding="utf-8").splitlines()[0]
            self.assertIn("NOT A LOCKED-TEST RESULT", first_line)
            self.assertIn("'validation'", first_line)
            data = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
            self.assertEqual(data["split_status"], "non_test")
            self.assertIn("on split 'validation' (not the locked test split)", data["verdict"])
            # mixing a validation file with a test file is refused even with the flag
            result, _ = self.run_compare(tmp, "--allow-non-test", baseline=BASE, candidate=val_cand)
            self.assertEqual(result.returncode, 2)

    def test_refuses_overwriting_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "base.jsonl"
            copy.write_bytes(BASE.read_bytes())
            result = support.run_script("compare_final.py", "--baseline", copy, "--candidate", CAND,
                                        "--output", Path(tmp) / "r.md", "--json-output", copy)
            self.assertEqual(result.returncode, 2)
            self.assertIn("is also an input", result.stderr)
            self.assertEqual(copy.read_bytes(), BASE.read_bytes())


if __name__ == "__main__":
    unittest.main()
