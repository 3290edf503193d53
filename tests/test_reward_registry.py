"""Reward components as one extension point: a component registered once and weighted in a TOML
reaches rollouts, the multi-turn environment and the smoke trainer; bad configs are refused in
one line; reward_v0 records are unchanged."""

import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.agents.agentic.env import CodeRepairEnv, EnvConfig
from codeself.agents.agentic.rewards import EpisodeRewardConfig
from codeself.agents.rollout_run import RolloutSettings, run_rollouts
from codeself.datasets.task import Task
from codeself.execution.engine import ExecutionConfig, Executor
from codeself.execution.result import ExecutionResult
from codeself.rewards import (RewardComponent, RewardConfig, Scored, Setting, get_component, load_reward_config,
                              register_component, score_sample)
from codeself.rewards.correctness import DEFAULT_CONFIG_PATH, check_reward_with_execution
from codeself.rewards.registry import unregister_component

EXAMPLE = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
REFERENCE = "def add(a, b):\n    return a + b\n"
TASK = Task(task_id="t/add", source="example", prompt="Add two numbers.", entry_point="add", starter_code="",
            public_tests=("assert add(1, 2) == 3",), hidden_tests=("assert add(-1, 1) == 0", "assert add(2, 2) == 4"),
            setup_code="", reference_solution=REFERENCE, split="train", metadata={})
LENGTH_TOML = "[components.length_penalty]\nweight = 0.05\nmax_chars = 100\n"


def length_value(code: str | None, max_chars: int = 100) -> float | None:
    return None if code is None else -min(1.0, len(code) / max_chars)


def _length(answer, settings) -> Scored:
    return Scored(length_value(answer.code, settings["max_chars"]),
                  {"length_chars": None if answer.code is None else len(answer.code)})


# the toy component of the test: defined here, registered here, nothing else edited
LENGTH_PENALTY = RewardComponent(
    "length_penalty", _length, applies_to="all", value_range=(-1.0, 0.0),
    settings=(Setting("max_chars", 400, "code length (characters) at which the penalty is full", minimum=1),),
    doc="every sample: -min(1, characters / max_chars)")


def result(status: str, hidden=(2, 2)) -> ExecutionResult:
    return ExecutionResult(status=status, passed=status == "passed", phase="done", public={"passed": 1, "total": 1},
                           hidden={"passed": hidden[0], "total": hidden[1]}, tests=(), tests_judged_in_process=0,
                           isolation="rlimits", duration_s=0.01, cpu_time_s=0.01)


