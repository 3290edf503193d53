import json
import tempfile
import unittest
from pathlib import Path

import support  # noqa: F401
from support import in_process, run_beside

from codeself.agents.parsing import ParseResult
from codeself.agents.pipeline import not_executed_result
from codeself.agents.rollout import Rollout, rollout_id
from codeself.agents.rollout_output import RolloutWriter, read_done, sidecar_path
from codeself.agents.rollout_run import RolloutSettings, run_rollouts
from codeself.datasets.task import Task
from codeself.execution.result import ExecutionResult, TestOutcome

TASK = Task(task_id="example/add", source="example", prompt="Add.", entry_point="add", starter_code="",
            public_tests=("assert add(1, 2) == 3",), hidden_tests=("assert add(2, 2) == 4",) * 2,
            setup_code="", reference_solution="def add(a, b):\n    return a + b\n", split="test", metadata={})
RESULT = ExecutionResult(status="passed", passed=True, phase="done", public={"passed": 1, "total": 1},
                         hidden={"passed": 2, "total": 2}, tests=(TestOutcome("public", 0, True),),
                         tests_judged_in_process=0, isolation="rlimits", duration_s=0.25, cpu_time_s=0.125,
                         peak_rss_kb=9000)


def make_rollout(sample_index=0, config_hash="c" * 64, seed=0, **overrides) -> Rollout:
    values = dict(rollout_id=rollout_id(TASK.task_id, sample_index, config_hash, seed), task_id=TASK.task_id,
                  sample_index=sample_index, split="test", backend="mock", model="mock-reference",
                  template="chat_default", config_hash=config_hash, prompt=[{"role": "user", "content": "Add."}],
                  completion="```python\ndef add(a, b):\n    return a + b\n```",
                  code="def add(a, b):\n    return a + b\n", parse_status="ok", execution=RESULT,
                  reward={"name": "reward_v0_correctness", "reward": 1.0, "components": {}, "diagnostics": {}},
                  seed=seed, metadata={"mock_variant": "correct"}, timing={"generation_s": 0.5})
    values.update(overrides)
    return Rollout(**values)


