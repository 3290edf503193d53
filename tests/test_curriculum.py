"""The curriculum (agents/agentic/curriculum.py): the rolling rule promotes and demotes as configured,
draws are deterministic under a seed, a task id overrides it, bad settings fail in one line, and
the server's GET /curriculum and /stats answer the documented JSON (4xx in JSON otherwise)."""

import support

import tempfile
import threading
import unittest
from pathlib import Path

from test_agentic_server import call

from codeself.agents.agentic.curriculum import Curriculum, CurriculumConfig, id_category, load_curriculum
from codeself.agents.agentic.env import CodeRepairEnv, EnvConfig
from codeself.agents.agentic.practice import SCORE_EDGES, distribution
from codeself.agents.agentic.server import EnvServer, SessionStore
from codeself.datasets.task import Task
from codeself.execution.engine import ExecutionConfig, Executor


def family_task(family: str, n: int, split: str = "train") -> Task:
    """A trivial task of a family: f(x) = x + n."""
    return Task(task_id=f"gen2/{family}/{n}", source="generated", prompt=f"Return x + {n}.", entry_point="f",
                starter_code="", public_tests=[f"assert f(1) == {1 + n}"], hidden_tests=[f"assert f(2) == {2 + n}"],
                setup_code="", reference_solution=f"def f(x):\n    return x + {n}\n", split=split,
                metadata={"family": family})


FAMILIES = ("alpha", "beta", "gamma")
TASKS = {task.task_id: task for task in (family_task(family, k) for k, family in
                                         enumerate(FAMILIES * 2))}
RIGHT = "```python\ndef f(x):\n    return x + {n}\n```"
WRONG = "```python\ndef f(x):\n    return 0\n```"


def ladder(**settings) -> Curriculum:
    return Curriculum(CurriculumConfig(**{"window": 3, "promote_at": 0.8, "demote_at": 0.2, "metric": "passed",
                                          "order": ("beta",), **settings}), TASKS)


class SandboxCase(unittest.TestCase):
    """A sandbox for the class; with `served` (tasks, EnvConfig) also an in-process server on
    127.0.0.1 at `base` (tests/test_memory.py uses it too)."""

    served = None

    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1))
        if cls.served is not None:
            cls.server = EnvServer(("127.0.0.1", 0), SessionStore(cls.served[0], cls.executor, cls.served[1]))
            threading.Thread(target=cls.server.serve_forever, daemon=True).start()
            cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        if cls.served is not None:
            cls.server.shutdown()
            cls.server.server_close()
        cls.executor.close()


class RollingRuleTest(unittest.TestCase):
    def test_order_and_weights(self):
        curriculum = ladder(frontier_weight=0.6)
        self.assertEqual(curriculum.order, ["beta", "alpha", "gamma"])  # listed first, then by name
        self.assertEqual(curriculum.weights(), {"beta": 1.0, "alpha": 0.0, "gamma": 0.0})
        curriculum.level = 2
        weights = curriculum.weights()
        self.assertAlmostEqual(weights["gamma"], 0.6)
        self.assertAlmostEqual(weights["beta"], 0.2)
        self.assertAlmostEqual(weights["alpha"], 0.2)
        self.assertEqual(ladder(rule="balanced").weights(), {name: 1 / 3 for name in ("beta", "alpha", "gamma")})

    def test_promotes_after_a_full_window_and_demotes(self):
        curriculum = ladder()
        for passed in (True, True):
            curriculum.record("beta", 0.0, passed)
        self.assertEqual(curriculum.level, 0)  # the window is not full yet
        curriculum.record("alpha", 0.0, True)  # not the frontier: no move
        self.assertEqual(curriculum.level, 0)
        curriculum.record("beta", 0.0, True)
        self.assertEqual((curriculum.level, curriculum.order[curriculum.level]), (1, "alpha"))
        self.assertEqual(curriculum.to_json()["categories"]["beta"]["window"], [])  # cleared by the move
        for passed in (False, True, False):  # mean 1/3: between the thresholds, no move
            curriculum.record("alpha", 0.0, passed)
        self.assertEqual(curriculum.level, 1)
        for passed in (False, False):  # last three: True, False, False -> 1/3; then 0/3 <= 0.2: demote
            curriculum.record("alpha", 0.0, passed)
        self.assertEqual(curriculum.level, 0)
        self.assertEqual([(c["move"], c["from"], c["to"]) for c in curriculum.to_json()["changes"]],
                         [("promote", "beta", "alpha"), ("demote", "alpha", "beta")])
        for _ in range(3):  # demoting at the bottom, promoting at the top: no move
            curriculum.record("beta", 0.0, False)
        self.assertEqual(curriculum.level, 0)

    def test_return_metric_and_thresholds_from_toml(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "c.toml")
            path.write_text('window = 2\npromote_at = 0.5\ndemote_at = -0.5\nmetric = "return"\norder = ["gamma"]\n')
            config = load_curriculum(str(path))
            self.assertEqual((config.window, config.promote_at, config.order), (2, 0.5, ("gamma",)))
            curriculum = Curriculum(config, TASKS)
            curriculum.record("gamma", 0.4, False)
            curriculum.record("gamma", 0.7, False)  # mean 0.55 >= 0.5
            self.assertEqual(curriculum.order[curriculum.level], "alpha")
            for text, message in (("windw = 2\n", "unknown key(s) windw"), ("window = 0\n", "window must be"),
                                  ("promote_at = 0.1\ndemote_at = 0.2\n", "must be below promote_at"),
                                  ("rule = 'x'\n", "rule 'x' is unknown"), ("window = [\n", "not valid TOML")):
                path.write_text(text)
                with self.assertRaises(ValueError) as raised:
                    load_curriculum(str(path))
                self.assertIn(message, str(raised.exception))
                self.assertNotIn("\n", str(raised.exception))
        with self.assertRaisesRegex(ValueError, "not a rule"):
            EnvConfig(curriculum="no_such_rule")
        self.assertEqual(load_curriculum("balanced").rule, "balanced")

    def test_distribution_of_stats_and_report(self):
        shape = distribution([1.0, 0.05, 0.5, 1.7], SCORE_EDGES)
        self.assertEqual(shape["n"], 4)
        self.assertAlmostEqual(shape["percentiles"]["p50"], 0.75)  # between the 2nd and 3rd order statistics
        self.assertAlmostEqual(shape["percentiles"]["p10"], 0.05 + 0.3 * 0.45)
        self.assertEqual(shape["histogram"]["counts"], [1, 0, 0, 0, 0, 1, 0, 0, 0, 2])  # 1.7 clipped to the last bin
        self.assertIsNone(distribution([], SCORE_EDGES)["mean"])

    def test_categories_from_metadata_or_id(self):
        self.assertEqual(id_category("gen2/clamp/3"), "clamp")
        self.assertEqual(id_category("mbpp/11"), "mbpp")


