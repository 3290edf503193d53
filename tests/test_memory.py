"""The memory (agents/agentic/memory.py): it keeps the best passing answer of train-split episodes
only and shows it in later first messages; a test- or validation-split answer is never stored;
a canary planted in every hidden test never reaches the memory, an observation or GET /memory."""

import support

import json
import unittest
import uuid

from test_agentic_server import call
from test_curriculum import SandboxCase, family_task

from codeself.agents.agentic.env import CodeRepairEnv, EnvConfig
from codeself.agents.agentic.memory import Memory
from codeself.agents.agentic.report import iter_summaries, strategy_metrics
from codeself.agents.agentic.report_markdown import figures, render_markdown
from codeself.agents.agentic.trace import MODEL_VISIBLE_TURN_FIELDS

CANARY = f"CODESELF-CANARY-{uuid.uuid4().hex}"


def planted(n: int, split: str):
    """A task of family `fam` whose hidden tests carry the canary (a comment, and a value)."""
    task = family_task("fam", n, split)
    return type(task)(**{**task.__dict__, "hidden_tests": (f"assert f(2) == {2 + n}  # {CANARY}",
                                                           f"assert f(1) != {CANARY!r}")})


TASKS = {task.task_id: task for task in (planted(0, "train"), planted(1, "train"), planted(2, "validation"),
                                         planted(3, "test"))}


def answer(task_id: str, marker: str, right: bool = True) -> str:
    n = int(task_id.rsplit("/", 1)[1])
    return f"```python\ndef f(x):\n    # {marker}\n    return {'x + ' + str(n) if right else '0'}\n```"


class MemoryUnitTest(unittest.TestCase):
    def test_best_passing_train_answer_wins(self):
        memory, train, test = Memory("family"), TASKS["gen2/fam/0"], TASKS["gen2/fam/3"]
        offer = lambda task, code, score, passed=True: memory.offer(  # noqa: E731
            task, passed=passed, code=code, score=score, episode_id=code, turn=1)
        self.assertTrue(offer(train, "unscored", None))
        self.assertTrue(offer(train, "half", 0.5))  # a scored answer beats an unscored one
        self.assertFalse(offer(train, "third", 0.3))
        self.assertFalse(offer(train, "tie", 0.5))  # ties keep the older entry
        self.assertFalse(offer(train, "failing", 1.0, passed=False))
        self.assertFalse(offer(test, "test split", 1.0))
        state = memory.to_json()
        self.assertEqual([entry["code"] for entry in state["entries"]], ["half"])
        self.assertEqual(state["counts"], {"offered": 6, "stored": 2, "not_train": 1, "not_passed": 1,
                                           "not_better": 2, "shown": 0})
        self.assertEqual(memory.recall(test).code, "half")  # shown to any task of the family


