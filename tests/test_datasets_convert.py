import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.datasets.convert import prompt_groups, reveal_visible_tests
from codeself.datasets.splits import hash_split
from codeself.datasets.task import Task
from codeself.jsonl import sha256_file

MBPP_SMALL = support.FIXTURES / "datasets_mbpp_small.jsonl"
EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


def task(prompt, public, hidden, starter=""):
    return Task(task_id="c/1", source="x", prompt=prompt, entry_point="f", starter_code=starter,
                public_tests=tuple(public), hidden_tests=tuple(hidden), setup_code="", reference_solution=None,
                split=None, metadata={})


class RevealTest(unittest.TestCase):
    def test_visible_hidden_tests_become_public(self):
        result = reveal_visible_tests(task("f(1) == 2 for example", ["assert f(0) == 0"],
                                           ["assert f(1) == 2", "assert f(5) == 9", "assert f(0)==0"]))
        # f(1) == 2 is in the prompt -> public; f(0)==0 duplicates a public test -> dropped.
        self.assertEqual(result.public_tests, ("assert f(0) == 0", "assert f(1) == 2"))
        self.assertEqual(result.hidden_tests, ("assert f(5) == 9",))
        self.assertEqual(result.metadata, {"hidden_tests_made_public": 1})

    def test_test_sets_follow_the_moved_and_dropped_tests(self):
        before = task("f(1) == 2 for example", ["assert f(0) == 0"],
                      ["assert f(3) == 4", "assert f(1) == 2", "assert f(0)==0", "assert f(5) == 9"])
        before = Task(**{**before.__dict__, "metadata": {"test_sets": {"base": [0, 1], "plus": [2, 3, 4]}}})
        result = reveal_visible_tests(before)
        # f(1) == 2 (plus, position 2) moves to public position 1; f(0)==0 (plus, 3) copies the public
        # test and is dropped; f(3) == 4 (base, 1) -> 2; f(5) == 9 (plus, 4) -> 3.
        self.assertEqual(result.public_tests + result.hidden_tests,
                         ("assert f(0) == 0", "assert f(1) == 2", "assert f(3) == 4", "assert f(5) == 9"))
        self.assertEqual(result.metadata["test_sets"], {"base": [0, 2], "plus": [1, 3]})

    def test_all_visible_stay_hidden_and_are_acknowledged(self):
        result = reveal_visible_tests(task("f(1) == 2", [], ["assert f(1) == 2"], starter="def f(x):\n"))
        self.assertEqual(result.hidden_tests, ("assert f(1) == 2",))
        self.assertEqual(result.metadata, {"hidden_tests_visible_in_prompt": [0]})

    def test_prompt_groups(self):
        groups = prompt_groups(iter([("m/10", "Same  text"), ("m/2", "same text"), ("m/3", "Same text ")]))
        # Whitespace is collapsed but case is kept: m/2 differs from the others.
        self.assertEqual(groups, {"m/10": ["m/3", "m/10"], "m/3": ["m/3", "m/10"]})


class FirstPassTest(unittest.TestCase):
    def test_light_id_and_prompt_are_the_converted_tasks(self):
        """The first pass groups duplicate prompts by (id, prompt) read without converting:
        they must be the converted task's own, record by record."""
        from codeself.datasets.humaneval import humaneval_prompt, humaneval_to_task, iter_humaneval_records
        from codeself.datasets.mbpp import iter_mbpp_records, mbpp_prompt, mbpp_to_task

        for name, records, light, full in (
                ("datasets_humaneval_small.jsonl", iter_humaneval_records, humaneval_prompt, humaneval_to_task),
                ("datasets_mbpp_small.jsonl", iter_mbpp_records, mbpp_prompt, mbpp_to_task),
                ("datasets_mbpp_sanitized_small.json", iter_mbpp_records, mbpp_prompt, mbpp_to_task)):
            pairs = [(light(record), full(record)) for _, record in records(support.FIXTURES / name)]
            self.assertGreaterEqual(len(pairs), 1, name)
            for (task_id, prompt), task in pairs:
                self.assertEqual((task_id, prompt), (task.task_id, task.prompt), name)


