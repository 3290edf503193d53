"""scripts/results_table.py: per-cell pass rates with their own intervals, answer form, bad input."""

import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.reporting import results_table
from codeself.reporting.stats import wilson_interval


def record(task, index, passed, finish, tokens):
    status = "passed" if passed else "failed"
    return {"task_id": task, "sample_index": index, "split": "test", "parse_status": "ok",
            "execution": {"status": status, "passed": passed, "public": {"passed": int(passed), "total": 1},
                          "hidden": {"passed": int(passed), "total": 1}, "isolation": "namespaces"},
            "reward": {"reward": float(passed)}, "metadata": {"finish_reason": finish, "completion_tokens": tokens}}


# Three tasks x 2 samples. First samples: a passes, b fails, c passes -> 2/3. Per-task fractions:
# a 1/2, b 1/2, c 2/2 -> mean 2/3 as well, but from other samples. Tokens 10..60 -> mean 35.
# Finish reasons: one "length" of 6 samples -> 16.7% cut.
ROWS = [record("t/a", 0, True, "eos", 10), record("t/a", 1, False, "eos", 20),
        record("t/b", 1, True, "stop", 30), record("t/b", 0, False, "length", 40),  # out of order on purpose
        record("t/c", 0, True, "eos", 50), record("t/c", 1, True, "eos", 60)]


class ResultsTableTest(unittest.TestCase):
    def write(self, directory, name, rows):
        path = Path(directory, name)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        return path

    def test_cell_numbers(self):
        with tempfile.TemporaryDirectory() as tmp:
            cell = results_table.read_cell(self.write(tmp, "r.jsonl", ROWS), seed=0, resamples=200)
        self.assertEqual((cell.tasks, cell.samples), (3, 6))
        self.assertEqual(cell.first_sample["passed"], 2)
        self.assertAlmostEqual(cell.first_sample["rate"], 2 / 3)
        self.assertEqual(cell.first_sample["ci"], list(wilson_interval(2, 3)))
        self.assertAlmostEqual(cell.mean_over_samples["rate"], 2 / 3)
        low, high = cell.mean_over_samples["ci"]
        self.assertTrue(0.5 <= low <= 2 / 3 <= high <= 1.0)  # resampled task fractions lie in {1/2, 1}
        self.assertEqual(cell.mean_completion_tokens, 35.0)
        self.assertEqual(cell.finish_reasons, {"length": 1, "stop": 1, "eos": 4})

    def test_script_table_and_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            first = self.write(tmp, "a.jsonl", ROWS)
            worse = self.write(tmp, "b.jsonl", [dict(row, execution=dict(row["execution"], passed=False,
                                                                           status="failed")) for row in ROWS])
            out, js = Path(tmp, "t.md"), Path(tmp, "t.json")
            result = support.run_script("results_table.py", "--cell", f"base:test={first}",
                                        "--cell", f"other:test={worse}", "--cell", f"base:val={first}",
                                        "--output", out, "--json-output", js)
            self.assertEqual((result.returncode, result.stderr), (0, ""), result.stderr)
            text, data = out.read_text(), json.loads(js.read_text())
            bad = [support.run_script("results_table.py", "--cell", cell, "--output", Path(tmp, "x.md"))
                   for cell in ("base-test=a.jsonl", f"base:test={Path(tmp, 'missing.jsonl')}")]
            twice = support.run_script("results_table.py", "--cell", f"base:test={first}", "--cell",
                                       f"base:test={first}", "--output", Path(tmp, "y.md"))
        self.assertEqual((data["rows"], data["columns"]), (["base", "other"], ["test", "val"]))
        self.assertIn("| base | 66.7 [20.8, 93.9] · 66.7 [", text)
        self.assertIn("| other | 0.0 [0.0, 56.1] · 0.0 [0.0, 0.0] (n=3) | - |", text)
        self.assertIn("| base | 35 tok · 16.7% cut | 35 tok · 16.7% cut |", text)
        self.assertNotIn("p =", text)
        for run in bad + [twice]:
            self.assertEqual(run.returncode, 2)
            self.assertEqual(len(run.stderr.strip().splitlines()), 1, run.stderr)
        self.assertIn("expected ROW:COLUMN=ROLLOUTS", bad[0].stderr)
        self.assertIn("base:test is given twice", twice.stderr)


if __name__ == "__main__":
    unittest.main()
