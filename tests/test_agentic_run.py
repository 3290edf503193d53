"""run_agentic.py end to end, the mock reviser's reading of feedback, and the strategy metrics."""

import support

import json
import tempfile
import threading
import unittest
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import run_beside

from codeself.agents.agentic import feedback as fb
from codeself.agents.agentic.mock_reviser import MockReviser, ReviserConfig, read_feedback
from codeself.agents.agentic.report import INTENDED, EpisodeSummary, strategy_metrics
from codeself.agents.agentic.trace import EpisodeTrace, read_traces
from codeself.datasets.task import Task

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
TASK = Task(task_id="t/add", source="example", prompt="Add.", entry_point="add", starter_code="",
            public_tests=("assert add(1, 2) == 3",), hidden_tests=("assert add(2, 2) == 4",), setup_code="",
            reference_solution="def add(a, b):\n    return a + b\n", split="train", metadata={})
FAILING = "Your code was run on the public tests: 1 of 1 failed.\n\nFailed public test 1:\n    assert add(1, 2) == 3"


def call(*args: str) -> tuple:
    return ("run_agentic.py", "--tasks", EXAMPLES, "--backend", "mock", "--workers", "1", *support.FAST_TIMEOUTS, *args)


class MockReviserTest(unittest.TestCase):
    def observation(self, feedback: str, turn: int = 1, code: str = "def add(a, b):\n    return a - b\n") -> dict:
        return {"turn": turn, "mode": "solve", "feedback": feedback, "code": code, "messages": []}

    def test_reads_each_kind_of_feedback(self):
        self.assertEqual(read_feedback(FAILING), ("failing_test", 0))
        self.assertEqual(read_feedback(fb.NO_CODE_FEEDBACK), ("error", None))
        self.assertEqual(read_feedback(fb.ALL_PUBLIC_PASSED.format(total=3)), ("public_pass", None))
        self.assertEqual(read_feedback(fb.GENERIC_FEEDBACK), ("generic", None))
        self.assertEqual(read_feedback("Add two numbers."), ("reask", None))

    def test_choices_follow_the_feedback_and_the_configured_probabilities(self):
        reviser = MockReviser(ReviserConfig(fix_with_tests=0.6, resubmit=0.3, break_passing=0.2, fix_generic=0.25))
        chosen = {kind: Counter() for kind in ("failing", "pass", "generic")}
        texts = {"failing": FAILING, "pass": fb.ALL_PUBLIC_PASSED.format(total=1), "generic": fb.GENERIC_FEEDBACK}
        for seed in range(400):
            for kind, text in texts.items():
                reply = reviser.act(TASK, self.observation(text), sample_index=0, seed=seed)
                chosen[kind][reply.metadata["mock_intent"]] += 1
        self.assertEqual(set(chosen["failing"]), {"repair", "resubmit", "new_mutant"})
        self.assertEqual(set(chosen["pass"]), {"break", "keep"})
        self.assertEqual(set(chosen["generic"]), {"rewrite", "break", "resubmit"})
        # 400 draws: P(repair) 0.6 (sd 0.025), P(break | pass) 0.2 (sd 0.02), P(rewrite | generic) 0.25
        self.assertAlmostEqual(chosen["failing"]["repair"] / 400, 0.6, delta=0.08)
        self.assertAlmostEqual(chosen["failing"]["resubmit"] / 400, 0.4 * 0.3, delta=0.06)
        self.assertAlmostEqual(chosen["pass"]["break"] / 400, 0.2, delta=0.07)
        self.assertAlmostEqual(chosen["generic"]["rewrite"] / 400, 0.25, delta=0.07)

    def test_replies_do_what_they_intend(self):
        reviser = MockReviser()
        for seed in range(60):
            reply = reviser.act(TASK, self.observation(FAILING), sample_index=0, seed=seed)
            intent = reply.metadata["mock_intent"]
            if intent == "repair":
                self.assertIn("return a + b", reply.completion)
            elif intent == "resubmit":
                self.assertIn("return a - b", reply.completion)
        first = reviser.act(TASK, {**self.observation(None, turn=0)}, sample_index=0, seed=0)
        self.assertEqual(first.metadata["mock_intent"], "first_attempt")
        again = reviser.act(TASK, self.observation("Add."), sample_index=0, seed=0)
        self.assertEqual(again.metadata["mock_intent"], "resample")


