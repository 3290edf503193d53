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
    One sample per task, so the mean over samples is the first-sample rate and its exact
    sign-flip p (scores +1 x 7, -1 x 1) equals the exact McNemar p, 18/256.
"""

import itertools
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
        self.assertEqual(r["primary_effect"], "first_sample")
        first = r["effects"]["first_sample"]
        self.assertEqual((first["quantity"], first["test"]), ("first-sample pass rate", "mcnemar_exact"))
        self.assertEqual(first["counts"], {"both_pass": 3, "baseline_only": 1, "candidate_only": 7, "both_fail": 1})
        self.assertEqual(first["p_value"], 18 / 256)
        self.assertEqual(first["other_tests"]["mcnemar_midp"]["p_value"], 10 / 256)
        self.assertAlmostEqual(first["other_tests"]["mcnemar_asymptotic_cc"]["statistic"], 3.125)
        self.assertAlmostEqual(first["other_tests"]["mcnemar_asymptotic_cc"]["p_value"], math.erfc(1.25), places=15)
        self.assertAlmostEqual(first["baseline"], 4 / 12)
        self.assertAlmostEqual(first["candidate"], 10 / 12)
        self.assertAlmostEqual(first["difference"], 0.5)
        self.assertEqual(first["baseline_ci"], list(stats.wilson_interval(4, 12)))
        self.assertEqual(r["flipped"]["candidate_only"],
                         ["Mbpp/12", "Mbpp/13", "Mbpp/16", "Mbpp/18", "Mbpp/19", "Mbpp/21", "Mbpp/22"])
        self.assertEqual(r["flipped"]["baseline_only"], ["Mbpp/15"])
        self.assertAlmostEqual(r["effects"]["mean_reward"]["difference"], 0.5)
        self.assertIsNone(r["effects"]["mean_reward"]["p_value"])
        low, high = first["ci"]
        self.assertTrue(-1 <= low <= 0.5 <= high <= 1)
        mean = r["effects"]["mean_over_samples"]  # one sample per task: the same numbers, the same p
        self.assertEqual((mean["test"], mean["p_value"], mean["difference"]), ("sign_flip_exact", 18 / 256, 0.5))
        self.assertEqual(mean["counts"], {"tasks": 12, "candidate_higher": 7, "baseline_higher": 1, "tied": 4})

    def test_mde_and_verdict(self):
        r = self.result
        # fixed discordance psi = 8/12; mde is the smallest delta with Connor n <= 12
        psi = 8 / 12
        mde = r["effects"]["first_sample"]["mde_80"]
        self.assertLessEqual(power._connor_n(psi, mde, 0.05, 0.8), 12 + 1e-6)
        self.assertGreater(power._connor_n(psi, mde - 1e-3, 0.05, 0.8), 12)
        self.assertTrue(r["verdict"].startswith("Not significant at α = 0.05 by the primary test, exact McNemar "
                                                "on the first-sample pass rate (p = 0.0703)"))
        self.assertIn(f"{100 * mde:.1f} points", r["verdict"])
        self.assertNotIn("better", r["verdict"])

    def test_significant_verdict_names_direction(self):
        base = {f"t{i}": compare.TaskSamples(f"t{i}", "test", (i < 2,), None) for i in range(30)}
        cand = {f"t{i}": compare.TaskSamples(f"t{i}", "test", (i < 14,), None) for i in range(30)}
        # b = 0, c = 12: exact p = 2 / 2^12 = 0.000488
        r = compare.compare(base, cand, compare.CompareOptions(bootstrap_resamples=200))
        self.assertEqual(r["effects"]["first_sample"]["p_value"], 2 / 4096)
        self.assertTrue(r["verdict"].startswith("Significant at α = 0.05: the candidate is better than the "
                                                "baseline in first-sample pass rate by +40.0 points"))
        self.assertTrue(r["verdict"].endswith("exact McNemar on this same quantity: p = 0.0005."))
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
        self.assertEqual(r["effects"]["first_sample"]["counts"],
                         {"both_pass": 1, "baseline_only": 0, "candidate_only": 1, "both_fail": 0})
        self.assertEqual(r["other_splits_ignored"]["baseline"], {"train": 2, "validation": 1})
        self.assertIn("left out (2 train, 1 validation in --baseline)", compare.render_markdown(r, None))
        with self.assertRaises(ValueError) as caught:
            compare.compare(base, cand, compare.CompareOptions(split="nope", allow_non_test=True))
        self.assertIn("has no records in split 'nope' (it has ['test', 'train', 'validation'])",
                      str(caught.exception))

    def test_no_flips(self):
        r = compare.run_comparison(BASE, BASE, compare.CompareOptions(bootstrap_resamples=100))
        first = r["effects"]["first_sample"]
        self.assertEqual(first["p_value"], 1.0)
        self.assertIsNone(first["mde_80"])
        self.assertEqual(first["ci"], [0.0, 0.0])
        self.assertEqual(r["effects"]["mean_over_samples"]["p_value"], 1.0)
        self.assertIn("no task flipped", r["verdict"])

    def test_outcome_rules_on_multi_sample_files(self):
        # Samples (by sample_index 0,1,2; the files list them out of order):
        #   HE/0 base 100 cand 011 | HE/1 base 011 cand 110 | HE/2 base 000 cand 001 | HE/3 111 / 111
        # first:    base T F F T, cand F T F T -> 1 / 1 / 1 / 1
        # majority: base F T F T, cand T T F T -> both_pass 2, candidate_only 1, both_fail 1
        # any:      base T T F T, cand T T T T -> both_pass 3, candidate_only 1
        # mean over samples: per-task c/n base 1/3, 2/3, 0, 1 (mean 1/2), cand 2/3, 2/3, 1/3, 1 (mean 2/3);
        # differences 1/3, 0, 1/3, 0 -> scores x3: 1, 0, 1, 0; S = 2; |S*| >= 2 for (+,+), (-,-): p = 2/4
        expected = {"first": (1, 1, 1, 1), "majority": (2, 0, 1, 1), "any": (3, 0, 1, 0)}
        for rule, (bp, bo, co, bf) in expected.items():
            options = compare.CompareOptions(outcome=rule, allow_non_test=True, bootstrap_resamples=100)
            r = compare.run_comparison(MULTI_BASE, MULTI_CAND, options)
            with self.subTest(rule=rule):
                self.assertEqual(r["primary_effect"], compare.RULE_EFFECTS[rule])
                primary = r["effects"][r["primary_effect"]]
                self.assertEqual(primary["counts"], {"both_pass": bp, "baseline_only": bo,
                                                     "candidate_only": co, "both_fail": bf})
                self.assertEqual(primary["p_value"], stats.mcnemar_exact(bo, co))
                self.assertEqual(r["effects"]["first_sample"]["counts"],
                                 {"both_pass": 1, "baseline_only": 1, "candidate_only": 1, "both_fail": 1})
                mean = r["effects"]["mean_over_samples"]
                self.assertEqual((mean["baseline"], mean["candidate"]), (0.5, 2 / 3))
                self.assertEqual((mean["test"], mean["p_value"], mean["test_details"]["scale"]),
                                 ("sign_flip_exact", 0.5, 3))
                self.assertIsNone(r["effects"]["mean_reward"])
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
    def run_compare(self, tmp, *extra, baseline=BASE, candidate=CAND, run=support.run_script):
        """compare_final.py; refusals pass run=support.refusal (in this process, no interpreter start)."""
        out = Path(tmp) / "report.md"
        result = run("compare_final.py", "--baseline", baseline, "--candidate", candidate,
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
            self.assertIn("| first-sample pass rate | exact McNemar (primary) | b = 1, c = 7 | 0.0703 |", report)
            self.assertIn("| first-sample pass rate | mid-p McNemar | | 0.0391 |", report)
            self.assertIn("| first-sample pass rate (primary) | 33.3% | 83.3% | +50.0 [", report)
            self.assertNotIn("| mean pass rate over samples |", report)  # one sample per task: the same quantity
            self.assertIn("`Mbpp/15`", report)
            self.assertIn("![Per-task outcomes: one cell per task](report.outcomes.svg)", report)
            chart = ET.parse(Path(tmp) / "report.outcomes.svg").getroot()
            titles = [e.text for e in chart.iter("{http://www.w3.org/2000/svg}title")]
            self.assertIn("Mbpp/15: only baseline passes", titles)
            data = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
            self.assertEqual(data["schema_version"], 2)
            for key in ("first_sample", "mean_over_samples", "mean_reward"):
                self.assertIn(key, data["effects"])
            for key in ("mcnemar_exact_p", "diff", "table", "pass_at_1"):  # no ambiguous top-level effect or p
                self.assertNotIn(key, data)
            first_json = (Path(tmp) / "report.json").read_bytes()
            first_report = report
            result, out = self.run_compare(tmp)
            self.assertEqual((Path(tmp) / "report.json").read_bytes(), first_json)
            self.assertEqual(out.read_text(encoding="utf-8"), first_report)

    def test_different_task_sets_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            result, out = self.run_compare(tmp, candidate=support.FIXTURES / "compare_candidate_other_tasks.jsonl",
                                         run=support.refusal)
            self.assertEqual(result.returncode, 2)
            self.assertIn("compare_final.py: error: the files cover different tasks (1 only in --baseline, "
                          "e.g. ['Mbpp/22']; 1 only in --candidate, e.g. ['Mbpp/23'])", result.stderr)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1)
            self.assertFalse(out.exists())

    def test_missing_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            result, _ = self.run_compare(tmp, candidate=Path(tmp) / "nope.jsonl", run=support.refusal)
            self.assertEqual(result.returncode, 2)
            self.assertIn("nope.jsonl: no such file", result.stderr)
            self.assertNotIn("Traceback", result.stderr)

    def test_non_test_split(self):
        val_base = support.FIXTURES / "compare_baseline_validation.jsonl"
        val_cand = support.FIXTURES / "compare_candidate_validation.jsonl"
        with tempfile.TemporaryDirectory() as tmp:
            result, out = self.run_compare(tmp, baseline=val_base, candidate=val_cand, run=support.refusal)
            self.assertEqual(result.returncode, 2)
            self.assertIn("--baseline has no records in split 'test' (it has ['validation'])", result.stderr)
            result, out = self.run_compare(tmp, "--split", "validation", baseline=val_base, candidate=val_cand,
                                           run=support.refusal)
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
            result, _ = self.run_compare(tmp, "--allow-non-test", baseline=BASE, candidate=val_cand,
                                         run=support.refusal)
            self.assertEqual(result.returncode, 2)

    def test_refuses_overwriting_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "base.jsonl"
            copy.write_bytes(BASE.read_bytes())
            result = support.refusal("compare_final.py", "--baseline", copy, "--candidate", CAND,
                                     "--output", Path(tmp) / "r.md", "--json-output", copy)
            self.assertEqual(result.returncode, 2)
            self.assertIn("is also an input", result.stderr)
            self.assertEqual(copy.read_bytes(), BASE.read_bytes())


def brute_sign_flip_p(differences):
    """Two-sided sign-flip p by enumerating every sign vector (independent of stats' DP)."""
    observed = abs(sum(differences))
    vectors = list(itertools.product((1, -1), repeat=len(differences)))
    return sum(abs(sum(e * d for e, d in zip(signs, differences))) >= observed for signs in vectors) / len(vectors)


def table_rows(report, heading):
    """The cells of each row of the Markdown table under `heading`."""
    lines = report.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


class PValueBesideItsEffectTest(unittest.TestCase):
    """compare_final.py on data whose first-sample and mean-over-samples effects differ: every p
    in the Markdown and the JSON sits beside the effect of the quantity it tests.

    10 tasks x 4 samples (sample_index 0 first):
        t0-t5 base 0000 cand 0111 | t6 base 1000 cand 0111 | t7 base 0000 cand 1000
        t8 base 1111 cand 1111    | t9 base 0100 cand 0000
    first sample: b = 1 (t6), c = 1 (t7) -> difference 0, exact McNemar p = 1
    mean over samples: differences (in quarters) 3 x 6, 2, 1, 0, -1 -> +20/40 = +50.0 points;
        non-zero magnitudes 3,3,3,3,3,3,2,1,1 sum to T = 22, S = 20: |2P - 22| >= 20 needs
        P <= 1 (3 of the 512 sign vectors) or P >= 21 (3): p = 6/512 = 0.0117
    """

    BASE = ["0000"] * 6 + ["1000", "0000", "1111", "0100"]
    CAND = ["0111"] * 6 + ["0111", "1000", "1111", "0000"]

    @staticmethod
    def write(path, patterns):
        records = [{"task_id": f"t{task}", "split": "test", "sample_index": index,
                    "execution": execution(bit == "1")}
                   for task, pattern in enumerate(patterns) for index, bit in enumerate(pattern)]
        path.write_text("".join(json.dumps(r) + "\n" for r in reversed(records)), encoding="utf-8")
        return path

    @classmethod
    def setUpClass(cls):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            result = support.run_script("compare_final.py", "--baseline", cls.write(tmp / "b.jsonl", cls.BASE),
                                        "--candidate", cls.write(tmp / "c.jsonl", cls.CAND), "--output",
                                        tmp / "r.md", "--json-output", tmp / "r.json", "--bootstrap-resamples", "200")
            assert result.returncode == 0, result.stderr
            cls.report = (tmp / "r.md").read_text(encoding="utf-8")
            cls.data = json.loads((tmp / "r.json").read_text(encoding="utf-8"))
        # recomputed here, from the patterns alone
        first_b = sum(b[0] == "1" and c[0] == "0" for b, c in zip(cls.BASE, cls.CAND))
        first_c = sum(b[0] == "0" and c[0] == "1" for b, c in zip(cls.BASE, cls.CAND))
        diffs = [c.count("1") - b.count("1") for b, c in zip(cls.BASE, cls.CAND)]
        cls.expected = {
            "first-sample pass rate": ((first_c - first_b) / 10, min(1.0, 2 * sum(
                math.comb(first_b + first_c, i) for i in range(min(first_b, first_c) + 1)) / 2 ** (first_b + first_c))),
            "mean pass rate over samples": (sum(diffs) / 40, brute_sign_flip_p(diffs)),
        }

    def test_hand_worked_values(self):
        self.assertEqual(self.expected, {"first-sample pass rate": (0.0, 1.0),
                                         "mean pass rate over samples": (0.5, 6 / 512)})

    def test_json_blocks(self):
        effects = self.data["effects"]
        for key, (name, test) in {"first_sample": ("first-sample pass rate", "mcnemar_exact"),
                                  "mean_over_samples": ("mean pass rate over samples", "sign_flip_exact")}.items():
            with self.subTest(key=key):
                block = effects[key]
                self.assertEqual((block["quantity"], block["test"]), (name, test))
                difference, p = self.expected[name]
                self.assertAlmostEqual(block["difference"], difference, places=12)
                self.assertEqual(block["p_value"], p)
                self.assertLessEqual(block["ci"][0], difference)
                self.assertGreaterEqual(block["ci"][1], difference)
        self.assertEqual(effects["first_sample"]["counts"]["baseline_only"], 1)
        self.assertEqual(effects["mean_over_samples"]["counts"],
                         {"tasks": 10, "candidate_higher": 8, "baseline_higher": 1, "tied": 1})

    def test_markdown_rows(self):
        effects = table_rows(self.report, "## Effects")
        self.assertEqual([row[0] for row in effects], ["first-sample pass rate (primary)",
                                                       "mean pass rate over samples"])
        for quantity, _, _, difference, test, p in effects:
            expected_difference, expected_p = self.expected[quantity.removesuffix(" (primary)")]
            with self.subTest(quantity=quantity):
                self.assertTrue(difference.startswith(compare.points(expected_difference) + " ["), difference)
                self.assertEqual(p, compare.p_text(expected_p))
        self.assertIn("exact McNemar (b = 1, c = 1)", effects[0][4])
        self.assertIn("exact paired sign-flip over tasks", effects[1][4])
        for quantity, test, _, p in table_rows(self.report, "## Tests"):
            if test.startswith(("exact McNemar", "exact paired sign-flip")):
                with self.subTest(test=test):
                    self.assertEqual(p, compare.p_text(self.expected[quantity][1]))

    def test_verdict_names_its_quantity_and_test(self):
        verdict = self.data["verdict"]
        self.assertIn("by the primary test, exact McNemar on the first-sample pass rate (p = 1.0000)", verdict)
        self.assertIn("first-sample pass rate difference of +0.0 points", verdict)
        self.assertNotIn("+50.0", verdict)
        self.assertNotIn("0.0117", verdict)


if __name__ == "__main__":
    unittest.main()
