"""compare_final.py over the 500 real MBPP test-split tasks (ids 11-510, the official split).

The two rollout files are synthesised here with seeded, different accuracies (the mock
generation backend is another module's job); the test then counts the 2x2 table itself and
checks that the report and JSON carry exactly those counts and the matching exact p-value.
"""

import json
import random
import tempfile
import unittest
from pathlib import Path

import support

from codeself.jsonl import iter_jsonl
from codeself.reporting import stats


def rollout(task_id, passed, model):
    return {"rollout_id": f"{model}-{task_id}-0", "task_id": task_id, "sample_index": 0, "split": "test",
            "backend": "mock", "model": model, "parse_status": "ok",
            "execution": {"status": "passed" if passed else "failed", "passed": passed, "isolation": "rlimits"},
            "reward": {"name": "reward_v0_correctness", "reward": 1.0 if passed else 0.0}}


class CompareOnMbppTest(unittest.TestCase):
    def test_report_matches_hand_count(self):
        mbpp = support.data_file(self, "mbpp.jsonl")
        task_ids = [f"Mbpp/{r['task_id']}" for r in iter_jsonl(mbpp) if 11 <= r["task_id"] <= 510]
        self.assertEqual(len(task_ids), 500)
        rng = random.Random(2024)
        base = {t: rng.random() < 0.40 for t in task_ids}
        # candidate keeps 90% of the baseline's passes and solves 20% of its failures
        cand = {t: rng.random() < (0.90 if base[t] else 0.20) for t in task_ids}
        counts = {"both_pass": 0, "baseline_only": 0, "candidate_only": 0, "both_fail": 0}
        for t in task_ids:
            key = {(True, True): "both_pass", (True, False): "baseline_only",
                   (False, True): "candidate_only", (False, False): "both_fail"}[(base[t], cand[t])]
            counts[key] += 1
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for name, outcome in (("base", base), ("cand", cand)):
                paths[name] = Path(tmp) / f"{name}.jsonl"
                order = sorted(task_ids, key=lambda t: rng.random())  # file order must not matter
                paths[name].write_text("".join(json.dumps(rollout(t, outcome[t], name)) + "\n" for t in order),
                                       encoding="utf-8")
            result = support.run_script("compare_final.py", "--baseline", paths["base"], "--candidate",
                                        paths["cand"], "--output", Path(tmp) / "final.md",
                                        "--json-output", Path(tmp) / "final.json")
            self.assertEqual(result.returncode, 0, result.stderr)
            data = json.loads((Path(tmp) / "final.json").read_text(encoding="utf-8"))
            report = (Path(tmp) / "final.md").read_text(encoding="utf-8")
        first = data["effects"]["first_sample"]
        self.assertEqual(first["counts"], counts)
        b, c = counts["baseline_only"], counts["candidate_only"]
        self.assertEqual(first["p_value"], stats.mcnemar_exact(b, c))
        self.assertAlmostEqual(first["difference"], (c - b) / 500)
        self.assertIn(f"| **baseline passes** | {counts['both_pass']} | {b} |", report)
        self.assertIn(f"| **baseline fails** | {c} | {counts['both_fail']} |", report)
        self.assertEqual(len(data["flipped"]["candidate_only"]), c)


if __name__ == "__main__":
    unittest.main()
