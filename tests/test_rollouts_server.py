"""Rollouts with the `openai` backend against the stdlib stand-in server: samples streamed in
order, a server that drops connections mid-run (one-line error, nothing lost, `--resume`
finishes the same file), and `scripts/bench_rollouts.py` end to end (the last two start together:
setUpModule)."""

import json
import tempfile
import unittest
import urllib.request
from pathlib import Path

import support
from support import finish_script, run_beside, start_script

from codeself.agents.backends.standin_server import NO_ANSWER, StandInServer
from codeself.agents.templates import load_template, render_prompt
from codeself.datasets.task import load_tasks

TASKS = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


def reference_answers():
    template = load_template("chat_default")
    return {render_prompt(template, task.public_view())[-1]["content"]: f"```python\n{task.reference_solution}\n```"
            for task in load_tasks(TASKS)}


def post(server, content):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]}).encode()
    request = urllib.request.Request(server.base_url + "/chat/completions", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["choices"][0]["message"]["content"]


class StandInServerTest(unittest.TestCase):
    def test_answers_by_prompt_then_drops_then_recovers(self):
        server = StandInServer({"hi": "hello"}, drop_from=3).start()
        self.addCleanup(server.stop)
        self.assertEqual(post(server, "hi"), "hello")  # request 1
        self.assertEqual(post(server, "other"), NO_ANSWER)  # request 2
        with self.assertRaises(OSError):  # request 3: the connection closes unanswered
            post(server, "hi")
        server.recover()
        self.assertEqual(post(server, "hi"), "hello")
        self.assertEqual((server.requests, server.dropped), (4, 1))


def rollouts_call(server, output, *extra) -> tuple:
    return ("run_rollouts.py", "--tasks", TASKS, "--output", output, "--backend", "openai", "--model", "stand-in",
            "--base-url", server.base_url, "--samples-per-task", "3", "--concurrency", "2", "--max-retries", "1",
            "--workers", "2", "--quiet", *extra)


_STARTED: dict = {}  # what setUpModule set up and started
_DONE: dict = {}  # name -> CompletedProcess of a started run, once collected


def setUpModule():
    """The module's two slowest script runs start at once, before its tests: bench_rollouts.py
    (BenchRolloutsTest) and rollouts from a stand-in server that dies after 9 answers
    (DroppedConnectionsTest), which spends most of its time waiting out its retry back-off. Each
    test collects its own run (`collect`) and asserts on it; runs no test collected are
    collected at module cleanup."""
    tmp = tempfile.TemporaryDirectory()
    unittest.addModuleCleanup(tmp.cleanup)
    server = StandInServer(reference_answers(), drop_from=10).start()
    unittest.addModuleCleanup(server.stop)
    bench_tasks = Path(tmp.name, "bench_tasks.jsonl")  # two of the examples: both scenarios, not the figures
    bench_tasks.write_text("".join(TASKS.read_text().splitlines(keepends=True)[:2]))
    broken = Path(tmp.name, "broken.jsonl")
    _STARTED.update(dir=Path(tmp.name), server=server, broken_output=broken)
    for name, call in (("bench", ("bench_rollouts.py", "--tasks", bench_tasks, "--samples-per-task", "2",
                                  "--generation-latency", "0.02", "--program-sleep", "0.01", "--workers", "1")),
                       ("broken", rollouts_call(server, broken))):
        _STARTED[name] = start_script(*call)
        unittest.addModuleCleanup(collect, name)  # runs first: the server and files outlive the runs


def collect(name: str):
    if name not in _DONE:
        _DONE[name] = finish_script(_STARTED[name])
    return _DONE[name]


class DroppedConnectionsTest(unittest.TestCase):
    def test_one_line_error_then_resume_finishes_the_same_file(self):
        server, broken = _STARTED["server"], _STARTED["broken_output"]  # a server that dies after 9 answers
        failed = collect("broken")
        self.assertEqual(failed.returncode, 2, failed.stderr)
        self.assertEqual(failed.stderr.count("\n"), 1, failed.stderr)
        self.assertRegex(failed.stderr, r"^run_rollouts\.py: error: openai backend: POST .* failed after 2 "
                                        r"attempt\(s\): cannot connect: ")
        kept = broken.read_text().splitlines()
        self.assertTrue(0 < len(kept) < 24, len(kept))  # what was answered in order is written

        server.recover()
        # the resume, and a whole run never interrupted, at once on the same (recovered) server:
        # it answers by prompt, so neither run sees the other's requests. The whole run is the
        # script's main() in this process, the resume a process
        whole = _STARTED["dir"] / "whole.jsonl"
        done, resumed = run_beside(rollouts_call(server, whole), rollouts_call(server, broken, "--resume"))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn(f"(24 in the file, {len(kept)} kept from before)", resumed.stdout)

        def without_timing(path):
            return [{k: v for k, v in json.loads(line).items() if k != "timing"}
                    for line in path.read_text().splitlines()]
        self.assertEqual(without_timing(broken), without_timing(whole))
        self.assertEqual(len(without_timing(whole)), 24)


class BenchRolloutsTest(unittest.TestCase):
    def test_prints_both_scenarios(self):
        result = collect("bench")
        self.assertEqual(result.returncode, 0, result.stderr)
        for expected in ("generation-bound:", "execution-bound:", "generation only", "execution only",
                         "rollouts, batch by batch", "rollouts / generation only = ", "rollouts / execution only = "):
            self.assertIn(expected, result.stdout)

    def test_bad_flags_are_one_line(self):
        result = support.refusal("bench_rollouts.py", "--rounds", "0")  # in this process: refused before any work
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr, "bench_rollouts.py: error: --samples-per-task, --workers, --concurrency and "
                                        "--rounds must be >= 1\n")


if __name__ == "__main__":
    unittest.main()
