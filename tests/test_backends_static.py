import gzip
import json
import tempfile
import unittest
from pathlib import Path

import support  # noqa: F401

from codeself.agents.backends import BackendOptions, GenerationRequest, StaticBackend, create_backend
from codeself.agents.backends.static import foreign_task_ids, sample_key
from codeself.agents.parsing import parse_completion
from codeself.agents.pipeline import RolloutRun, sample_indices
from codeself.agents.templates import load_template
from codeself.datasets.task import PublicTask, Task


def public(task_id: str, starter: str = "def f(x):\n") -> PublicTask:
    return PublicTask(task_id, "p", "f", starter, ())


class StaticBackendTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, records, name="samples.jsonl", raw_lines=()) -> Path:
        path = Path(self.tmp.name) / name
        text = "".join(json.dumps(r) + "\n" for r in records) + "".join(raw_lines)
        if name.endswith(".gz"):
            with gzip.open(path, "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def test_human_eval_samples_replay_in_file_order_as_continuations(self):
        path = self.write([{"task_id": "HumanEval/0", "completion": "    return x\n"},
                           {"task_id": "HumanEval/1", "completion": "    return 1\n"},
                           {"task_id": "HumanEval/0", "completion": "    return x + 1\n"}])
        backend = create_backend("static", BackendOptions(completions=str(path)))
        self.assertEqual(backend.samples_available("humaneval/0"), 2)
        self.assertEqual(backend.samples_available("humaneval/2"), 0)
        [generations] = backend.generate([GenerationRequest(public("humaneval/0"), "", (0, 1), 0)])
        self.assertEqual([g.completion for g in generations], ["    return x\n", "    return x + 1\n"])
        self.assertEqual({g.parse_mode for g in generations}, {"continuation"})
        self.assertEqual(generations[0].metadata, {"static_format": "human-eval", "static_task_id": "HumanEval/0"})
        parsed = parse_completion(generations[1].completion, "def f(x):\n", "f", mode=generations[1].parse_mode)
        self.assertEqual(parsed.code, "def f(x):\n    return x + 1\n")
        self.assertEqual(backend.unused_keys(), ["HumanEval/1"])
        backend.close()

    def test_formats_by_line(self):
        path = self.write([{"task_id": "Mbpp/2", "solution": "def f(x):\n    return x\n"},
                           {"task_id": "mbppplus/2", "rollout_id": "r", "completion": "```python\nx = 1\n```"}],
                          name="mixed.jsonl.gz")
        backend = StaticBackend(str(path))
        with self.assertRaisesRegex(ValueError, "both 'mbppplus/2' and 'Mbpp/2'"):
            backend.samples_available("mbppplus/2")
        path = self.write([{"task_id": "Mbpp/2", "solution": "S"}, {"task_id": "mbpp/3", "rollout_id": "r",
                           "completion": "C"}], name="two.jsonl.gz")
        backend = StaticBackend(str(path))
        [[evalplus], [codeself]] = backend.generate([GenerationRequest(public("mbppplus/2"), "", (0,), 0),
                                                     GenerationRequest(public("mbpp/3"), "", (0,), 0)])
        self.assertEqual((evalplus.completion, evalplus.parse_mode), ("S", "program"))
        self.assertEqual((codeself.completion, codeself.parse_mode), ("C", "auto"))
        self.assertEqual(backend.formats, {"evalplus": 1, "codeself": 1})

    def test_config_hashes_the_file_content(self):
        first = StaticBackend(str(self.write([{"task_id": "a/1", "completion": "x"}], name="a.jsonl")))
        second = StaticBackend(str(self.write([{"task_id": "a/1", "completion": "y"}], name="b.jsonl")))
        self.assertNotEqual(first.config()["completions_sha256"], second.config()["completions_sha256"])

    def test_bad_files_fail_with_file_and_line(self):
        cases = [([{"task_id": "a/1"}], "samples.jsonl:1: needs a string 'completion'"),
                 ([{"completion": "x"}], "samples.jsonl:1: a sample must be a JSON object with a 'task_id'"),
                 ([{"task_id": "a/1", "completion": "x"}], None)]
        for records, message in cases:
            path = self.write(records, raw_lines=["{oops\n"] if message is None else [])
            with self.assertRaisesRegex(ValueError, message or "samples.jsonl:2: invalid JSON"):
                StaticBackend(str(path))
        with self.assertRaisesRegex(ValueError, "no samples"):
            StaticBackend(str(self.write([], raw_lines=["\n"])))
        with self.assertRaisesRegex(ValueError, "needs --completions"):
            create_backend("static", BackendOptions())

    def test_requesting_more_than_the_file_holds_is_an_error(self):
        backend = StaticBackend(str(self.write([{"task_id": "a/1", "completion": "x"}])))
        with self.assertRaisesRegex(ValueError, "has 1 sample.* sample 1 was requested"):
            backend.generate([GenerationRequest(public("a/1"), "", (1,), 0)])


class SampleIndicesTest(unittest.TestCase):
    def test_static_counts_capped_by_samples_per_task_and_resume(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "s.jsonl"
            path.write_text("".join(json.dumps({"task_id": "HumanEval/0", "completion": str(i)}) + "\n"
                                    for i in range(3)))
            backend = StaticBackend(str(path))
            task = Task("humaneval/0", "humaneval", "p", "f", "", (), (), "", None, None, {})
            run = lambda k: RolloutRun(backend, load_template("chat_default"), "h", 0, k)  # noqa: E731
            self.assertEqual(sample_indices(run(None), task, lambda t, i: False), (0, 1, 2))
            self.assertEqual(sample_indices(run(2), task, lambda t, i: False), (0, 1))
            self.assertEqual(sample_indices(run(None), task, lambda t, i: i == 1), (0, 2))
            backend.close()


class TaskIdMappingTest(unittest.TestCase):
    def test_foreign_forms(self):
        self.assertEqual(foreign_task_ids("humaneval/0"), ["humaneval/0", "HumanEval/0"])
        self.assertEqual(foreign_task_ids("humanevalplus/7"), ["humanevalplus/7", "HumanEval/7"])
        self.assertEqual(foreign_task_ids("mbppplus/2"), ["mbppplus/2", "Mbpp/2"])
        self.assertEqual(foreign_task_ids("mbpp/11"), ["mbpp/11"])
        self.assertEqual(foreign_task_ids("example/add"), ["example/add"])

    def test_sample_keys(self):
        self.assertEqual(sample_key(11), "mbpp/11")  # original MBPP files use integer ids
        self.assertEqual(sample_key("HumanEval/3"), "HumanEval/3")
        for bad in ("", None, True, 1.5):
            with self.assertRaises(ValueError):
                sample_key(bad)


if __name__ == "__main__":
    unittest.main()