class PrepareScriptTest(unittest.TestCase):
    def run_prepare(self, *args):
        return support.run_script("prepare_datasets.py", *args, "--quiet")

    def test_mbpp_fixture_with_official_split(self):
        with tempfile.TemporaryDirectory() as tmp:
            out, manifest = Path(tmp, "out.jsonl"), Path(tmp, "m.json")
            result = self.run_prepare("--format", "mbpp", "--input", MBPP_SMALL, "--output", out,
                                      "--assign-splits", "--manifest", manifest, "--include-challenge-tests")
            self.assertEqual(result.returncode, 0, result.stderr)
            no_overlap = "0 of 1 tasks have a train task's reference solution, 0 share an assert with train " \
                         "(0 a hidden one)"
            self.assertEqual(result.stdout, f"wrote 3 tasks to {out} (train 1, test 1, prompt 1)\n"
                                            f"test: {no_overlap}\nprompt: {no_overlap}\n"
                                            f"wrote split manifest to {manifest}\n")
            self.assertEqual(result.stderr, "")
            records = [json.loads(line) for line in out.read_text().splitlines()]
            data = json.loads(manifest.read_text())
            self.assertEqual([r["split"] for r in records], ["prompt", "test", "train"])
            self.assertEqual(records[0]["hidden_tests"][-1], "assert add_nums(10 ** 20, 1) == 10 ** 20 + 1")
            self.assertEqual(data["method"], "mbpp_official")
            self.assertEqual(data["input"], {"file": MBPP_SMALL.name, "sha256": sha256_file(MBPP_SMALL)})
            self.assertEqual(data["output"]["sha256"], sha256_file(out))
            self.assertEqual(data["splits"]["test"], {"count": 1, "task_ids": ["mbpp/367"]})
            self.assertEqual(data["generator"], None)
            self.assertEqual(data["overlap_with_train"]["test"], {"tasks": 1, "same_reference_solution": 0,
                                                                  "sharing_an_assert": 0, "sharing_a_hidden_assert": 0})
            check = support.run_script("validate_task_schema.py", out)
            self.assertEqual(check.returncode, 0, check.stdout)

    def test_canonical_hash_split_is_reproducible(self):
        with tempfile.TemporaryDirectory() as tmp:
            outputs = []
            for run in ("a", "b"):
                out, manifest = Path(tmp, f"{run}.jsonl"), Path(tmp, f"{run}.json")
                result = self.run_prepare("--format", "canonical", "--input", EXAMPLES, "--output", out,
                                          "--assign-splits", "--seed", "3", "--ratios", "train=0.5,test=0.5",
                                          "--manifest", manifest)
                self.assertEqual(result.returncode, 0, result.stderr)
                outputs.append(out.read_bytes())
            self.assertEqual(outputs[0], outputs[1])
            records = [json.loads(line) for line in outputs[0].decode().splitlines()]
            ratios = {"train": 0.5, "test": 0.5}
            self.assertEqual([r["split"] for r in records], [hash_split(r["task_id"], 3, ratios) for r in records])
            data = json.loads(Path(tmp, "a.json").read_text())
            self.assertEqual((data["method"], data["seed"], data["ratios"]), ("hash", 3, ratios))

    def test_canonical_without_split_flag_keeps_splits(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "copy.jsonl")
            result = self.run_prepare("--format", "canonical", "--input", EXAMPLES, "--output", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(out.read_bytes(), EXAMPLES.read_bytes())

    def test_bad_inputs_give_one_line_and_no_traceback(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "out.jsonl")
            bad_json = support.FIXTURES / "datasets_bad_json_line.jsonl"
            humaneval = support.FIXTURES / "datasets_humaneval_small.jsonl"
            cases = [
                (("--format", "mbpp", "--input", Path(tmp, "missing.jsonl"), "--output", out), "missing.jsonl: no such file"),
                (("--format", "canonical", "--input", bad_json, "--output", out), f"{bad_json}:2: invalid JSON"),
                (("--format", "mbpp", "--input", humaneval, "--output", out), f"{humaneval}:1: HumanEval/0: MBPP record needs"),
                (("--format", "mbpp", "--input", MBPP_SMALL, "--output", MBPP_SMALL), "is also an input"),
                (("--format", "mbpp", "--input", MBPP_SMALL, "--output", out, "--ratios", "train=1"), "only makes sense"),
                (("--format", "mbpp", "--input", MBPP_SMALL, "--output", out, "--public-tests", "-1"), "0 or more"),
            ]
            for index, (args, fragment) in enumerate(cases):
                with self.subTest(args=args):
                    # the first in a real process; the rest are refused before any work, so in this
                    # one (support.refusal: no interpreter start each)
                    result = self.run_prepare(*args) if index == 0 else support.refusal("prepare_datasets.py", *args,
                                                                                         "--quiet")
                    self.assertEqual(result.returncode, 2)
                    self.assertEqual(result.stdout, "")
                    self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
                    self.assertTrue(result.stderr.startswith("prepare_datasets.py: error: "), result.stderr)
                    self.assertIn(fragment, result.stderr)
            self.assertFalse(out.exists())
            self.assertEqual(sorted(p.name for p in Path(tmp).iterdir()), [])


if __name__ == "__main__":
    unittest.main()