class RolloutRecordTest(unittest.TestCase):
    def test_json_layout_and_timing_fields(self):
        record = make_rollout().to_json()
        self.assertEqual(list(record), ["rollout_id", "task_id", "sample_index", "split", "backend", "model",
                                        "template", "config_hash", "prompt", "completion", "code", "parse_status",
                                        "execution", "reward", "seed", "metadata", "timing"])
        self.assertEqual(record["timing"], {"generation_s": 0.5, "execution_s": 0.25, "execution_cpu_s": 0.125,
                                            "execution_peak_rss_kb": 9000})
        for name in ("duration_s", "cpu_time_s", "peak_rss_kb"):
            self.assertNotIn(name, record["execution"])
        self.assertEqual(record["execution"]["status"], "passed")
        self.assertEqual(record["execution"]["hidden"], {"passed": 2, "total": 2})

    def test_round_trip(self):
        rollout = make_rollout()
        again = Rollout.from_json(json.loads(json.dumps(rollout.to_json())))
        self.assertEqual(again, rollout)
        self.assertEqual(again.execution.duration_s, 0.25)

    def test_deterministic_json_ignores_timing_only(self):
        import dataclasses  # replace, not the constructor: error_category is derived, never passed in
        slow = make_rollout(timing={"generation_s": 9.0}, execution=dataclasses.replace(RESULT, duration_s=3.0))
        self.assertEqual(slow.deterministic_json(), make_rollout().deterministic_json())
        self.assertNotEqual(slow.to_json(), make_rollout().to_json())

    def test_measured_timeout_limits_move_to_timing(self):
        import dataclasses
        calibrated = dataclasses.replace(RESULT, extra={"timeout_source": "calibrated",
                                                        "test_timeout_s": 38.7, "program_timeout_s": 79.0})
        rollout = make_rollout(execution=calibrated)
        record = rollout.to_json()
        # The source of the limits is deterministic and stays; the measured limits do not.
        self.assertEqual(record["execution"]["extra"], {"timeout_source": "calibrated"})
        self.assertEqual((record["timing"]["test_timeout_s"], record["timing"]["program_timeout_s"]), (38.7, 79.0))
        self.assertEqual(Rollout.from_json(json.loads(json.dumps(record))), rollout)
        faster = make_rollout(execution=dataclasses.replace(
            calibrated, extra={**calibrated.extra, "test_timeout_s": 12.0}))
        self.assertEqual(faster.deterministic_json(), rollout.deterministic_json())

    def test_from_json_names_missing_fields(self):
        record = make_rollout().to_json()
        del record["parse_status"]
        with self.assertRaisesRegex(ValueError, "missing parse_status"):
            Rollout.from_json(record)

    def test_rollout_id(self):
        first = rollout_id("mbpp/11", 0, "a" * 64, 0)
        self.assertEqual(first, rollout_id("mbpp/11", 0, "a" * 64, 0))
        self.assertEqual(len(first), 16)
        variants = {rollout_id("mbpp/11", 1, "a" * 64, 0), rollout_id("mbpp/12", 0, "a" * 64, 0),
                    rollout_id("mbpp/11", 0, "b" * 64, 0), rollout_id("mbpp/11", 0, "a" * 64, 1)}
        self.assertEqual(len(variants | {first}), 5)

    def test_not_executed_result(self):
        result = not_executed_result(TASK, ParseResult(None, "no_code", "empty completion"), "namespaces")
        self.assertEqual((result.status, result.passed, result.phase), ("failed", False, "syntax"))
        self.assertEqual((result.public, result.hidden), ({"passed": 0, "total": 1}, {"passed": 0, "total": 2}))
        self.assertEqual(result.extra, {"executed": False})
        self.assertEqual(result.message, "not executed: no_code (empty completion)")
        self.assertEqual(result.isolation, "namespaces")


class OutputFileTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.output = Path(self.tmp.name) / "out" / "rollouts.jsonl"
        self.sidecar = {"config_hash": "c" * 64, "seed": 0, "tasks_sha256": "t", "split": None,
                        "reward_config": {"name": "r"}, "runs": [{"argv": ["first"]}]}

    def writer(self, **kwargs) -> RolloutWriter:
        options = {"resume": False, "overwrite": False, "config_hash": "c" * 64, "seed": 0,
                   "sidecar": self.sidecar, **kwargs}
        return RolloutWriter(self.output, **options)

    def line(self, index, **overrides) -> str:
        return json.dumps(make_rollout(sample_index=index, **overrides).to_json()) + "\n"

    def test_new_output_then_refusal_without_resume(self):
        writer = self.writer()
        writer.write(make_rollout().to_json())
        writer.close()
        self.assertEqual(self.output.read_text(), self.line(0))  # json.dumps defaults = dumps_record for ASCII
        self.assertEqual(json.loads(sidecar_path(self.output).read_text())["runs"], [{"argv": ["first"]}])
        with self.assertRaisesRegex(ValueError, "already exists; pass --resume .* or --overwrite"):
            self.writer()
        self.writer(overwrite=True).close()
        self.assertEqual(self.output.read_text(), "")

    def test_resume_drops_torn_last_line_and_keeps_the_rest(self):
        self.output.parent.mkdir(parents=True)
        torn = self.line(2)[:40]
        self.output.write_text(self.line(0) + "\n" + self.line(1) + torn)
        done, intact = read_done(self.output, "c" * 64, 0)
        self.assertEqual(done, {"example/add": {0, 1}})
        self.assertEqual(intact, len((self.line(0) + "\n" + self.line(1)).encode()))
        sidecar_path(self.output).write_text(json.dumps(self.sidecar))
        writer = self.writer(resume=True, sidecar={**self.sidecar, "runs": [{"argv": ["second"]}]})
        self.assertEqual((writer.resumed, writer.is_done("example/add", 1), writer.is_done("example/add", 2)),
                         (2, True, False))
        writer.write(make_rollout(sample_index=2).to_json())
        writer.close()
        lines = [json.loads(line) for line in self.output.read_text().splitlines() if line]
        self.assertEqual([r["sample_index"] for r in lines], [0, 1, 2])
        self.assertEqual(json.loads(sidecar_path(self.output).read_text())["runs"],
                         [{"argv": ["first"]}, {"argv": ["second"]}])

    def test_resume_refuses_other_configurations(self):
        self.output.parent.mkdir(parents=True)
        self.output.write_text(self.line(0, seed=3))
        with self.assertRaisesRegex(ValueError, r"rollouts.jsonl:1: written with config_hash cccccccccccc seed 3"):
            self.writer(resume=True)
        self.output.write_text(self.line(0))
        sidecar_path(self.output).write_text(json.dumps({**self.sidecar, "tasks_sha256": "other"}))
        with self.assertRaisesRegex(ValueError, "tasks_sha256 differ"):
            self.writer(resume=True)

    def test_corrupt_line_in_the_middle_is_an_error(self):
        self.output.parent.mkdir(parents=True)
        self.output.write_text(self.line(0) + "{broken\n" + self.line(1))
        with self.assertRaisesRegex(ValueError, "rollouts.jsonl:2: not a JSON rollout record"):
            read_done(self.output, "c" * 64, 0)

    def test_two_writers_cannot_share_an_output(self):
        first = self.writer()
        with self.assertRaisesRegex(ValueError, "being written by another run_rollouts process"):
            self.writer(resume=True)
        first.close()
        self.writer(resume=True).close()  # free again once the first run has finished

    def test_discard_removes_an_unwritten_output(self):
        writer = self.writer()
        writer.discard()
        self.assertFalse(self.output.exists())
        self.assertFalse(sidecar_path(self.output).exists())


