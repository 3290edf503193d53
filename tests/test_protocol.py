"""The typed worker protocol (execution/protocol.py) and the one executor interface (executors.py)."""

import ast
import marshal
import math
import unittest
from pathlib import Path

import support  # noqa: F401
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor, runner
from codeself.execution.efficiency import measure_job, scale_inputs
from codeself.execution.executors import ExecutorAPI, open_executor
from codeself.execution.languages import program as native
from codeself.execution.protocol import Job, Reply
from codeself.execution.ray_pool import RayExecutor

TASK = Task(task_id="t/1", source="test", prompt="", starter_code="", reference_solution="", split="test",
            entry_point="add", setup_code="OFFSET = 0",
            public_tests=("assert add(1, 2) == 3",), hidden_tests=("assert add(2, 2) == 4", "assert add(0, 0) == 0"),
            metadata={"scale_inputs": [{"size": 1, "args": "[1, 2]"}, {"size": 2, "args": "[3, 4]"}]})
PROGRAM = "def add(a, b):\n    return a + b + OFFSET\n"
EXECUTOR = None


def setUpModule():
    global EXECUTOR
    EXECUTOR = Executor(ExecutionConfig(workers=1, timeout_s=2.0))


def tearDownModule():
    EXECUTOR.close()


def recording(executor: Executor) -> list:
    """What the executor's worker receives: every job as the worker reads it (marshal round trip)."""
    received = []
    worker = executor._idle.queue[0]
    request = worker.request

    def spy(job, on_progress=None):
        received.append(marshal.loads(marshal.dumps(job)))
        return request(job, on_progress)

    worker.request = spy
    return received


class JobWireForm(unittest.TestCase):
    def test_plan_run_job_is_the_dict_the_worker_always_read(self):
        early, code = runner.check_program(TASK, PROGRAM, EXECUTOR.config, "rlimits")
        self.assertIsNone(early)
        timeouts = runner.timeouts_for(TASK, EXECUTOR.config)
        plan = runner.plan_run(TASK, PROGRAM, EXECUTOR.config, timeouts, code)
        # the hand-built dict of before protocol.py: same keys, same order, same values
        before = {"program": "", "code": code, "setup": "OFFSET = 0", "entry_point": "add",
                  "steps": [{"probes": ["add(1, 2)"]}, {"probes": ["add(2, 2)"]}, {"probes": ["add(0, 0)"]}],
                  "step_timeouts_s": [*timeouts.tests_s, timeouts.test_s],
                  "import_timeout_s": timeouts.import_s, "program_timeout_s": timeouts.program_s}
        self.assertEqual(list(plan.job.to_wire().items()), list(before.items()))
        self.assertEqual(Job.from_wire(plan.job.to_wire()), plan.job)
        streamed = plan.job.streaming({"steps": []}).to_wire()
        self.assertEqual((streamed["stream"], streamed["measure"]), (True, {"steps": []}))

    def test_native_job_is_the_dict_the_worker_always_read(self):
        program = native.NativeProgram(files={"main.js": b"x"}, compile=(), run=("/usr/bin/node", "main.js"))
        job = native.job(program, (1.0, 2.0), 3.0, 9.0)
        payload = {"files": {"main.js": b"x"}, "compile": [], "run": ["/usr/bin/node", "main.js"],
                   "env": dict(native.BASE_ENV), "compile_timeout_s": native.COMPILE_TIMEOUT_S,
                   "log_bytes": native.LOG_BYTES}
        before = {"program": "", "code": b"", "setup": "", "entry_point": None, "native": payload,
                  "steps": [{"t": 0}, {"t": 1}], "step_timeouts_s": [1.0, 2.0, 2.0],
                  "import_timeout_s": 3.0, "program_timeout_s": 9.0}
        self.assertEqual(list(job.to_wire().items()), list(before.items()))
        self.assertEqual(Job.from_wire(job.to_wire()), job)

    def test_measure_job_holds_its_sizes(self):
        inputs = scale_inputs(TASK)
        job = measure_job(TASK, PROGRAM, b"", inputs, 2.0)
        wire = job.to_wire()
        self.assertEqual((wire["program"], wire["sizes"], wire["setup"], len(wire["step_timeouts_s"])),
                         (PROGRAM, 2, "OFFSET = 0", 2))
        self.assertEqual(Job.from_wire(wire), job)

    def test_each_builder_sends_the_worker_its_job(self):
        received = recording(EXECUTOR)
        result = EXECUTOR.run(TASK, PROGRAM)
        self.assertTrue(result.passed, result)
        timeouts = EXECUTOR.timeouts(TASK)
        _, code = runner.check_program(TASK, PROGRAM, EXECUTOR.config, EXECUTOR.isolation)
        self.assertEqual(received[-1], runner.plan_run(TASK, PROGRAM, EXECUTOR.config, timeouts, code).job.to_wire())
        outcomes = EXECUTOR.call_function(PROGRAM, "add", [[1, 2], [3, 4]], per_call_timeout_s=1.5,
                                          setup_code="OFFSET = 10")
        self.assertEqual([outcome.value for outcome in outcomes], [13, 17])
        self.assertEqual(Job.from_wire(received[-1]),
                         Job(program=PROGRAM, setup="OFFSET = 10", entry_point="add",
                             steps=({"call": received[-1]["steps"][0]["call"]}, {"call": received[-1]["steps"][1]["call"]}),
                             step_timeouts_s=(1.5, 1.5, 1.5), import_timeout_s=2.0,
                             program_timeout_s=EXECUTOR.config.program_timeout_s + 3.0))

    def test_a_dict_that_is_not_a_job_is_refused(self):
        with self.assertRaises(ValueError):
            Job.from_wire({"program": "x = 1"})


