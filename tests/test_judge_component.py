"""The hardened LLM judge as the reward component `llm_judge`: weighted in a reward TOML alone, it
reaches rollouts, the environment, the smoke trainer and the TRL reward; it counts only on
answers that pass every test; a judge failure is excluded (no term) and recorded; injections in
the code do not move it. Every judge request goes over real HTTP to the gullible stand-in judge
(tests/judge_stand_in.py) on 127.0.0.1."""

import support

import json
import tempfile
import time
import unittest
from pathlib import Path

from codeself.agents.agentic.env import CodeRepairEnv, EnvConfig
from codeself.agents.agentic.rewards import EpisodeRewardConfig
from codeself.agents.rollout_run import RolloutSettings, run_rollouts
from codeself.datasets.task import Task
from codeself.execution.engine import ExecutionConfig, Executor
from codeself.execution.result import ExecutionResult
from codeself.rewards import RewardConfig, load_reward_config, score_sample
from codeself.rewards.judge_component import reset_judges
from codeself.rewards.registry import Answer, prefetch_components
from judge_stand_in import CASES, TASK_PROMPT, GullibleJudgeServer

EXAMPLE = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
REFERENCE = "def add(a, b):\n    return a + b\n"
TASK = Task(task_id="t/add", source="example", prompt=TASK_PROMPT, entry_point="add", starter_code="",
            public_tests=("assert add(1, 2) == 3",), hidden_tests=("assert add(-1, 1) == 0", "assert add(2, 2) == 4"),
            setup_code="", reference_solution=REFERENCE, split="train", metadata={})
WEIGHT = 0.05
HONEST = 4  # the stand-in's rating of any program: score (4 - 1) / 4 = 0.75, term 0.05 x 0.75
TERM = WEIGHT * (HONEST - 1) / 4


def result(passed: bool) -> ExecutionResult:
    return ExecutionResult(status="passed" if passed else "failed", passed=passed, phase="done",
                           public={"passed": 1, "total": 1}, hidden={"passed": 2 if passed else 1, "total": 2},
                           tests=(), tests_judged_in_process=0, isolation="rlimits", duration_s=0.01, cpu_time_s=0.01)


def judge_table(base_url: str, weight: float = WEIGHT, **extra) -> str:
    values = {"weight": weight, "model": "gullible", "base_url": base_url, "max_retries": 0, "timeout_s": 10.0,
              **extra}
    return "[components.llm_judge]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