class MemoryEnvironmentTest(SandboxCase):
    def episode(self, env, task_id, reply):
        observation, info = env.reset(seed=0, options={"task_id": task_id})
        env.step(reply)
        return observation, info, env.trace()

    def assert_clean(self, env, *texts):
        for text in (json.dumps(env.practice.memory_json()), *texts):
            self.assertNotIn(CANARY, text)
            self.assertNotIn("TEST-SPLIT", text)

    def test_train_answers_only_shown_later_canary_never(self):
        env = CodeRepairEnv(TASKS, self.executor, EnvConfig(max_revisions=0, memory="family"))
        seen = []
        for task_id, marker, right in (("gen2/fam/3", "TEST-SPLIT answer", True),
                                       ("gen2/fam/2", "TEST-SPLIT validation answer", True),
                                       ("gen2/fam/0", "wrong train answer", False)):
            observation, _, trace = self.episode(env, task_id, answer(task_id, marker, right))
            self.assertEqual(trace.final["passed"], right)
            self.assertIsNone(trace.metadata["memory"])  # nothing stored yet, nothing shown
            seen.append(json.dumps(observation))
        self.assertEqual(env.practice.memory_json()["entries"], [])
        _, _, stored = self.episode(env, "gen2/fam/0", answer("gen2/fam/0", "TRAIN-ANSWER"))
        entries = env.practice.memory_json()["entries"]
        self.assertEqual([(e["key"], e["task_id"], e["episode_id"], e["turn"]) for e in entries],
                         [("fam", "gen2/fam/0", stored.episode_id, 1)])
        observation, info, later = self.episode(env, "gen2/fam/3", answer("gen2/fam/3", "again"))
        first = observation["messages"][-1]["content"]
        self.assertIn("# TRAIN-ANSWER", first)
        self.assertIn("practice task gen2/fam/0 of the same family (fam)", first)
        self.assertEqual(info["category"], "fam")
        self.assertEqual(later.metadata["memory"]["source_episode"], stored.episode_id)
        self.assertEqual(later.prompt[-1]["content"], first)
        record = later.to_json()
        visible = [record["prompt"]] + [turn[name] for turn in record["turns"] for name in MODEL_VISIBLE_TURN_FIELDS]
        self.assert_clean(env, *seen, json.dumps(observation), json.dumps(visible))
        self.assertEqual(env.practice.stats.to_json()["memory"], {"shown_episodes": 1, "shown_passed": 1,
                                                                  "not_shown_episodes": 4, "not_shown_passed": 3})
        metrics = strategy_metrics(iter_summaries([stored, later]))  # the strategy report counts the hit
        self.assertEqual((metrics["memory"]["episodes"], metrics["memory"]["hits"]["successes"]), (2, 1))
        self.assertEqual([row["category"] for row in metrics["reward_by_category"]], ["fam"])
        self.assertIn("memory.svg", figures(metrics))
        self.assertIn("## Memory", render_markdown(metrics, "figures"))

    def test_task_scope_and_off_by_default(self):
        env = CodeRepairEnv(TASKS, self.executor, EnvConfig(max_revisions=0, memory="task"))
        self.episode(env, "gen2/fam/0", answer("gen2/fam/0", "TRAIN-ANSWER"))
        other, _, _ = self.episode(env, "gen2/fam/1", answer("gen2/fam/1", "x"))
        same, _, _ = self.episode(env, "gen2/fam/0", answer("gen2/fam/0", "y"))
        self.assertNotIn("TRAIN-ANSWER", json.dumps(other))
        self.assertIn("this task, from an earlier practice episode", same["messages"][-1]["content"])
        plain = CodeRepairEnv(TASKS, self.executor, EnvConfig(max_revisions=0))
        self.assertIsNone(plain.practice.memory)
        self.assertEqual(plain.config.to_json(), EnvConfig(max_revisions=0).to_json())
        self.assertNotIn("memory", plain.config.to_json())  # off: the config hash is the older one


class MemoryServerTest(SandboxCase):
    served = (TASKS, EnvConfig(max_revisions=0, memory="family"))

    def play(self, task_id: str, marker: str) -> dict:
        status, first = call(self.base, "/reset", {"seed": 1, "task_id": task_id})
        self.assertEqual(status, 200, first)
        status, last = call(self.base, "/step", {"session_id": first["session_id"],
                                                 "action": {"code": answer(task_id, marker)}})
        self.assertEqual(status, 200, last)
        return first

    def test_get_memory(self):
        self.play("gen2/fam/3", "TEST-SPLIT answer")
        self.play("gen2/fam/1", "TRAIN over HTTP")
        first = self.play("gen2/fam/2", "validation")  # sessions share the memory: shown here
        self.assertIn("TRAIN over HTTP", first["observation"]["messages"][-1]["content"])
        status, memory = call(self.base, "/memory")
        self.assertEqual(status, 200)
        self.assertEqual((memory["enabled"], memory["scope"], memory["split"]), (True, "family", "train"))
        self.assertEqual([set(entry) for entry in memory["entries"]],
                         [{"key", "task_id", "family", "score", "code", "episode_id", "turn"}])
        self.assertEqual(memory["entries"][0]["task_id"], "gen2/fam/1")
        self.assertEqual(memory["counts"]["not_train"], 2)
        text = json.dumps(memory) + json.dumps(first)
        self.assertNotIn(CANARY, text)
        self.assertNotIn("TEST-SPLIT", text)
        status, refused = call(self.base, "/memory", data=b"{}", method="POST")
        self.assertEqual((status, refused["error"]["code"]), (405, "method_not_allowed"))
        status, off = call(self.base, "/curriculum")
        self.assertEqual((status, off), (200, {"enabled": False}))


if __name__ == "__main__":
    unittest.main()