class ReplyWireForm(unittest.TestCase):
    def test_round_trip(self):
        reply = Reply("done", answers=('{"ok":true}', '{"values":[3]}'), durations=(0.01, 0.02), exit_code=0,
                      stdout="hi", duration_s=0.5, run_s=0.4, cpu_s=0.03, peak_rss_kb=9000, nivcsw=2,
                      isolation="namespaces", measure=Reply("done", answers=('{"ok":true}',), duration_s=0.1))
        self.assertEqual(Reply.from_wire(reply.to_wire()), reply)

    def test_malformed_fields_make_a_malformed_reply_not_an_exception(self):
        for wire in ([1, 2], None, {"answers": []}, {"outcome": "won", "answers": ['{"ok":true}']},
                     {"outcome": "done", "answers": [{"ok": True}]}, {"outcome": "done", "answers": "{}"}):
            with self.subTest(wire=wire):
                reply = Reply.from_wire(wire)
                self.assertEqual((reply.outcome, reply.answers), ("malformed", ()))
                result = runner.build_result(runner.plan_run(TASK, PROGRAM, EXECUTOR.config), wire)
                self.assertEqual((result.status, result.error_type), ("runtime_error", "MalformedAnswer"))

    def test_wrong_typed_numbers_take_defaults(self):
        reply = Reply.from_wire({"outcome": "done", "answers": [], "durations": [0.1, math.nan], "cpu_s": "fast",
                                 "peak_rss_kb": 1.5, "signal": True, "isolation": 3, "unknown": "ignored"})
        self.assertEqual((reply.durations, reply.cpu_s, reply.peak_rss_kb, reply.signal, reply.isolation),
                         ((), 0.0, 0, None, "rlimits"))
        plan = runner.plan_run(TASK, PROGRAM, EXECUTOR.config)
        answers = ['{"ok":true}', '{"values":[3]}', '{"values":[4]}', '{"values":[0]}']
        calibration = runner.read_calibration(plan, {"outcome": "done", "answers": answers,
                                                     "durations": [-1, 0, 0, 0], "duration_s": 0.7})
        self.assertEqual(calibration.tests_s, (0.7, 0.7, 0.7))  # unusable durations: the whole run's time

    def test_a_malformed_worker_reply_fails_the_run(self):
        worker = EXECUTOR._idle.queue[0]
        request = worker.request
        worker.request = lambda job, on_progress=None: {"outcome": "done", "answers": [7, 8]}
        try:
            result = EXECUTOR.run(TASK, PROGRAM)
            outcome = EXECUTOR.call_function(PROGRAM, "add", [[1, 2]], per_call_timeout_s=1.0)[0]
        finally:
            worker.request = request
        self.assertEqual((result.status, result.error_type), ("runtime_error", "MalformedAnswer"))
        self.assertEqual((outcome.ok, outcome.error_type), (False, "MalformedAnswer"))


class OneExecutorInterface(unittest.TestCase):
    def test_both_executors_implement_it(self):
        self.assertIsInstance(EXECUTOR, ExecutorAPI)
        self.assertTrue(issubclass(RayExecutor, ExecutorAPI))
        self.assertEqual(ExecutorAPI.__abstractmethods__ - set(vars(RayExecutor)), set())
        self.assertEqual(ExecutorAPI.__abstractmethods__ - set(vars(Executor)), set())

    def test_engine_and_ray_pool_do_not_import_each_other(self):
        source = Path(support.REPO_ROOT, "src/codeself/execution")
        for module, other in (("engine.py", "codeself.execution.ray_pool"), ("ray_pool.py", "codeself.execution.engine")):
            imported = {node.module for node in ast.walk(ast.parse((source / module).read_text()))
                        if isinstance(node, ast.ImportFrom)}
            self.assertNotIn(other, imported, module)

    def test_open_executor_picks_the_local_engine(self):
        from codeself.execution.engine import open_executor as from_engine

        self.assertIs(from_engine, open_executor)
        with open_executor(ExecutionConfig(workers=1)) as executor:
            self.assertIsInstance(executor, Executor)


if __name__ == "__main__":
    unittest.main()
