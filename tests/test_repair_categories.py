"""Repair categories (issue 19, item 4): syntax, logic, type_error, algorithmic and security starts,
screened in the sandbox, with provenance, deterministic under the seed, reported per category,
and never showing hidden tests or the reference; the security families' attack tests."""

import support  # noqa: F401

import json
import unittest

from codeself.agents.agentic import categories
from codeself.agents.agentic.env import CachedExecutor, CodeRepairEnv, EnvConfig
from codeself.agents.agentic.report import iter_summaries, strategy_metrics
from codeself.agents.agentic.report_markdown import render_markdown
from codeself.datasets import generated
from codeself.datasets.generated_security import SECURITY_FAMILY_NAMES, vulnerable_programs
from codeself.execution import ExecutionConfig, Executor

EXECUTOR = None
TASKS = None
SEEDS = (0, 1)


def setUpModule():
    global EXECUTOR, TASKS
    EXECUTOR = CachedExecutor(Executor(ExecutionConfig(workers=2, timeout_s=5.0, efficiency=True)))
    config = generated.GeneratorConfig(seed=0, version=2, train=12, validation=0, test=0, test_heldout_families=0,
                                       scale_inputs=True, security_tasks=1)
    TASKS = {task.task_id: task for task in generated.generate_tasks(config)}


def tearDownModule():
    EXECUTOR.executor.close()


def env(**config) -> CodeRepairEnv:
    return CodeRepairEnv(TASKS, EXECUTOR, EnvConfig(mode="repair", max_revisions=0, **config))


def fenced(code: str) -> str:
    return "```python\n" + code + "```\n"


class Starts(unittest.TestCase):
    def starts(self, category):
        """(task, start record, info) for each seed of SEEDS."""
        found = []
        for seed in SEEDS:
            environment = env()
            _, info = environment.reset(seed=seed, options={"category": category})
            environment.step(fenced(environment._episode.start["code"]))
            found.append((environment._episode.task, environment.trace().start, info))
        return found

    def test_every_category_has_provenance_and_repeats_under_its_seed(self):
        for category in categories.REPAIR_CATEGORIES:
            for seed in SEEDS:
                first, second = env(), env()
                _, info = first.reset(seed=seed, options={"category": category})
                _, again = second.reset(seed=seed, options={"category": category})
                self.assertEqual(info, again, category)
                self.assertEqual(first._episode.start["code"], second._episode.start["code"], category)
                repair = info["repair"]
                self.assertEqual(repair["category"], category)
                self.assertEqual(set(repair["provenance"]), {"family", "reference", "transformation", "seed"})
                task = first._episode.task
                self.assertEqual(repair["provenance"]["family"], task.metadata["family"])
                self.assertEqual(repair["provenance"]["reference"]["task_id"], task.task_id)
                start = first._episode.start
                self.assertEqual((start["category"], start["provenance"]), (category, repair["provenance"]))
                # the provenance rebuilds the start
                rebuilt = categories.repair_start(task, category, seed, 0, EXECUTOR, first.screen)
                self.assertEqual(rebuilt.provenance["seed"], repair["provenance"]["seed"])

    def test_syntax_starts_do_not_compile(self):
        for _, start, _ in self.starts("syntax"):
            with self.assertRaises(SyntaxError):
                compile(start["code"], "<start>", "exec")
            self.assertEqual(start["execution"]["phase"], "syntax")

    def test_logic_and_type_error_starts_fail_a_public_test(self):
        for category in ("logic", "type_error"):
            for task, start, _ in self.starts(category):
                compile(start["code"], "<start>", "exec")
                public = start["execution"]["public"]
                self.assertLess(public["passed"], public["total"], (category, task.task_id))
                if category == "type_error":
                    result = EXECUTOR.run(task, start["code"])
                    self.assertIn("TypeError", [result.error_type] + [t.error_type for t in result.tests])

    def test_algorithmic_starts_pass_every_test_and_score_below_the_reference(self):
        for task, start, _ in self.starts("algorithmic"):
            self.assertEqual(start["execution"]["status"], "passed", task.task_id)
            slow, fast = start["execution"]["efficiency"], EXECUTOR.run(task, task.reference_solution).efficiency
            self.assertLess(slow["score"], categories.EFFICIENT_SCORE)
            self.assertLess(slow["score"], fast["score"])
            if slow["status"] == "ok":  # over_budget (score 0) has no exponent
                self.assertGreater(slow["exponent"], fast["exponent"] + 0.5)

    def test_algorithmic_reward_is_the_efficiency_gain(self):
        environment = env()
        environment.reset(seed=0, options={"category": "algorithmic"})
        _, reward, terminated, _, _ = environment.step(fenced(environment._episode.task.reference_solution))
        gain = environment.trace().reward["efficiency_gain"]
        self.assertTrue(terminated)
        self.assertGreater(gain["final"], gain["start"])
        self.assertAlmostEqual(reward, gain["final"] - gain["start"])  # cocos R = 0: the start passes already
        environment.reset(seed=0, options={"category": "algorithmic"})
        _, reward, _, _, _ = environment.step(fenced(environment._episode.start["code"]))
        self.assertEqual(reward, 0.0)

    def test_security_starts_fail_the_attacks_and_references_pass_them(self):
        security = [task for task in TASKS.values() if task.metadata["family"] in SECURITY_FAMILY_NAMES]
        self.assertEqual(sorted({task.metadata["family"] for task in security}), sorted(SECURITY_FAMILY_NAMES))
        for task in security:
            self.assertTrue(EXECUTOR.run(task, task.reference_solution).passed, task.task_id)
            for variant, program in vulnerable_programs(task):
                result = EXECUTOR.run(task, program)
                self.assertEqual(result.public["passed"], 0, (task.task_id, variant))  # the public test is an attack
        for task, start, _ in self.starts("security"):
            self.assertEqual(start["execution"]["public"]["passed"], 0)

    def test_model_sees_no_hidden_test_and_no_reference(self):
        for category in categories.REPAIR_CATEGORIES:
            environment = env()
            observation, info = environment.reset(seed=0, options={"category": category})
            task = environment._episode.task
            visible = json.dumps([observation, info])
            _, _, _, _, step_info = environment.step(fenced(environment._episode.start["code"]))
            visible += json.dumps(step_info) + json.dumps(environment.trace().start["feedback"])
            for test in task.hidden_tests:
                self.assertNotIn(json.dumps(test)[1:-1], visible, category)
            self.assertNotIn(json.dumps(task.reference_solution)[1:-1], json.dumps(info), category)


