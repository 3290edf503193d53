"""Agentic episodes on real MBPP (needs $CODESELF_DATA_DIR): the mock reviser achieves what it
intends, its choices follow its configured probabilities, and canaries planted in every hidden
test of the real tasks reach no model-visible field."""

import support

import json
import tempfile
import unittest
from collections import Counter
from pathlib import Path

from test_agentic_canary import CANARY, visible_values
from support import run_beside

from codeself.agents.agentic.report import INTENDED


class AgenticMBPPTest(unittest.TestCase):
    def test_mock_episodes_on_real_tasks(self):
        with tempfile.TemporaryDirectory() as tmp:
            tasks = support.prepare_real_mbpp(self, tmp)
            planted = Path(tmp, "planted.jsonl")
            with open(tasks, encoding="utf-8") as source, open(planted, "w", encoding="utf-8") as out:
                for line in source:
                    record = json.loads(line)
                    record["hidden_tests"] = [test + f"  # {CANARY}" for test in record["hidden_tests"]]
                    out.write(json.dumps(record) + "\n")
            readings: dict[str, Counter] = {}
            modes = ("solve", "repair")
            runs = run_beside(*(("run_agentic.py", "--tasks", planted, "--split", "test", "--limit", "40",
                                 "--trace-output", Path(tmp, f"{mode}.jsonl"), "--backend", "mock", "--mode", mode,
                                 "--samples-per-task", "2", "--max-revisions", "2", "--no-stop-when-public-pass",
                                 "--workers", "2", "--quiet", *support.FAST_TIMEOUTS)
                                for mode in modes))  # the two modes at once, solve in this process
            for mode, done in zip(modes, runs):
                traces = Path(tmp, f"{mode}.jsonl")
                self.assertEqual(done.returncode, 0, done.stderr)
                records = [json.loads(line) for line in traces.read_text(encoding="utf-8").splitlines()]
                self.assertGreaterEqual(len(records), 60, done.stdout)  # repair skips tasks without a public-failing mutant
                for record in records:
                    for name, value in visible_values(record):
                        self.assertNotIn(CANARY, json.dumps(value, ensure_ascii=False), f"{record['task_id']} {name}")
                    for turn in record["turns"]:
                        intent, read = turn["metadata"].get("mock_intent"), turn["metadata"].get("mock_read")
                        if read:
                            readings.setdefault(read, Counter())[intent] += 1
                        expected = INTENDED.get(intent)
                        if expected == "passes":
                            self.assertEqual(turn["execution"]["status"], "passed", (record["task_id"], intent))
                        elif expected == "fails":
                            self.assertNotEqual(turn["execution"]["status"], "passed", (record["task_id"], intent))
                        elif expected == "identical":
                            self.assertTrue(turn["identical_to_previous"], (record["task_id"], intent))
            failing = readings["failing_test"] + readings.get("error", Counter())
            share = failing["repair"] / sum(failing.values())
            self.assertAlmostEqual(share, 0.6, delta=0.12, msg=f"repair share {share:.2f} of {sum(failing.values())}")
            passing = readings["public_pass"]
            self.assertAlmostEqual(passing["break"] / sum(passing.values()), 0.2, delta=0.1)


if __name__ == "__main__":
    unittest.main()
