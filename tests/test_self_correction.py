"""The self-correction report: per-run turn-2 vs turn-1 tests, feedback vs re-ask, model vs model,
and the hidden-test check on model input, on hand-built two-turn traces with known answers."""

import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.agents.agentic.trace import EpisodeTrace
from codeself.datasets.task import load_tasks
from codeself.reporting import self_correction as sc

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
TASKS = {task.task_id: task for task in load_tasks(EXAMPLES)}
HIDDEN = TASKS["example/digit_sum"].hidden_tests[0]


def turn(number: int, passed: bool, *, feedback: str = "fix it", shown=None, identical=False) -> dict:
    return {"turn": number, "shown": shown or [{"role": "user", "content": "task"}], "completion": "c", "code": "x",
            "parse_status": "fenced", "diff": "", "identical_to_previous": identical, "public_tests": [],
            "feedback": feedback, "execution": {"status": "passed" if passed else "failed"}, "hidden_tests": [],
            "progress": float(passed), "reward": 0.0}


def trace(sample: int, first: bool, second: bool, mode: str = "tests", **turn2) -> EpisodeTrace:
    return EpisodeTrace.from_json({
        "episode_id": f"e{sample}", "task_id": "example/digit_sum", "sample_index": sample, "split": "test",
        "mode": "solve", "backend": "hf", "model": "m", "template": "chat_default", "config_hash": "h", "seed": 0,
        "env": {"feedback": mode}, "prompt": [{"role": "user", "content": "Write digit_sum."}], "start": None,
        "turns": [turn(1, first), turn(2, second, **turn2)], "turns_used": 2, "stop_reason": "max_turns",
        "final": {}, "first_error_category": "failed", "reward": {}})


def run(model, outcomes, feedback="tests", shared=False):
    traces = [trace(i, a, b, feedback, identical=(a == b)) for i, (a, b) in enumerate(outcomes)]
    return sc.load_run(model, traces, TASKS, first_turn_shared=shared)


class SelfCorrectionTest(unittest.TestCase):
    def test_turn_two_against_turn_one(self):
        # 10 fixes, 2 regressions, 3 right twice, 5 wrong twice: exact McNemar 2 * (1 + 12 + 66) / 4096
        outcomes = [(False, True)] * 10 + [(True, False)] * 2 + [(True, True)] * 3 + [(False, False)] * 5
        metrics = sc.run_metrics(run("m", outcomes))
        self.assertEqual((metrics["fixes"], metrics["regressions"]), (10, 2))
        self.assertAlmostEqual(metrics["mcnemar_p_turn2_vs_turn1"], 2 * 79 / 4096)
        self.assertEqual((metrics["turn1_pass"]["k"], metrics["turn2_pass"]["k"]), (5, 13))
        self.assertAlmostEqual(metrics["difference"], 8 / 20)
        self.assertEqual((metrics["fix_rate"]["k"], metrics["fix_rate"]["n"]), (10, 15))
        self.assertEqual((metrics["regression_rate"]["k"], metrics["regression_rate"]["n"]), (2, 5))
        self.assertEqual(metrics["identical_resubmissions"]["k"], 8)

    def test_feedback_and_model_comparisons_are_paired(self):
        tests = run("a", [(False, True)] * 6 + [(False, False)] * 4, shared=True)
        none = run("a", [(False, True)] * 1 + [(False, False)] * 9, feedback="none", shared=True)
        other = run("b", [(True, True)] * 2 + [(False, False)] * 8)
        result = sc.compare_runs([tests, none, other])
        [effect] = result["feedback_vs_none"]
        self.assertEqual((effect["baseline_only"], effect["candidate_only"], effect["shared_first_turn"]), (0, 5, True))
        self.assertAlmostEqual(effect["mcnemar_p"], 2 / 32)
        turn2 = [row for row in result["between_models"] if row["candidate"] == "b/tests turn 2"][0]
        self.assertEqual((turn2["baseline_only"], turn2["candidate_only"]), (4, 0))  # b's two passes a also has
        with self.assertRaisesRegex(ValueError, "different episodes"):
            sc.paired(tests, run("c", [(False, False)] * 3), 2, 2)
        with self.assertRaisesRegex(ValueError, "two runs of a with feedback tests"):
            sc.compare_runs([tests, tests])

    def test_hidden_tests_in_model_input_are_found_and_replies_are_not_input(self):
        leaked = trace(0, False, False, feedback=f"failing: {HIDDEN}")
        own = trace(1, False, False, shown=[{"role": "assistant", "content": HIDDEN}, {"role": "user", "content": "ok"}])
        clean = sc.load_run("m", [own], TASKS)
        self.assertEqual(clean.leaks, [])
        dirty = sc.load_run("m", [leaked, own], TASKS)
        self.assertEqual(dirty.leaks, ["example/digit_sum#0: turn 2 feedback"])
        self.assertEqual(sc.compare_runs([dirty])["hidden_tests_in_input"], 1)
        with self.assertRaisesRegex(ValueError, "needs two-turn episodes"):
            one_turn = trace(0, False, False).to_json()
            one_turn["turns"] = one_turn["turns"][:1]
            sc.load_run("m", [EpisodeTrace.from_json(one_turn)], TASKS)

    def test_script_writes_the_report_and_refuses_bad_runs_in_one_line(self):
        script = support.load_script("compare_self_correction")
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for name, outcomes in (("tests", [(False, True), (True, True)]), ("none", [(False, False), (True, True)])):
                paths[name] = Path(tmp, f"{name}.jsonl")
                paths[name].write_text("".join(json.dumps(trace(i, a, b, name).to_json()) + "\n"
                                               for i, (a, b) in enumerate(outcomes)), encoding="utf-8")
            out = Path(tmp, "r.md")
            done = support.run_script("compare_self_correction.py", "--tasks", EXAMPLES, "--run", f"m={paths['tests']}",
                                      "--run", f"m={paths['none']}", "--output", out, "--json-output", Path(tmp, "r.json"))
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertIn("2 runs; hidden tests in model input: 0", done.stdout)
            self.assertEqual(json.loads(Path(tmp, "r.json").read_text())["runs"][0]["turn2_pass"]["k"], 2)
            report = out.read_text(encoding="utf-8")
            self.assertIn("| m/tests | 2 | 50.0% (1/2)", report)
            self.assertIn("| m/none turn 2 | m/tests turn 2 | 2 | +50.0 pts | 0 | 1 | 1 | no |", report)
            code, _, err = support.run_in_process(script, "--tasks", EXAMPLES, "--run", "nonsense", "--output", out)
            self.assertEqual((code, err.count("\n")), (2, 1), err)
            self.assertIn("expected MODEL=TRACES", err)


if __name__ == "__main__":
    unittest.main()