class RegisteredComponentTest(unittest.TestCase):
    """A new component through the registry and a TOML alone changes every consumer's reward."""

    @classmethod
    def setUpClass(cls):
        register_component(LENGTH_PENALTY)
        cls.addClassCleanup(unregister_component, "length_penalty")
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        cls.dir = Path(tmp.name)
        cls.toml = cls.dir / "length.toml"
        cls.toml.write_text('name = "length_v1"\n' + LENGTH_TOML, encoding="utf-8")
        cls.executor = Executor(ExecutionConfig(workers=1))
        cls.addClassCleanup(cls.executor.close)

    def test_config_lists_the_component_after_reward_v0s(self):
        config = load_reward_config(self.toml)
        self.assertEqual([c.name for c in config.component_configs],
                         ["partial_credit", "quality_bonus", "efficiency_bonus", "length_penalty"])
        self.assertEqual(config.components[0].settings, (("max_chars", 100),))
        self.assertEqual(config.to_json()["components"], {"length_penalty": {"weight": 0.05, "max_chars": 100}})
        self.assertEqual(RewardConfig.from_mapping(config.to_json()), config)
        # a penalty on every sample lowers the worst passing reward: 1 - 0 - 0 + 0.05 * -1
        self.assertAlmostEqual(config.min_passing_reward, 0.95)
        self.assertEqual(config.max_failing_reward, 0.0)

    def test_score_sample_adds_the_weighted_term(self):
        config = load_reward_config(self.toml)
        code = REFERENCE  # 32 characters: value -0.32, term 0.05 * -0.32 = -0.016
        record = score_sample(TASK, code, "ok", result("passed"), config=config)
        self.assertEqual(list(record.components),
                         ["correctness", "partial_credit", "quality_bonus", "efficiency_bonus", "length_penalty"])
        self.assertAlmostEqual(record.components["length_penalty"], -0.016)
        self.assertAlmostEqual(record.reward, 1.0 - 0.016)
        self.assertEqual(record.diagnostics["length_chars"], 32)
        self.assertEqual(record.name, "length_v1")
        # not run, no code: the component has no value, so no term
        self.assertEqual(score_sample(TASK, None, "no_code", None, config=config).components["length_penalty"], 0.0)

    def test_rollouts_score_with_it(self):
        output = self.dir / "rollouts.jsonl"
        run_rollouts(RolloutSettings(tasks=str(EXAMPLE), output=str(output), backend="mock", samples_per_task=2,
                                     limit=1, execution=ExecutionConfig(workers=1), reward_config=str(self.toml)),
                     quiet=True)
        records = [json.loads(line) for line in output.read_text().splitlines()]
        self.assertEqual(len(records), 2)
        for record in records:
            reward = record["reward"]
            expected = 0.05 * length_value(record["code"]) if record["code"] is not None else 0.0
            self.assertAlmostEqual(reward["components"]["length_penalty"], expected)
            self.assertEqual(reward["reward"], sum(reward["components"].values()))
        sidecar = json.loads(Path(str(output) + ".config.json").read_text())
        self.assertEqual(sidecar["reward_config"]["name"], "length_v1")
        # and the evaluation report breaks the reward down by component
        from codeself.reporting.evaluation import evaluate_file

        breakdown = evaluate_file(output, resamples=10)["reward"]["components"]
        self.assertEqual(list(breakdown), ["correctness", "partial_credit", "quality_bonus", "efficiency_bonus",
                                           "length_penalty"])
        terms = [r["reward"]["components"]["length_penalty"] for r in records]
        self.assertEqual(breakdown["length_penalty"], {"n": 2, "mean": (terms[0] + terms[1]) / 2})

    def test_environment_adds_it_to_each_turn(self):
        reply = "```python\n" + REFERENCE + "```"
        plain = CodeRepairEnv([TASK], self.executor, EnvConfig(max_revisions=0))
        shaped = CodeRepairEnv([TASK], self.executor, EnvConfig(
            max_revisions=0, reward=EpisodeRewardConfig(reward_config=str(self.toml))))
        rewards = []
        for env in (plain, shaped):
            env.reset(seed=0, options={"task_id": TASK.task_id})
            rewards.append(env.step(reply)[1])
        self.assertAlmostEqual(rewards[1] - rewards[0], 0.05 * length_value(REFERENCE))  # -0.016
        trace = shaped.trace()
        self.assertEqual([sorted(t) for t in trace.reward["components"]],
                         [["efficiency_bonus", "length_penalty", "partial_credit", "quality_bonus"]])
        self.assertNotIn("components", plain.trace().reward)
        self.assertEqual(trace.env["reward"]["reward_config"]["components"],
                         {"length_penalty": {"weight": 0.05, "max_chars": 100}})

    def test_smoke_trainer_scores_with_it(self):
        from codeself.training.config import GRPOConfig
        from codeself.training.smoke import Trainer

        config = GRPOConfig(model="mock", tasks=str(EXAMPLE), reward_config=str(self.toml), num_generations=2,
                            prompts_per_step=1, max_steps=1, workers=1)
        trainer = Trainer(config, self.dir / "run", quiet=True)
        records = trainer._sample(trainer.train_tasks[:1], 2, 0, self.executor)
        self.assertEqual(len(records), 2)
        for record in records:
            expected = 0.05 * length_value(record["code"]) if record["code"] is not None else 0.0
            self.assertAlmostEqual(record["reward"]["components"]["length_penalty"], expected)
            self.assertEqual(record["reward"]["reward"], sum(record["reward"]["components"].values()))

    def test_a_second_registration_is_refused(self):
        with self.assertRaisesRegex(ValueError, "'length_penalty' is already registered"):
            register_component(LENGTH_PENALTY)
        self.assertIs(get_component("length_penalty"), LENGTH_PENALTY)

    def test_a_value_outside_the_declared_range_is_an_error(self):
        broken = RewardComponent("broken_bonus", lambda answer, settings: Scored(2.0, {}), applies_to="passing",
                                 value_range=(0.0, 1.0))
        register_component(broken)
        self.addCleanup(unregister_component, "broken_bonus")
        config = RewardConfig.from_mapping({"components": {"broken_bonus": {"weight": 0.1}}})
        with self.assertRaisesRegex(ValueError, "'broken_bonus' returned 2.0, outside its declared value_range"):
            score_sample(TASK, REFERENCE, "ok", result("passed"), config=config)

    def test_a_diagnostic_written_twice_is_an_error(self):
        shadow = RewardComponent("shadow_bonus", lambda answer, settings: Scored(None, {"passed": True}),
                                 applies_to="passing", value_range=(0.0, 1.0))
        register_component(shadow)
        self.addCleanup(unregister_component, "shadow_bonus")
        config = RewardConfig.from_mapping({"components": {"shadow_bonus": {}}})
        with self.assertRaisesRegex(ValueError, "'shadow_bonus' writes the diagnostic\\(s\\) passed"):
            score_sample(TASK, REFERENCE, "ok", result("failed"), config=config)

    def test_the_gap_counts_penalties(self):
        # fail max 0 + 0.5 = 0.5; pass min 1 - 0.3 + 0.2 * -1 = 0.5: no room for min_gap 0.1
        with self.assertRaisesRegex(ValueError, "other components' extremes = 0.5 .* = 0.5 "):
            RewardConfig.from_mapping({"partial_credit_weight": 0.5, "quality_weight": 0.3,
                                       "components": {"length_penalty": {"weight": 0.2}}})