class EnvironmentTest(SandboxCase):
    def play(self, env: CodeRepairEnv, seeds, answer) -> list[str]:
        chosen = []
        for seed in seeds:
            _, info = env.reset(seed=seed)
            chosen.append(info["task_id"])
            env.step(answer(env.tasks[info["task_id"]]))
        return chosen

    def test_the_environment_follows_the_ladder_deterministically(self):
        right = lambda task: RIGHT.format(n=task.task_id.rsplit("/", 1)[1])  # noqa: E731
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "ladder.toml")
            path.write_text('window = 2\nmetric = "passed"\norder = ["beta"]\n')
            for _ in range(2):
                env = CodeRepairEnv(TASKS, self.executor, EnvConfig(max_revisions=0, curriculum=str(path)))
                runs.append((self.play(env, range(8), right), env.practice.curriculum_json()))
        (tasks_a, state_a), (tasks_b, state_b) = runs
        self.assertEqual(tasks_a, tasks_b)  # same seeds and rewards: same tasks
        self.assertEqual(state_a, state_b)
        self.assertEqual([id_category(t) for t in tasks_a[:2]], ["beta", "beta"])  # level 0: the frontier only
        self.assertEqual(state_a["changes"][0]["to"], "alpha")
        self.assertIn("alpha", {id_category(t) for t in tasks_a[2:4]})

    def test_a_task_id_overrides_and_a_wrong_answer_demotes(self):
        env = CodeRepairEnv(TASKS, self.executor, EnvConfig(max_revisions=0, curriculum="rolling"))
        _, info = env.reset(seed=0, options={"task_id": "gen2/gamma/2"})
        self.assertEqual((info["task_id"], info["category"]), ("gen2/gamma/2", "gamma"))
        env.step(WRONG)
        state = env.practice.curriculum_json()
        self.assertEqual((state["episodes"], state["categories"]["gamma"]["window"]), (1, [-0.0]))
        self.assertEqual(env.trace().metadata, {"category": "gamma", "memory": None})


class CurriculumServerTest(SandboxCase):
    served = (TASKS, EnvConfig(max_revisions=0, curriculum="rolling"))

    def test_endpoints(self):
        status, first = call(self.base, "/reset", {"seed": 3})
        self.assertEqual(status, 200, first)
        task_id = first["metadata"]["task_id"]
        status, _ = call(self.base, "/step", {"session_id": first["session_id"],
                                              "action": {"code": RIGHT.format(n=task_id.rsplit("/", 1)[1])}})
        self.assertEqual(status, 200)
        status, curriculum = call(self.base, "/curriculum")
        self.assertEqual(status, 200)
        self.assertEqual({key for key in curriculum}, {"enabled", "rule", "space", "thresholds", "level", "frontier",
                                                       "episodes", "categories", "changes"})
        self.assertEqual((curriculum["rule"], curriculum["level"], curriculum["episodes"]), ("rolling", 0, 1))
        self.assertEqual(curriculum["thresholds"], CurriculumConfig().to_json())
        self.assertEqual(set(curriculum["categories"]), set(FAMILIES))
        self.assertEqual(curriculum["categories"][curriculum["frontier"]]["weight"], 1.0)
        status, stats = call(self.base, "/stats")
        self.assertEqual(status, 200)
        self.assertEqual(stats["episodes"], 1)
        self.assertEqual(stats["by_category"], {id_category(task_id): {"episodes": 1, "mean_return": 1.0,
                                                                       "pass_rate": 1.0}})
        self.assertEqual(stats["efficiency"]["score"]["n"], 0)  # no efficiency records: an empty distribution
        for path, method, status_code, code in (("/curriculum", "POST", 405, "method_not_allowed"),
                                                ("/stats", "POST", 405, "method_not_allowed"),
                                                ("/curriculum/x", "GET", 404, "not_found"),
                                                ("/curriculum", "DELETE", 501, "bad_http")):
            status, answer = call(self.base, path, data=b"{}" if method == "POST" else None, method=method)
            self.assertEqual((status, answer["error"]["code"]), (status_code, code), path)
        self.assertIn("/curriculum", call(self.base, "/nowhere")[1]["error"]["message"])

    def test_serve_env_refuses_a_bad_curriculum_in_one_line(self):
        code, _, err = support.run_in_process(support.load_script("serve_env"), "--tasks", support.REPO_ROOT /
                                              "configs/datasets/tasks.example.jsonl", "--curriculum",
                                              "nothing_of_the_kind", "--port", "0")
        self.assertEqual(code, 2)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("--curriculum nothing_of_the_kind", err)


if __name__ == "__main__":
    unittest.main()