class Choice(unittest.TestCase):
    def test_configured_categories_and_refusals(self):
        environment = env(repair_categories=("security",))
        with self.assertRaisesRegex(ValueError, "needs --mode repair"):
            EnvConfig(repair_categories=("logic",))
        for seed in SEEDS:
            _, info = environment.reset(seed=seed)
            self.assertEqual(info["repair"]["category"], "security")
        plain = next(task_id for task_id, task in TASKS.items() if task.metadata["family"] not in SECURITY_FAMILY_NAMES)
        with self.assertRaisesRegex(ValueError, "no repair start of category security"):
            env().reset(seed=0, options={"task_id": plain, "category": "security"})
        with self.assertRaisesRegex(ValueError, "unknown category"):
            env().reset(seed=0, options={"category": "style"})
        with self.assertRaisesRegex(ValueError, "needs mode repair"):
            env().reset(seed=0, options={"category": "logic", "mode": "solve"})
        with self.assertRaisesRegex(ValueError, "repair_categories"):
            EnvConfig(repair_categories=("style",))

    def test_without_categories_the_config_and_start_are_the_older_ones(self):
        self.assertNotIn("repair_categories", EnvConfig().to_json())
        task_id = next(iter(TASKS))
        environment = env()
        _, info = environment.reset(seed=3, options={"task_id": task_id})
        self.assertEqual(info["repair"]["category"], "logic")
        _, again = environment.reset(seed=3, options={"task_id": task_id, "category": "logic"})
        self.assertEqual(info["repair"], again["repair"])

    def test_security_tasks_only_append(self):
        base = dict(seed=1, version=1, train=8, validation=3, test=3, test_heldout_families=2)
        plain = [task.to_json() for task in generated.generate_tasks(generated.GeneratorConfig(**base))]
        extended = [task.to_json() for task in generated.generate_tasks(
            generated.GeneratorConfig(**base, security_tasks=1))]
        kept = [record for record in extended if record["metadata"]["family"] not in SECURITY_FAMILY_NAMES]
        self.assertEqual(kept, plain)
        self.assertEqual(len(extended) - len(plain), 3 * len(SECURITY_FAMILY_NAMES))


class Report(unittest.TestCase):
    def test_rows_per_category(self):
        traces = []
        for category in ("logic", "algorithmic", "security"):
            for fix in (True, False):
                environment = env()
                environment.reset(seed=0, options={"category": category})
                episode = environment._episode
                environment.step(fenced(episode.task.reference_solution if fix else episode.start["code"]))
                traces.append(environment.trace())
        metrics = strategy_metrics(iter_summaries(traces), resamples=50)
        rows = {row["category"]: row for row in metrics["by_repair_category"]}
        self.assertEqual(list(rows), ["logic", "algorithmic", "security"])
        self.assertEqual(rows["algorithmic"]["start_pass"]["rate"], 1.0)
        self.assertEqual(rows["logic"]["start_pass"]["rate"], 0.0)
        for row in rows.values():
            self.assertEqual((row["episodes"], row["fix_rate"]["successes"], row["fix_rate"]["n"]), (2, 1, 2))
        self.assertIn("## By repair category", render_markdown(metrics, "figures"))


if __name__ == "__main__":
    unittest.main()