if __name__ == "__main__":
    unittest.main()


EXAMPLE_TASKS = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
# the mock policy's infinite_loop samples wait out their per-test limit: the floor keeps that at 0.25 s
FAST = ("--timeout-s", "0.3", *support.FAST_TIMEOUTS, "--workers", "2", "--quiet")


def deterministic_lines(path: Path) -> list[dict]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:
        del record["timing"]
    return records


class RunRolloutsScriptTest(unittest.TestCase):
    """scripts/run_rollouts.py end to end on the bundled example tasks (real sandbox)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.full, cls.again = cls.dir / "full.jsonl", cls.dir / "again.jsonl"
        # the same command twice, at once: test_same_seed_same_bytes_apart_from_timing compares them
        # (the second as main() in this process: what it writes must be what the process wrote)
        cls.again_result, cls.result = run_beside(
            *(cls.rollouts_call(output, "--samples-per-task", "4", "--seed", "3") for output in (cls.again, cls.full)))
        cls.records = [json.loads(line) for line in cls.full.read_text().splitlines()] if cls.full.exists() else []
        tasks = [json.loads(line) for line in EXAMPLE_TASKS.read_text().splitlines()]
        cls.hidden_tests = {task["task_id"]: task["hidden_tests"] for task in tasks}
        cls.public_tests = {task["task_id"]: task["public_tests"] for task in tasks}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @staticmethod
    def rollouts_call(output, *args, backend="mock") -> tuple:
        return ("run_rollouts.py", "--tasks", EXAMPLE_TASKS, "--output", output, "--backend", backend, *FAST, *args)

    @classmethod
    def run_rollouts(cls, output, *args, backend="mock"):
        """The script's main() in this process (its runs as a process are setUpClass's)."""
        return in_process(*cls.rollouts_call(output, *args, backend=backend))

    def test_mock_run_writes_one_record_per_sample_in_order(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(self.result.stderr, "")
        self.assertRegex(self.result.stdout, r"^wrote 32 rollout\(s\) to \S*full.jsonl; execution: .*passed \d+")
        task_ids = [json.loads(line)["task_id"] for line in EXAMPLE_TASKS.read_text().splitlines()]
        self.assertEqual([(r["task_id"], r["sample_index"]) for r in self.records],
                         [(task_id, index) for task_id in task_ids for index in range(4)])
        sidecar = json.loads(sidecar_path(self.full).read_text())
        self.assertEqual((sidecar["seed"], sidecar["backend"], sidecar["template"]), (3, "mock", "chat_default"))
        self.assertEqual(sidecar["runs"][0]["argv"][:1], ["scripts/run_rollouts.py"])
        self.assertEqual({r["config_hash"] for r in self.records}, {sidecar["config_hash"]})

    def test_verdicts_follow_the_mock_variants(self):
        for record in self.records:
            variant, execution = record["metadata"]["mock_variant"], record["execution"]
            with self.subTest(task=record["task_id"], index=record["sample_index"], variant=variant):
                if variant == "correct":  # the example references pass their own tests
                    self.assertEqual((execution["status"], record["reward"]["reward"]), ("passed", 1.0))
                elif variant == "syntax_error":
                    self.assertEqual((record["parse_status"], execution["status"]), ("syntax_error", "syntax_error"))
                elif variant == "prose":
                    self.assertEqual((record["code"], execution["extra"]), (None, {"executed": False}))
                elif variant == "infinite_loop":
                    self.assertEqual(execution["status"], "timeout")
                elif variant == "mutated":  # screened in the sandbox: only failing mutants are emitted
                    self.assertEqual((execution["passed"], record["metadata"]["mock_screened"]), (False, True))
                if "mock_fallback" in record["metadata"]:  # no failing mutant: labelled as what was emitted
                    self.assertEqual((variant, record["metadata"]["mock_fallback"]), ("syntax_error", "no failing mutant"))
                self.assertEqual(execution["passed"], variant == "correct")
                prompt_text = "\n".join(message["content"] for message in record["prompt"])
                for hidden in self.hidden_tests[record["task_id"]]:  # never shown to the model
                    self.assertNotIn(hidden, prompt_text)
                self.assertIn(self.public_tests[record["task_id"]][0], prompt_text)

    def test_same_seed_same_bytes_apart_from_timing(self):
        self.assertEqual(self.again_result.returncode, 0, self.again_result.stderr)
        self.assertEqual(deterministic_lines(self.again), deterministic_lines(self.full))

    def test_resume_after_interruption_completes_the_same_file(self):
        partial = self.dir / "partial.jsonl"
        lines = self.full.read_text().splitlines(keepends=True)
        partial.write_text("".join(lines[:13]) + lines[13][:50])  # 13 records and a torn one
        sidecar_path(partial).write_text(sidecar_path(self.full).read_text())
        result = self.run_rollouts(partial, "--samples-per-task", "4", "--seed", "3", "--resume")
        self.assertEqual(result.returncode, 0, result.stderr)
        # the count of new records, and what the file holds now (not just the 19 new ones)
        self.assertRegex(result.stdout, r"^wrote 19 new rollout\(s\) to \S*partial.jsonl \(32 in the file, 13 kept "
                                        r"from before\); execution of the 19 new: ")
        self.assertEqual(deterministic_lines(partial), deterministic_lines(self.full))
        self.assertEqual(len(json.loads(sidecar_path(partial).read_text())["runs"]), 2)

    def test_refusals_are_one_line(self):
        before = self.full.read_bytes()
        cases = [((self.full, "--samples-per-task", "4", "--seed", "3"), "already exists; pass --resume"),
                 ((self.dir / "x.jsonl", "--samples-per-task", "1", "--template", "nope"), "prompt template 'nope'")]
        for args, message in cases:
            with self.subTest(message=message):
                result = support.refusal(*self.rollouts_call(*args))
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)
                self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertEqual(self.full.read_bytes(), before)
        self.assertFalse((self.dir / "x.jsonl").exists())

    def test_bad_settings_are_value_errors(self):
        base = {"tasks": str(EXAMPLE_TASKS), "output": str(self.dir / "y.jsonl"), "backend": "mock",
                "samples_per_task": 1}
        cases = [({"output": str(self.full), "seed": 4, "resume": True, "samples_per_task": 4}, "seed differ"),
                 ({"samples_per_task": None}, "--backend mock needs --samples-per-task K"),
                 ({"samples_per_task": 0}, "--samples-per-task must be at least 1"),
                 ({"output": str(EXAMPLE_TASKS)}, "is also an input"),
                 ({"split": "dev"}, "--split must be one of"),
                 ({"resume": True, "overwrite": True}, "contradict"),
                 ({"backend": "gpt"}, "unknown backend 'gpt'; choose one of: hf, mock, openai, policy, static")]
        for overrides, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(ValueError, message):
                    run_rollouts(RolloutSettings(**{**base, **overrides}), quiet=True)
        self.assertFalse((self.dir / "y.jsonl").exists())

    def test_static_replays_rollouts_and_human_eval_samples(self):
        replay = self.dir / "replay.jsonl"
        result = self.run_rollouts(replay, "--completions", self.full, "--limit", "4", backend="static")
        self.assertEqual(result.returncode, 0, result.stderr)
        replayed = [json.loads(line) for line in replay.read_text().splitlines()]
        self.assertEqual([(r["task_id"], r["sample_index"], r["code"], r["execution"]["status"]) for r in replayed],
                         [(r["task_id"], r["sample_index"], r["code"], r["execution"]["status"])
                          for r in self.records[:16]])
        self.assertEqual({r["metadata"]["static_format"] for r in replayed}, {"codeself"})

        samples = self.dir / "human_eval_samples.jsonl"
        samples.write_text(json.dumps({"task_id": "example/digit_sum", "completion":
                                       "def digit_sum(n):\n    return sum(map(int, str(n)))\n"}) + "\n" +
                           json.dumps({"task_id": "example/digit_sum", "completion": "def digit_sum(n):\n    return n\n"})
                           + "\n" + json.dumps({"task_id": "Other/1", "completion": "x"}) + "\n")
        output = self.dir / "human_eval.jsonl"
        result = in_process("run_rollouts.py", "--tasks", EXAMPLE_TASKS, "--output", output,
                            "--backend", "static", "--completions", samples, "--limit", "2", *FAST[:-1])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1 task id(s) in", result.stderr)
        self.assertIn("'Other/1'", result.stderr)
        records = [json.loads(line) for line in output.read_text().splitlines()]
        self.assertEqual([(r["sample_index"], r["parse_status"], r["execution"]["passed"]) for r in records],
                         [(0, "ok", True), (1, "ok", False)])


class RealMBPPRolloutsTest(unittest.TestCase):
    def test_mock_rollouts_on_real_mbpp_tasks(self):
        with tempfile.TemporaryDirectory() as tmp:
            tasks, output = support.prepare_real_mbpp(self, tmp), Path(tmp) / "rollouts.jsonl"
            result = in_process("run_rollouts.py", "--tasks", tasks, "--output", output, "--backend", "mock",
                                "--split", "test", "--limit", "6", "--samples-per-task", "3", *FAST)
            self.assertEqual(result.returncode, 0, result.stderr)
            records = [json.loads(line) for line in output.read_text().splitlines()]
        self.assertEqual(len(records), 18)
        self.assertEqual(records[0]["task_id"], "mbpp/11")  # the official test split starts at 11
        for record in records:
            variant = record["metadata"]["mock_variant"]
            if variant == "correct":  # MBPP references (\r\n, mixed indentation) pass their tests
                self.assertEqual(record["execution"]["status"], "passed", record["task_id"])
            if variant == "syntax_error":
                self.assertEqual(record["execution"]["status"], "syntax_error", record["task_id"])
            self.assertEqual(record["execution"]["passed"], variant == "correct", record["task_id"])
            self.assertEqual(record["split"], "test")
