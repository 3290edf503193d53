"""The multi-turn environment: feedback from public tests only, episode rewards, Gym semantics."""

import support  # noqa: F401

import unittest

from codeself.agents.agentic import feedback as fb
from codeself.agents.agentic.env import CodeRepairEnv, EnvConfig
from codeself.agents.agentic.rewards import (EpisodeRewardConfig, progressive_reward, step_penalty,
                                             terminal_reward, tests_passed_fraction)
from codeself.agents.agentic.trace import code_diff, normalise_code, revision_size
from codeself.datasets.task import Task
from codeself.execution.engine import ExecutionConfig, Executor
from codeself.execution.result import ExecutionResult, TestOutcome

REFERENCE = "def add(a, b):\n    return a + b\n"
TASK = Task(task_id="t/add", source="example", prompt="Add two numbers.", entry_point="add", starter_code="",
            public_tests=("assert add(1, 2) == 3", "assert add(0, 0) == 0"),
            hidden_tests=("assert add(-1, 1) == 0  # HIDDEN-MARK", "assert add(10, 5) == 15"),
            setup_code="", reference_solution=REFERENCE, split="train", metadata={})
WRONG = "```python\ndef add(a, b):\n    return a - b\n```"
HIDDEN_ONLY_WRONG = "```python\ndef add(a, b):\n    return a + b if a >= 0 else 99\n```"


def result(public, hidden, status="failed", phase="done", error_type=None, message=""):
    tests = tuple(TestOutcome("public", i, ok, et, msg) for i, (ok, et, msg) in enumerate(public)) + \
        tuple(TestOutcome("hidden", i, ok, et, msg) for i, (ok, et, msg) in enumerate(hidden))
    count = lambda items: {"passed": sum(ok for ok, _, _ in items), "total": len(items)}  # noqa: E731
    return ExecutionResult(status=status, passed=status == "passed", phase=phase, public=count(public),
                           hidden=count(hidden), tests=tests, tests_judged_in_process=0, isolation="rlimits",
                           error_type=error_type, message=message)


class RewardFormulaTest(unittest.TestCase):
    def test_cocos_binary_table_with_gamma_half(self):
        # RL_REFERENCE: wrong->right 1, right->wrong -0.5, right->right 0.5, wrong->wrong 0
        self.assertEqual(progressive_reward([0, 1], 0.5), 1.0)
        self.assertEqual(progressive_reward([1, 0], 0.5), -0.5)
        self.assertEqual(progressive_reward([1, 1], 0.5), 0.5)
        self.assertEqual(progressive_reward([0, 0], 0.5), 0.0)

    def test_cocos_three_turns_and_repair_start(self):
        # r = [0.25, 0, 1], gamma 0.5: 0.25*0.25 + 0.5*(-0.25) + 1*(1) = 0.9375
        self.assertAlmostEqual(progressive_reward([0.25, 0.0, 1.0], 0.5), 0.9375)
        # repair start r0 = 0.5, one turn to 1.0: 1*(1 - 0.5) = 0.5
        self.assertAlmostEqual(progressive_reward([1.0], 0.5, r0=0.5), 0.5)
        # T = 2, r0 = 0: R = r2 - (1 - gamma) r1 = 0.8 - 0.3*0.4 = 0.68 with gamma 0.7
        self.assertAlmostEqual(progressive_reward([0.4, 0.8], 0.7), 0.8 - 0.3 * 0.4)

    def test_rlef_and_penalties(self):
        rlef = EpisodeRewardConfig("rlef", identical_penalty=0.1, step_penalty=0.05)
        self.assertEqual(terminal_reward(rlef, [0.2], 0.0, True), 1.0)
        self.assertEqual(terminal_reward(rlef, [1.0], 0.0, False), -1.0)
        self.assertAlmostEqual(step_penalty(rlef, identical=True, no_code=True), -(0.05 + 0.1 + 0.2))
        self.assertEqual(step_penalty(EpisodeRewardConfig(), identical=False, no_code=True), 0.0)
        self.assertEqual(tests_passed_fraction({"passed": 1, "total": 2}, {"passed": 2, "total": 2}), 0.75)

    def test_bad_reward_settings_are_one_line_errors(self):
        with self.assertRaisesRegex(ValueError, "unknown episode reward 'x'; choose one of cocos, rlef"):
            EpisodeRewardConfig("x")
        with self.assertRaisesRegex(ValueError, "gamma must be in"):
            EpisodeRewardConfig(gamma=2.0)
        with self.assertRaisesRegex(ValueError, "max-revisions must be an integer >= 0"):
            EnvConfig(max_revisions=-1)


