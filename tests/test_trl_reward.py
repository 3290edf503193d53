"""The TRL reward-function contract of CorrectnessReward, exercised without installing TRL.

GRPOTrainer calls each reward function as
    reward_func(prompts=prompts, completions=completions, completion_ids=completion_ids_list, **reward_kwargs)
where reward_kwargs holds every dataset column except prompt/completion/completion_ids as a list
aligned with the completions, plus `trainer_state` (and in newer versions `log_extra` and
`log_metric`), and logs the function under `reward_func.__name__`. The calls below mimic that.
"""

import support  # noqa: F401

import pickle
import tempfile
import threading
import types
import unittest
from pathlib import Path

from codeself.datasets.task import Task
from codeself.jsonl import write_jsonl
from codeself.rewards.trl import CorrectnessReward, completion_text

ADD = Task(task_id="example/add", source="example", prompt="Write add(a, b).", entry_point="add",
           starter_code="def add(a, b):\n", public_tests=("assert add(1, 2) == 3",),
           hidden_tests=("assert add(2, 2) == 4", "assert add(-1, 1) == 0"), setup_code="",
           reference_solution="def add(a, b):\n    return a + b\n", split="train", metadata={})
SQUARE = Task(task_id="example/square", source="example", prompt="Write square(x).", entry_point="square",
              starter_code="", public_tests=("assert square(3) == 9",), hidden_tests=("assert square(-2) == 4",),
              setup_code="", reference_solution="def square(x):\n    return x * x\n", split="train", metadata={})
TASKS = {ADD.task_id: ADD, SQUARE.task_id: SQUARE}

CORRECT_ADD = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\n"
WRONG_ADD = "```python\ndef add(a, b):\n    return a - b\n```"
CORRECT_SQUARE = "```py\ndef square(x):\n    return x ** 2\n```"
PROSE = "I am not sure how to do this."


def trl_call(reward, prompts, completions, **columns):
    """Call `reward` the way GRPOTrainer._calculate_rewards does."""
    completion_ids = [[1, 2, 3] for _ in completions]
    reward_kwargs = {**columns, "trainer_state": types.SimpleNamespace(global_step=3),
                     "log_extra": lambda *a, **k: None, "log_metric": lambda *a, **k: None}
    return reward(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)


class CompletionTextTest(unittest.TestCase):
    def test_plain_and_conversational(self):
        self.assertEqual(completion_text("abc"), "abc")
        messages = [{"role": "assistant", "content": "first"}, {"role": "user", "content": "more"},
                    {"role": "assistant", "content": "last"}]
        self.assertEqual(completion_text(messages), "last")
        parts = [{"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"},
                                                   {"type": "text", "text": "b"}]}]
        self.assertEqual(completion_text(parts), "ab")
        with self.assertRaisesRegex(ValueError, "no message with role 'assistant'"):
            completion_text([{"role": "user", "content": "x"}])
        with self.assertRaisesRegex(ValueError, "must be a string or a list of messages"):
            completion_text(42)


class CorrectnessRewardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from codeself.execution.engine import ExecutionConfig

        cls.reward = CorrectnessReward(TASKS, executor_config=ExecutionConfig(workers=1))

    @classmethod
    def tearDownClass(cls):
        cls.reward.close()

    def test_name_for_trl_logging(self):
        self.assertEqual(self.reward.__name__, "reward_v0_correctness")

    def test_plain_completions_with_extra_columns(self):
        prompts = [ADD.prompt, ADD.prompt, SQUARE.prompt, SQUARE.prompt]
        rewards = trl_call(self.reward, prompts, [CORRECT_ADD, WRONG_ADD, CORRECT_SQUARE, PROSE],
                           task_id=[ADD.task_id, ADD.task_id, SQUARE.task_id, SQUARE.task_id],
                           split=["train"] * 4)
        self.assertEqual(rewards, [1.0, 0.0, 1.0, 0.0])
        records = self.reward.last_records
        self.assertEqual([r.diagnostics["status"] for r in records], ["passed", "failed", "passed", None])
        self.assertEqual(records[3].diagnostics["parse_status"], "no_code")
        self.assertFalse(records[3].diagnostics["executed"])

    def test_conversational_completions(self):
        prompts = [[{"role": "user", "content": ADD.prompt}]] * 2
        completions = [[{"role": "assistant", "content": CORRECT_ADD}],
                       [{"role": "assistant", "content": CORRECT_ADD}, {"role": "assistant", "content": WRONG_ADD}]]
        rewards = trl_call(self.reward, prompts, completions, task_id=[ADD.task_id] * 2)
        self.assertEqual(rewards, [1.0, 0.0])  # the last assistant message counts

    def test_callable_from_another_thread(self):
        results, errors = [], []

        def work():
            try:
                results.append(trl_call(self.reward, [SQUARE.prompt], [CORRECT_SQUARE], task_id=[SQUARE.task_id]))
            except Exception as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(results, [[1.0], [1.0]])

    def test_unknown_task_and_missing_column_are_clear_errors(self):
        with self.assertRaisesRegex(ValueError, r"unknown task_id\(s\) mbpp/999; not among the 2 tasks"):
            trl_call(self.reward, ["p"], [CORRECT_ADD], task_id=["mbpp/999"])
        with self.assertRaisesRegex(ValueError, r"needs a 'task_id' column \(got columns: log_extra, log_metric, split\)"):
            trl_call(self.reward, ["p"], [CORRECT_ADD], split=["train"])
        with self.assertRaisesRegex(ValueError, "2 completions but 1 task_ids"):
            trl_call(self.reward, ["p", "q"], [CORRECT_ADD, CORRECT_ADD], task_id=[ADD.task_id])

    def test_pickles_without_its_worker_processes(self):
        trl_call(self.reward, [ADD.prompt], [CORRECT_ADD], task_id=[ADD.task_id])  # executor now running
        copy = pickle.loads(pickle.dumps(self.reward))
        try:
            self.assertIsNone(copy._executor)
            self.assertEqual(copy.__name__, "reward_v0_correctness")
            self.assertEqual(trl_call(copy, [ADD.prompt], [WRONG_ADD], task_id=[ADD.task_id]), [0.0])
        finally:
            copy.close()


class ConstructionTest(unittest.TestCase):
    def test_tasks_from_a_jsonl_path_and_lazy_executor(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "tasks.jsonl"
            write_jsonl(path, [ADD.to_json(), SQUARE.to_json()])
            reward = CorrectnessReward(path)
        self.assertEqual(sorted(reward.tasks), ["example/add", "example/square"])
        self.assertIsNone(reward._executor)  # nothing started at construction
        # a batch with no extractable code never starts the sandbox
        self.assertEqual(trl_call(reward, ["p"], [PROSE], task_id=[ADD.task_id]), [0.0])
        self.assertIsNone(reward._executor)
        pickle.loads(pickle.dumps(reward))

    def test_mismatched_mapping_is_refused(self):
        with self.assertRaisesRegex(ValueError, "wrong entries: other"):
            CorrectnessReward({"other": ADD})


if __name__ == "__main__":
    unittest.main()