class StrategyMetricsTest(unittest.TestCase):
    def test_known_answers(self):
        # four episodes of two tasks; solve mode, up to 2 turns:
        #   a: wrong -> right (fix)     b: right (stopped)     c: wrong -> wrong     d: right -> wrong (regression)
        summaries = [EpisodeSummary("t1", [False, True], None, True, True, "wrong_answer", identical=[False], sizes=[2]),
                     EpisodeSummary("t1", [True], None, True, True, "passed"),
                     EpisodeSummary("t2", [False, False], None, False, False, "timeout", identical=[True], sizes=[0]),
                     EpisodeSummary("t2", [True, False], None, True, False, "passed", identical=[False], sizes=[4])]
        metrics = strategy_metrics(summaries, resamples=200)
        # pass@1 after turn 1: t1 (0 + 1)/2, t2 (0 + 1)/2 -> 0.5; after turn 2: t1 1.0, t2 0.0 -> 0.5
        self.assertEqual([t["mean"] for t in metrics["pass_at_1_by_turn"]], [0.5, 0.5])
        self.assertEqual(metrics["first_final"], {"i→c": 1, "c→i": 1, "i→i": 1, "c→c": 1})
        self.assertEqual((metrics["fix_rate"]["rate"], metrics["regression_rate"]["rate"]), (0.5, 0.5))
        self.assertEqual(metrics["transitions"], [{"pair": "1→2", "i→c": 1, "c→i": 1, "i→i": 1, "c→c": 0}])
        self.assertEqual(metrics["public_pass_hidden_fail"]["successes"], 1)  # d
        self.assertEqual(metrics["identical_resubmission"]["rate"], 1 / 3)
        self.assertEqual((metrics["revision_size"]["mean"], metrics["revision_size"]["median"]), (2.0, 2.0))
        self.assertEqual(metrics["turns_used"]["counts"], {"1": 1, "2": 3})
        categories = {row["category"]: row["episodes"] for row in metrics["by_first_category"]}
        self.assertEqual(categories, {"passed": 2, "wrong_answer": 1, "timeout": 1})

    def test_episodes_without_public_tests_are_counted_apart(self):
        summaries = [EpisodeSummary("t1", [True], None, True, False, "passed"),
                     EpisodeSummary("nopub", [False, True], None, None, True, "wrong_answer", identical=[False]),
                     EpisodeSummary("nopub", [True, True], None, None, False, "passed", identical=[True])]
        metrics = strategy_metrics(summaries, resamples=200)
        self.assertEqual(metrics["no_public_tests"], {"episodes": 2, "tasks": 1})
        # the vacuous public pass of "nopub" is not a "public pass, hidden fail"
        self.assertEqual((metrics["public_pass_hidden_fail"]["successes"], metrics["public_pass_hidden_fail"]["n"]),
                         (1, 1))
        from codeself.agents.agentic.report_markdown import render_markdown
        self.assertIn("no public test (no stop on a public pass, feedback says nothing was checked): 2 of 3 (1 task(s))",
                      render_markdown(metrics, "figures"))


class RunAgenticScriptTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """The runs the tests below read, all at once (independent: own outputs): the same command
        twice (a, b: determinism, report, intents; a's records also round-trip), and a repair run
        in full and limited to 3 tasks (the resume test finishes the latter)."""
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        cls.dir = Path(tmp.name)
        cls.names = ("a", "b")
        cls.full, cls.part = cls.dir / "full.jsonl", cls.dir / "part.jsonl"
        *cls.same_runs, cls.full_run, cls.part_run = run_beside(  # a in this process, the others as processes
            *(call("--trace-output", cls.dir / f"{name}.jsonl", "--report-output", cls.dir / f"{name}.md",
                   "--samples-per-task", "3", "--max-revisions", "2", "--no-stop-when-public-pass", "--quiet")
              for name in cls.names),
            call("--trace-output", cls.full, "--mode", "repair", "--quiet"),
            call("--trace-output", cls.part, "--mode", "repair", "--limit", "3", "--quiet"))

    def test_traces_report_determinism_and_intents(self):
        outputs = []
        for name, done in zip(self.names, self.same_runs):
            out, report = self.dir / f"{name}.jsonl", self.dir / f"{name}.md"
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertIn("wrote 24 episode(s)", done.stdout)
            outputs.append([t.deterministic_json() for t in read_traces(out)])
        self.assertEqual(outputs[0], outputs[1])
        text = report.read_text(encoding="utf-8")
        for heading in ("pass@1 after each turn", "Transition table", "By error category", "intended vs achieved"):
            self.assertIn(heading, text)
        self.assertTrue(Path(self.dir, "b_figures", "pass_by_turn.svg").is_file())
        for record in outputs[0]:
            for turn in record["turns"]:
                intent = turn["metadata"].get("mock_intent")
                if INTENDED.get(intent) == "passes":
                    self.assertEqual(turn["execution"]["status"], "passed", intent)
                elif INTENDED.get(intent) == "fails":
                    self.assertNotEqual(turn["execution"]["status"], "passed", intent)
                elif INTENDED.get(intent) == "identical":
                    self.assertTrue(turn["identical_to_previous"], intent)

    def test_resume_and_static_replay(self):
        full, part = self.full, self.part
        self.assertEqual([self.full_run.returncode, self.part_run.returncode], [0, 0])
        replay = self.dir / "replay.jsonl"
        # the full run's turns replayed (in this process), and the resume (a process), at once: the
        # replay reads only the full run
        done, resumed = run_beside(
            ("run_agentic.py", "--tasks", EXAMPLES, "--backend", "static", "--completions", full, "--mode", "repair",
             "--trace-output", replay, "--workers", "1", "--quiet"),
            call("--trace-output", part, "--mode", "repair", "--resume", "--quiet"))
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        strip = lambda path: [t.deterministic_json() for t in read_traces(path)]  # noqa: E731
        total = len(strip(part))  # the resume states its new episodes, the file's total and the kept ones
        self.assertIn(f"wrote {total - 3} new episode(s) to {part} ({total} in the file, 3 kept from before); "
                      f"final submissions of the {total - 3} new: ", resumed.stdout)
        self.assertEqual(strip(full), strip(part))
        refused = support.refusal(*call("--trace-output", part, "--mode", "solve", "--resume", "--quiet"))
        self.assertEqual(refused.returncode, 2)
        self.assertIn("cannot resume", refused.stderr)
        self.assertEqual(done.returncode, 0, done.stderr)
        finals = lambda path: [(t.task_id, t.final["passed"], t.turns_used) for t in read_traces(path)]  # noqa: E731
        self.assertEqual(finals(full), finals(replay))

    def test_bad_input_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "t.jsonl")
            cases = [(("--backend", "nope"), "unknown backend 'nope'"),
                     (("--max-revisions", "-1"), "--max-revisions must be an integer >= 0"),
                     (("--feedback", "loud"), "unknown feedback 'loud'"),
                     (("--backend", "static"), "needs --completions")]
            for args, message in cases:
                done = support.refusal("run_agentic.py", "--tasks", EXAMPLES, "--trace-output", out,
                                       "--backend", "mock", *args)
                self.assertEqual(done.returncode, 2, args)
                self.assertIn(message, done.stderr)
                self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            out.write_text("x")
            exists = support.refusal(*call("--trace-output", out))
            self.assertIn("already exists", exists.stderr)

    def test_trace_records_round_trip(self):
        for out in (self.dir / "a.jsonl", self.full):  # solve and repair episodes, as written by the runs
            lines = out.read_text().splitlines()
            self.assertTrue(lines, out)
            for line in lines:
                record = json.loads(line)
                self.assertEqual(EpisodeTrace.from_json(record).to_json(), record)


class ChatServer(ThreadingHTTPServer):
    """An OpenAI-compatible chat endpoint: a wrong digit_sum first, the right one once told what failed."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.bodies: list[dict] = []


class ChatHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        told = "Failed public test" in body["messages"][-1]["content"]
        code = "return sum(int(d) for d in str(n))" if told else "return n % 10"
        content = f"```python\ndef digit_sum(n):\n    {code}\n```"
        data = json.dumps({"choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ChatAgentTest(unittest.TestCase):
    def test_feedback_is_the_next_user_message(self):
        server = ChatServer()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                tasks, out = Path(tmp, "tasks.jsonl"), Path(tmp, "t.jsonl")
                tasks.write_text(EXAMPLES.read_text().splitlines()[0] + "\n")  # example/digit_sum
                # in this process (the script runs as a process in RunAgenticScriptTest): main() as the script calls it
                code, _, err = support.run_in_process(
                    support.load_script("run_agentic"), "--tasks", tasks, "--trace-output", out, "--backend", "openai",
                    "--model", "fake", "--base-url", f"http://127.0.0.1:{server.server_address[1]}/v1", "--workers",
                    "1", "--max-revisions", "2", "--quiet")
                self.assertEqual(code, 0, err)
                [trace] = list(read_traces(out))
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual((trace.turns_used, trace.final["passed"], trace.stop_reason), (2, True, "public_pass"))
        first, second = server.bodies
        self.assertEqual([m["role"] for m in second["messages"]], ["system", "user", "assistant", "user"])
        self.assertEqual(second["messages"][2]["content"], trace.turns[0].completion)
        self.assertEqual(second["messages"][3]["content"], trace.turns[0].feedback)
        self.assertNotEqual(first["seed"], second["seed"])  # each turn has its own seed
        self.assertEqual(trace.turns[1].shown, [{"role": "user", "content": trace.turns[0].feedback}])


if __name__ == "__main__":
    unittest.main()