class FeedbackTest(unittest.TestCase):
    public = TASK.public_view()

    def test_expected_and_got_with_the_call(self):
        run = fb.public_run(result([(False, "AssertionError", "expected 3, got -1"), (True, None, "")],
                                   [(True, None, ""), (True, None, "")]), 2)
        text = fb.render_test_feedback(self.public, run)
        self.assertIn("1 of 2 failed", text)
        self.assertIn("Failed public test 1:\n    assert add(1, 2) == 3\n  call: add(1, 2)\n  expected: 3\n  got: -1", text)

    def test_exception_timeout_and_truncated_values(self):
        long_message = "x" * 1000 + "END"
        run = fb.public_run(result([(False, "TypeError", long_message), (False, "Timeout", "time limit")],
                                   [(False, "TypeError", "hidden")]), 2)
        text = fb.render_test_feedback(self.public, run, value_chars=100)
        self.assertIn("raised TypeError: xxx", text)
        self.assertIn("chars]…", text)
        self.assertIn("END", text)  # head and tail both kept
        self.assertIn("timed out", text)
        self.assertNotIn("hidden", text)

    def test_hidden_failures_are_invisible(self):
        # public pass, hidden fail (even a crash while hidden tests ran): "all public passed"
        crashed = result([(True, None, ""), (True, None, "")], [(False, "ProcessDied", "died")],
                         status="runtime_error", phase="hidden_tests", error_type="ProcessDied", message="died")
        run = fb.public_run(crashed, 2)
        self.assertTrue(run.all_passed)
        self.assertTrue(fb.render_test_feedback(self.public, run).startswith("All 2 public test(s) passed."))

    def test_program_errors_and_no_code(self):
        broken = result([], [], status="syntax_error", phase="syntax", error_type="SyntaxError",
                        message="invalid syntax (line 2)")
        self.assertEqual(fb.render_test_feedback(self.public, fb.public_run(broken, 2)).splitlines()[:2],
                         ["Your code does not compile:", "SyntaxError: invalid syntax (line 2)"])
        self.assertEqual(fb.render_test_feedback(self.public, fb.public_run(None, 2)), fb.NO_CODE_FEEDBACK)
        with self.assertRaises(TypeError):
            fb.render_test_feedback(TASK, fb.public_run(None, 2))  # a full Task is refused

    def test_modes(self):
        run = fb.public_run(None, 2)
        self.assertEqual(fb.render_feedback("generic", self.public, run, "FIRST"), fb.GENERIC_FEEDBACK)
        self.assertEqual(fb.render_feedback("none", self.public, run, "FIRST"), "FIRST")
        with self.assertRaisesRegex(ValueError, "choose one of tests, generic, none"):
            fb.render_feedback("loud", self.public, run, "FIRST")

    def test_error_category_is_derived_when_absent(self):
        cases = [({"status": "passed"}, "passed"), ({"status": "failed", "error_type": "AssertionError"}, "wrong_answer"),
                 ({"status": "failed", "error_type": "IndexError"}, "index_key"),
                 ({"status": "import_error", "error_type": "NameError"}, "reference"),
                 ({"status": "timeout", "error_type": "Timeout"}, "timeout"),
                 ({"status": "syntax_error"}, "syntax"), ({"status": "failed", "error_category": "custom"}, "custom")]
        for execution, expected in cases:
            self.assertEqual(fb.error_category(execution), expected, execution)
        self.assertEqual(fb.error_category(None, "no_code"), "no_code")

    def test_diff_helpers(self):
        diff = code_diff("a\nb\n", "a\nc\n")
        self.assertEqual(revision_size(diff), 2)
        self.assertEqual(code_diff(None, "a"), "")
        self.assertEqual(normalise_code("x = 1   \n\n"), normalise_code("x = 1\n"))


class EnvTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def env(self, **config):
        return CodeRepairEnv([TASK], self.executor, EnvConfig(**config))

    def test_solve_episode_fix_on_second_turn(self):
        env = self.env(max_revisions=2)
        observation, info = env.reset(seed=3)
        self.assertEqual((info["task_id"], info["max_turns"], observation["turn"]), ("t/add", 3, 0))
        self.assertIsNone(observation["feedback"])
        observation, reward, terminated, truncated, info = env.step(WRONG)
        self.assertEqual((reward, terminated, truncated), (0.0, False, False))
        self.assertIn("expected: 3\n  got: -1", observation["feedback"])
        self.assertEqual(observation["messages"][-1], {"role": "user", "content": observation["feedback"]})
        observation, reward, terminated, truncated, info = env.step(REFERENCE)
        # a - b passes only add(0, 0) == 0 of the four tests: r1 = 0.25
        # R = 0.5 * 0.25 + 1 * (1 - 0.25) = 0.875
        self.assertEqual((terminated, truncated, info["stop_reason"]), (True, False, "public_pass"))
        self.assertAlmostEqual(reward, 0.875)
        trace = env.trace(backend="test")
        self.assertEqual(trace.turns_used, 2)
        self.assertEqual(trace.final["passed"], True)
        self.assertEqual(trace.first_error_category, "wrong_answer")
        self.assertAlmostEqual(trace.reward["return"], sum(t.reward for t in trace.turns))
        self.assertEqual(revision_size(trace.turns[1].diff), 2)
        with self.assertRaisesRegex(ValueError, "the episode is over; call reset"):
            env.step(REFERENCE)

    def test_public_pass_hidden_fail_stops_and_is_judged_by_hidden_tests(self):
        env = self.env(max_revisions=3, reward=EpisodeRewardConfig("rlef"))
        env.reset(seed=0)
        observation, reward, terminated, truncated, info = env.step(HIDDEN_ONLY_WRONG)
        self.assertTrue(terminated)
        self.assertEqual(reward, -1.0)  # rlef: the hidden tests judge the submission
        trace = env.trace()
        self.assertEqual((trace.final["public_passed"], trace.final["hidden_passed"]), (True, False))
        self.assertNotIn("HIDDEN-MARK", repr(observation) + repr(info) + repr(env.state()))

    def test_truncation_identical_resubmission_and_no_code(self):
        env = self.env(max_revisions=2, reward=EpisodeRewardConfig("rlef", identical_penalty=0.1))
        env.reset(seed=0)
        self.assertEqual(env.step(WRONG)[1:4], (0.0, False, False))
        observation, reward, terminated, truncated, info = env.step(WRONG + "\n")
        self.assertTrue(info["identical_to_previous"])
        self.assertAlmostEqual(reward, -0.1)
        observation, reward, terminated, truncated, info = env.step("I give up.")
        self.assertEqual((terminated, truncated, info["parse_status"]), (False, True, "no_code"))
        self.assertAlmostEqual(reward, -0.2 - 1.0)  # no-code penalty + rlef's -1
        self.assertEqual(env.trace().stop_reason, "max_turns")

    def test_single_attempt_and_bad_calls(self):
        env = self.env(max_revisions=0)
        with self.assertRaisesRegex(ValueError, "call reset"):
            env.step(REFERENCE)
        with self.assertRaisesRegex(ValueError, "unknown task_id 'nope'"):
            env.reset(options={"task_id": "nope"})
        with self.assertRaisesRegex(ValueError, "unknown reset option"):
            env.reset(options={"level": 3})
        env.reset(seed=1)
        with self.assertRaisesRegex(ValueError, "string"):
            env.step(42)
        self.assertEqual(env.step(WRONG)[2:4], (False, True))

    def test_repair_start_is_a_screened_mutant_failing_a_public_test(self):
        env = self.env(mode="repair", max_revisions=1)
        observation, info = env.reset(seed=5)
        self.assertNotEqual(observation["code"], REFERENCE)
        self.assertIn("Failed public test", observation["feedback"])
        self.assertIn(observation["code"].strip(), observation["messages"][-1]["content"])
        observation, reward, terminated, truncated, info = env.step(REFERENCE)
        trace = env.trace()
        self.assertTrue(terminated and trace.final["passed"])
        self.assertAlmostEqual(reward, 1.0 - trace.reward["r0"])  # one turn from r0 to 1
        self.assertIn("code", trace.start)
        self.assertTrue(trace.turns[0].diff.startswith("--- previous"))

    def test_no_public_tests_no_vacuous_stop_and_honest_feedback(self):
        # mbpp/37, humaneval/34 and others have no public test: "all 0 public tests passed" is vacuous
        task = Task(task_id="t/nopub", source="example", prompt="Add two numbers.", entry_point="add",
                    starter_code="", public_tests=(), hidden_tests=TASK.hidden_tests, setup_code="",
                    reference_solution=REFERENCE, split="train", metadata={})
        env = CodeRepairEnv([task], self.executor, EnvConfig(max_revisions=1))
        env.reset(seed=0)
        observation, reward, terminated, truncated, info = env.step(WRONG)
        self.assertEqual((terminated, truncated), (False, False))  # no public pass to stop on
        self.assertNotIn("All 0 public", observation["feedback"])
        self.assertIn("no public tests", observation["feedback"])
        self.assertNotIn("HIDDEN-MARK", observation["feedback"])
        observation, reward, terminated, truncated, info = env.step(REFERENCE)
        self.assertEqual((terminated, truncated, info["stop_reason"]), (False, True, "max_turns"))
        trace = env.trace()
        self.assertEqual((trace.final["public_total"], trace.final["public_passed"]), (0, None))
        self.assertTrue(trace.final["passed"])
        # a correct program and a wrong one get the same feedback: nothing hidden shows through
        self.assertEqual(fb.render_test_feedback(task.public_view(), fb.public_run(
            result([], [(False, "AssertionError", "x")]), 0)), fb.render_test_feedback(
            task.public_view(), fb.public_run(result([], [(True, None, "")], status="passed"), 0)))

    def test_seeded_resets_are_reproducible(self):
        first = self.env(mode="repair").reset(seed=9)[0]
        second = self.env(mode="repair").reset(seed=9)[0]
        self.assertEqual(first, second)


if __name__ == "__main__":
    unittest.main()