class RefusedConfigTest(unittest.TestCase):
    """Every mistake in a reward config or a training config's reward is one line naming the fix."""

    def load(self, text: str) -> RewardConfig:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "r.toml"
            path.write_text(text, encoding="utf-8")
            return load_reward_config(path)

    def assertOneLine(self, pattern: str, text: str) -> None:
        with self.assertRaisesRegex(ValueError, pattern) as caught:
            self.load(text)
        self.assertNotIn("\n", str(caught.exception))

    def test_unknown_component_lists_the_valid_ones(self):
        self.assertOneLine(r"unknown reward component 'lenght_penalty'; valid components: efficiency_bonus, "
                           r"llm_judge, measured_efficiency, partial_credit, quality_bonus",
                           "[components.lenght_penalty]\nweight = 0.1\n")

    def test_unknown_or_bad_keys(self):
        self.assertOneLine(r"r\.toml: \[components\.quality_bonus\]: unknown key\(s\) wieght; valid keys: weight, "
                           "complexity_threshold", "[components.quality_bonus]\nwieght = 0.1\n")
        self.assertOneLine(r"'weight' must be >= 0", "[components.quality_bonus]\nweight = -0.1\n")
        self.assertOneLine(r"'complexity_threshold' must be a int", "[components.quality_bonus]\ncomplexity_threshold = 2.5\n")
        self.assertOneLine(r"unknown key\(s\) bonus", "bonus = 1\n")
        self.assertOneLine(r"'components' must be tables", "components = 3\n")
        self.assertOneLine(r"quality_weight and \[components.quality_bonus\] weight both given",
                           "quality_weight = 0.1\n[components.quality_bonus]\nweight = 0.2\n")

    def test_reward_v0_components_as_tables_equal_the_flat_keys(self):
        tables = self.load("[components.partial_credit]\nweight = 0.25\n"
                           "[components.quality_bonus]\nweight = 0.1\ncomplexity_threshold = 7\n")
        self.assertEqual(tables, RewardConfig(partial_credit_weight=0.25, quality_weight=0.1, complexity_threshold=7))
        with self.assertRaisesRegex(ValueError, "'quality_bonus' is reward_v0's own component; set quality_weight"):
            RewardConfig(components=tables.component_configs[1:2])

    def test_needs_every_test_is_checked_for_any_component(self):
        with self.assertRaisesRegex(ValueError, r"gives partial credit \(partial_credit weight = 0.4\)"):
            check_reward_with_execution(RewardConfig(partial_credit_weight=0.4), True)

    def test_training_config_reward_must_be_registered(self):
        from codeself.training.config import GRPOConfig

        with self.assertRaisesRegex(ValueError, r"reward must be one of reward_v0_correctness, got 'reward_v1'") as caught:
            GRPOConfig(model="mock", reward="reward_v1")
        self.assertNotIn("\n", str(caught.exception))

    def test_environment_reward_config_errors_at_construction(self):
        with self.assertRaisesRegex(ValueError, "no such reward config file"):
            EpisodeRewardConfig(reward_config="/nonexistent/r.toml")


class RewardV0UnchangedTest(unittest.TestCase):
    """reward_v0 configs give the records they gave before components were a registry: the
    fixture was written by the pre-registry code (two configs, four programs, three outcomes,
    reference timings; key order included)."""

    GOLDEN = support.REPO_ROOT / "tests" / "fixtures" / "reward_v0_golden.jsonl"
    TIMED = Task(task_id="t/add", source="example", prompt="Add two numbers.", entry_point="add", starter_code="",
                 public_tests=TASK.public_tests, hidden_tests=TASK.hidden_tests + ("assert add(0, 0) == 0",),
                 setup_code="", reference_solution=REFERENCE, split="train",
                 metadata={"reference_duration_s": 0.01, "reference_cpu_time_s": 0.02})

    def test_records_are_byte_identical(self):
        lines = self.GOLDEN.read_text(encoding="utf-8").splitlines()
        self.assertEqual(len(lines), 24)
        for line in lines:
            case = json.loads(line)
            execution = None if case["status"] is None or case["code"] is None else ExecutionResult(
                status=case["status"], passed=case["status"] == "passed", phase="done",
                public={"passed": 1, "total": 1}, hidden={"passed": case["hidden_passed"], "total": 3}, tests=(),
                tests_judged_in_process=0, isolation="rlimits", duration_s=0.03, cpu_time_s=0.007)
            record = score_sample(self.TIMED, case["code"], "ok" if case["code"] else "no_code", execution,
                                  config=RewardConfig(**case["config"]))
            with self.subTest(config=case["config"], code=case["code"], status=case["status"]):
                self.assertEqual(json.dumps(record.to_json()), json.dumps(case["reward"]))

    def test_bundled_file_loads_as_the_defaults(self):
        self.assertEqual(load_reward_config(DEFAULT_CONFIG_PATH), RewardConfig())
        self.assertEqual(RewardConfig().to_json(), {  # no `components` key: the sidecar's sha256 is unchanged
            "name": "reward_v0_correctness", "pass_reward": 1.0, "fail_reward": 0.0, "partial_credit_weight": 0.0,
            "quality_weight": 0.0, "efficiency_weight": 0.0, "min_gap": 0.1, "complexity_threshold": 10})


if __name__ == "__main__":
    unittest.main()
