import support  # noqa: F401

import hashlib
import unittest

from codeself.datasets.splits import (
    DEFAULT_RATIOS, ManifestBuilder, hash_split, hash_unit, make_assigner, natural_key, parse_ratios,
)
from codeself.datasets.task import Task


def task(task_id, split=None, original=None):
    metadata = {"original_task_id": original} if original is not None else {}
    return Task(task_id=task_id, source="x", prompt="p", entry_point="f", starter_code="", public_tests=(),
                hidden_tests=("assert f()",), setup_code="", reference_solution=None, split=split, metadata=metadata)


class RatiosTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(parse_ratios("train=0.7, validation=0.1,test=0.2"),
                         {"train": 0.7, "validation": 0.1, "test": 0.2})
        self.assertEqual(parse_ratios("test=1"), {"test": 1.0})

    def test_bad(self):
        for text, message in (("train=0.5", "sum to 1"), ("dev=1", "NAME=FRACTION"), ("train=x", "not a number"),
                              ("train=0.5,train=0.5", "each split once"), ("train=1.5,test=-0.5", "between 0 and 1")):
            with self.subTest(text=text), self.assertRaisesRegex(ValueError, message):
                parse_ratios(text)


class HashSplitTest(unittest.TestCase):
    def test_hash_unit_is_sha256_of_seed_and_key(self):
        digest = hashlib.sha256(b"7\x00mbpp/1").digest()
        self.assertEqual(hash_unit(7, "mbpp/1"), int.from_bytes(digest[:8], "big") / 2**64)

    def test_split_follows_cumulative_intervals(self):
        # Intervals in SPLITS order: train [0, 0.8), validation [0.8, 0.9), test [0.9, 1).
        for number in range(200):
            key = f"t/{number}"
            point = hash_unit(3, key)
            expected = "train" if point < 0.8 else "validation" if point < 0.9 else "test"
            self.assertEqual(hash_split(key, 3, DEFAULT_RATIOS), expected)

    def test_seed_changes_assignment_and_zero_ratio_is_never_chosen(self):
        keys = [f"t/{n}" for n in range(300)]
        seed0 = [hash_split(k, 0, DEFAULT_RATIOS) for k in keys]
        seed1 = [hash_split(k, 1, DEFAULT_RATIOS) for k in keys]
        self.assertNotEqual(seed0, seed1)
        self.assertEqual({hash_split(k, 0, {"train": 0.5, "validation": 0.0, "test": 0.5}) for k in keys},
                         {"train", "test"})

    def test_group_key_keeps_same_prompt_tasks_together(self):
        assign = make_assigner("hash", seed=5, group_of=lambda task_id: "g/1")
        self.assertEqual(len({assign(task(f"t/{n}")) for n in range(50)}), 1)


class AssignerTest(unittest.TestCase):
    def test_mbpp_official(self):
        assign = make_assigner("mbpp_official")
        splits = [assign(task(f"mbpp/{n}", original=n)) for n in (1, 10, 11, 510, 511, 600, 601, 974)]
        self.assertEqual(splits, ["prompt", "prompt", "test", "test", "validation", "validation", "train", "train"])
        with self.assertRaisesRegex(ValueError, "not an original MBPP id"):
            assign(task("mbpp/975", original=975))

    def test_keep(self):
        self.assertEqual(make_assigner("keep")(task("a", split="test")), "test")


class ManifestTest(unittest.TestCase):
    def test_natural_order(self):
        self.assertEqual(sorted(["m/10", "m/2", "h/1", "m/1"], key=natural_key), ["h/1", "m/1", "m/2", "m/10"])

    def test_build(self):
        builder = ManifestBuilder()
        for t in (task("m/10", "train"), task("m/2", "train"), task("m/3", "test"), task("m/4")):
            builder.add(t)
        builder.skip("m/9", "no usable output")
        manifest = builder.build(source_format="canonical", method="hash", seed=1, ratios={"train": 1.0},
                                 input_file="in.jsonl", input_sha256="a", output_file="out.jsonl", output_sha256="b")
        self.assertEqual(manifest["splits"]["train"], {"count": 2, "task_ids": ["m/2", "m/10"]})
        self.assertEqual(manifest["counts"], {"train": 2, "test": 1, "unassigned": 1})
        self.assertEqual(manifest["total"], 4)
        self.assertEqual(manifest["skipped_tasks"], [{"task_id": "m/9", "reason": "no usable output"}])
        self.assertEqual((manifest["input"], manifest["output"]),
                         ({"file": "in.jsonl", "sha256": "a"}, {"file": "out.jsonl", "sha256": "b"}))


if __name__ == "__main__":
    unittest.main()