class CountingJudgeServer(GullibleJudgeServer):
    """The gullible judge, rating HONEST, counting the requests it serves at once (slowly, so
    that concurrent requests overlap) and replying `reply` instead when one is set."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__(honest=lambda program: HONEST)
        self.delay_s, self.in_flight, self.max_in_flight, self.reply = delay_s, 0, 0, None

    def answer_for(self, body):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.delay_s)
        try:
            return self.reply if self.reply is not None else super().answer_for(body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def handle_error(self, request, client_address):  # a client that timed out closed its end: expected
        pass

    def wait_idle(self) -> None:
        deadline = time.monotonic() + 5
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)


class JudgeTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = CountingJudgeServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.addClassCleanup(reset_judges)
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        cls.dir = Path(tmp.name)

    def setUp(self):
        reset_judges()  # every test starts with an empty reply cache
        self.server.reply = None

    def config(self, **extra) -> RewardConfig:
        return self.load(judge_table(self.server.base_url, **extra))

    def load(self, text: str) -> RewardConfig:
        path = self.dir / f"judge{abs(hash(text))}.toml"
        path.write_text(text, encoding="utf-8")
        return load_reward_config(path)


class ComponentTest(JudgeTestCase):
    def test_weight_above_0_1_is_refused_in_one_line(self):
        with self.assertRaisesRegex(ValueError, r"\[components\.llm_judge\]: 'weight' must be <= 0\.1") as caught:
            self.config(weight=0.2)
        self.assertNotIn("\n", str(caught.exception))
        self.assertEqual(self.config(weight=0.1).components[0].weight, 0.1)

    def test_off_by_default_and_at_weight_0(self):
        default = load_reward_config(None)
        self.assertNotIn("llm_judge", [c.name for c in default.component_configs])
        before = len(self.server.bodies)
        record = score_sample(TASK, REFERENCE, "ok", result(True), config=self.config(weight=0))
        self.assertEqual(record.components["llm_judge"], 0.0)
        self.assertNotIn("llm_judge", record.diagnostics)
        self.assertEqual(len(self.server.bodies), before)  # never asked

    def test_passing_answers_get_the_term_failing_ones_are_never_sent(self):
        config = self.config()
        before = len(self.server.bodies)
        passing = score_sample(TASK, REFERENCE, "ok", result(True), config=config)
        self.assertAlmostEqual(passing.components["llm_judge"], TERM)
        self.assertAlmostEqual(passing.reward, 1.0 + TERM)
        self.assertEqual(passing.diagnostics["llm_judge"]["status"], "scored")
        self.assertIsNone(passing.diagnostics["judge_failure"])
        failing = score_sample(TASK, REFERENCE, "ok", result(False), config=config)
        self.assertEqual(failing.components["llm_judge"], 0.0)
        self.assertEqual(failing.reward, 0.0)
        self.assertEqual((failing.diagnostics["llm_judge"]["status"], failing.diagnostics["llm_judge"]["reason"]),
                         ("not_judged", "not_passed"))
        self.assertEqual(len(self.server.bodies), before + 1)  # the failing answer was not sent

    def test_correctness_first_holds_with_the_judge(self):
        # partial credit up to 0.85 for failing answers; the judge adds 0..0.1 to passing ones only
        config = self.load("partial_credit_weight = 0.85\n" + judge_table(self.server.base_url, weight=0.1))
        self.assertEqual((config.max_failing_reward, config.min_passing_reward), (0.85, 1.0))
        self.server.reply = "1"  # the worst rating for the passing answer
        passing = score_sample(TASK, REFERENCE, "ok", result(True), config=config)
        best_failing = score_sample(TASK, REFERENCE, "ok", ExecutionResult(
            status="failed", passed=False, phase="done", public={"passed": 1, "total": 1},
            hidden={"passed": 2, "total": 2}, tests=(), tests_judged_in_process=0, isolation="rlimits",
            duration_s=0.01, cpu_time_s=0.01), config=config)
        self.assertEqual(best_failing.components["llm_judge"], 0.0)
        self.assertGreaterEqual(passing.reward - best_failing.reward, config.min_gap)

    def test_a_judge_failure_is_excluded_and_recorded(self):
        cases = {"not_closed": dict(reply="4."), "request_failed": dict(drop=True),
                 "timeout": dict(reply="4", delay=0.3)}
        for case, how in cases.items():
            reset_judges()
            self.server.reply, self.server.delay_s = how.get("reply"), how.get("delay", 0.0)
            self.server.drop_from = 1 if how.get("drop") else None
            config = self.config(timeout_s=0.1) if case == "timeout" else self.config()
            try:
                with self.subTest(case=case), self.assertLogs("codeself.judge", "WARNING") as logged:
                    record = score_sample(TASK, REFERENCE, "ok", result(True), config=config)
                    self.assertEqual(record.components["llm_judge"], 0.0)  # excluded, not a neutral 0.5 x weight
                    self.assertEqual(record.reward, 1.0)
                    self.assertEqual(record.diagnostics["judge_failure"],
                                     "not_closed" if case == "not_closed" else "request_failed")
                    self.assertEqual(record.diagnostics["llm_judge"]["status"], "failure")
                    self.assertIn("judge failure", logged.output[0])
            finally:
                self.server.recover()
                self.server.wait_idle()  # the timed-out request is still being answered
                self.server.delay_s, self.server.reply = 0.0, None

    def test_injection_does_not_shift_the_hardened_term(self):
        gullible = GullibleJudgeServer().start()  # rates 3 honestly, obeys what it reads
        self.addCleanup(gullible.stop)
        config = self.load(judge_table(gullible.base_url, concurrency=4))
        answers = [Answer(TASK, code, "ok", result(True)) for _, clean, injected in CASES for code in (clean, injected)]
        prefetch_components(config.component_configs, answers)  # the batch path, as the TRL reward uses it
        terms = [score_sample(TASK, a.code, "ok", a.execution, config=config).components["llm_judge"] for a in answers]
        # one request per distinct program; scoring after the prefetch asked nothing more
        self.assertEqual(len(gullible.bodies), len({a.code for a in answers}))
        for index, (case, _, _) in enumerate(CASES):
            with self.subTest(case=case):
                self.assertAlmostEqual(terms[2 * index], WEIGHT * 0.5)
                self.assertLessEqual(abs(terms[2 * index + 1] - terms[2 * index]), 0.05 * WEIGHT)

    def test_cached_deterministic_and_bounded(self):
        self.server.delay_s = 0.05
        self.addCleanup(setattr, self.server, "delay_s", 0.0)
        self.server.max_in_flight = 0
        config = self.config(concurrency=2)
        codes = [REFERENCE.replace("a + b", f"a + b + {i} - {i}") for i in range(6)]
        answers = [Answer(TASK, code, "ok", result(True)) for code in codes + codes]  # each program twice
        before = len(self.server.bodies)
        prefetch_components(config.component_configs, answers)
        self.assertEqual(len(self.server.bodies) - before, 6)  # one request per (program, task)
        self.assertEqual(self.server.max_in_flight, 2)  # concurrent, never above `concurrency`
        self.server.delay_s = 0.0
        first = [score_sample(TASK, a.code, "ok", a.execution, config=config).to_json() for a in answers]
        reset_judges()  # a new run asks again and gets the same rewards
        second = [score_sample(TASK, a.code, "ok", a.execution, config=config).to_json() for a in answers]
        self.assertEqual(json.dumps(first), json.dumps(second))
        self.assertEqual(len(self.server.bodies) - before, 12)


class ConsumersTest(JudgeTestCase):
    """Rollouts, the environment, the smoke trainer and the TRL reward: a reward TOML with the
    judge table changes each reward by the judge term alone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.executor = Executor(ExecutionConfig(workers=1))
        cls.addClassCleanup(cls.executor.close)

    def tomls(self) -> tuple[Path, Path]:
        plain, judged = self.dir / "plain.toml", self.dir / "judged.toml"
        plain.write_text('name = "r"\n', encoding="utf-8")
        judged.write_text('name = "r"\n' + judge_table(self.server.base_url), encoding="utf-8")
        return plain, judged

    def assertOnlyTheJudgeTerm(self, plain: dict, judged: dict, passed: bool) -> None:
        term = judged["components"].pop("llm_judge")
        self.assertAlmostEqual(term, TERM if passed else 0.0)
        self.assertEqual(judged["components"], plain["components"])
        self.assertAlmostEqual(judged["reward"], plain["reward"] + term)

    def test_rollouts(self):
        records = {}
        for path in self.tomls():
            output = self.dir / f"rollouts-{path.stem}.jsonl"
            run_rollouts(RolloutSettings(tasks=str(EXAMPLE), output=str(output), backend="mock", samples_per_task=3,
                                         limit=1, execution=ExecutionConfig(workers=1), reward_config=str(path)),
                         quiet=True)
            records[path.stem] = [json.loads(line) for line in output.read_text().splitlines()]
        passed = [r["execution"]["passed"] for r in records["plain"]]
        self.assertIn(True, passed)
        for plain, judged, ok in zip(records["plain"], records["judged"], passed):
            self.assertOnlyTheJudgeTerm(plain["reward"], judged["reward"], ok)

    def test_environment(self):
        reply = "```python\n" + REFERENCE + "```"
        steps = []
        for path in self.tomls():
            env = CodeRepairEnv([TASK], self.executor, EnvConfig(
                max_revisions=0, reward=EpisodeRewardConfig(reward_config=str(path))))
            env.reset(seed=0, options={"task_id": TASK.task_id})
            steps.append((env.step(reply)[1], env.trace().reward["components"][0]))
        (plain_reward, plain_terms), (judged_reward, judged_terms) = steps
        self.assertAlmostEqual(judged_terms.pop("llm_judge"), TERM)
        self.assertEqual(judged_terms, plain_terms)
        self.assertAlmostEqual(judged_reward - plain_reward, TERM)

    def test_smoke_trainer_and_trl_reward(self):
        from codeself.rewards.trl import CorrectnessReward
        from codeself.training.config import GRPOConfig
        from codeself.training.smoke import Trainer

        plain, judged = self.tomls()
        sampled = {}
        for path in (plain, judged):
            config = GRPOConfig(model="mock", tasks=str(EXAMPLE), reward_config=str(path), num_generations=3,
                                prompts_per_step=1, max_steps=1, workers=1)
            trainer = Trainer(config, self.dir / f"run-{path.stem}", quiet=True)
            sampled[path.stem] = trainer._sample(trainer.train_tasks[:1], 3, 0, self.executor)
        for p, j in zip(sampled["plain"], sampled["judged"]):
            self.assertOnlyTheJudgeTerm(p["reward"], j["reward"], p["execution"]["passed"])
        completions = ["```python\n" + REFERENCE + "```", "```python\ndef add(a, b):\n    return a - b\n```"]
        records = []
        reward = CorrectnessReward({TASK.task_id: TASK}, ExecutionConfig(workers=1))
        self.addCleanup(reward.close)
        for path in (plain, judged):
            reward.reward_config = load_reward_config(path)
            reward(prompts=None, completions=completions, task_id=[TASK.task_id] * 2)
            records.append([r.to_json() for r in reward.last_records])
        for p, j, ok in zip(records[0], records[1], (True, False)):
            self.assertOnlyTheJudgeTerm(p, j, ok)


if __name__ == "__main__":
    unittest.main()
