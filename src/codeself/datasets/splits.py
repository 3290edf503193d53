"""Deterministic train/validation/test assignment and the split manifest.

A task's split depends only on (seed, task_id) through sha256, never on file order or
on the other tasks, so adding a task never moves an existing one. Tasks sharing a
normalised prompt are placed by their group's first id, so a duplicate prompt cannot
straddle train and test. MBPP's published split is the default for MBPP because results
on it are comparable with the literature.
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

from codeself.datasets.mbpp import mbpp_official_split
from codeself.datasets.task import SPLITS, Task

DEFAULT_RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}
UNASSIGNED = "unassigned"  # manifest key for tasks whose split is null
MANIFEST_VERSION = 1


def parse_ratios(text: str) -> dict[str, float]:
    """`train=0.8,validation=0.1,test=0.1` -> dict; names from SPLITS, sum must be 1."""
    ratios: dict[str, float] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in SPLITS:
            raise ValueError(f"bad ratio {part!r}: expected NAME=FRACTION with NAME one of {', '.join(SPLITS)}")
        try:
            fraction = float(value)
        except ValueError:
            raise ValueError(f"bad ratio {part!r}: {value.strip()!r} is not a number") from None
        if not (0.0 <= fraction <= 1.0) or name in ratios:
            raise ValueError(f"bad ratio {part!r}: each split once, fraction between 0 and 1")
        ratios[name] = fraction
    if not ratios or not math.isclose(sum(ratios.values()), 1.0, abs_tol=1e-9):
        raise ValueError(f"ratios {text!r} must sum to 1")
    return ratios


def hash_unit(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by sha256 of the seed and key."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hash_split(key: str, seed: int, ratios: dict[str, float]) -> str:
    """The split whose cumulative ratio interval (in SPLITS order) holds hash_unit(seed, key)."""
    point = hash_unit(seed, key)
    cumulative = 0.0
    ordered = [name for name in SPLITS if ratios.get(name, 0.0) > 0.0]
    for name in ordered:
        cumulative += ratios[name]
        if point < cumulative:
            return name
    return ordered[-1]  # rounding: the sum is 1 within 1e-9


def natural_key(task_id: str) -> tuple:
    """Sort `mbpp/2` before `mbpp/10`: digit runs compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", task_id) if part)


def make_assigner(method: str, *, seed: int = 0, ratios: dict[str, float] | None = None,
                  group_of: Callable[[str], str] | None = None) -> Callable[[Task], str | None]:
    """A function task -> split for `method`: "hash", "mbpp_official" or "keep"."""
    if method == "keep":
        return lambda task: task.split
    if method == "mbpp_official":
        def official(task: Task) -> str:
            split = mbpp_official_split(task)
            if split is None:
                raise ValueError(f"{task.task_id}: not an original MBPP id 1-974; use --ratios for a hash split")
            return split
        return official
    if method == "hash":
        chosen = ratios or DEFAULT_RATIOS
        group = group_of or (lambda task_id: task_id)
        return lambda task: hash_split(group(task.task_id), seed, chosen)
    raise ValueError(f"unknown split method {method!r}")


def normalised_code(code: str) -> str:
    """Layout-free text of a program or an assert (`ast.unparse`), what "the same solution" or "the
    same assert" compares; text that does not parse is compared with its whitespace collapsed."""
    try:
        return ast.unparse(ast.parse(code))
    except (SyntaxError, ValueError):
        return " ".join(code.split())


class TrainOverlap:
    """What a split shares with `train`: tasks whose reference solution, or one of whose asserts, is
    also a train task's (both `normalised_code`). Remembers hashes of normalised texts only, so
    tasks can stream past in any split order."""

    def __init__(self) -> None:
        self.train_solutions: set[str] = set()
        self.train_asserts: set[str] = set()
        self._others: list[tuple[str, str, list[str], list[str]]] = []  # split, solution, public, hidden

    @staticmethod
    def _key(code: str) -> str:
        return hashlib.sha256(normalised_code(code).encode("utf-8")).hexdigest()

    def add(self, task: Task) -> None:
        solution = self._key(task.reference_solution) if task.reference_solution else ""
        public, hidden = [self._key(t) for t in task.public_tests], [self._key(t) for t in task.hidden_tests]
        if task.split == "train":
            self.train_solutions.add(solution)
            self.train_asserts.update(public + hidden)
        else:
            self._others.append((task.split or UNASSIGNED, solution, public, hidden))

    def repeats_train(self, task: Task) -> bool:
        """True when `task` (of another split) has a train task's solution or one of its asserts."""
        keys = [self._key(t) for t in task.public_tests + task.hidden_tests]
        return (bool(task.reference_solution) and self._key(task.reference_solution) in self.train_solutions) \
            or any(key in self.train_asserts for key in keys)

    def counts(self) -> dict[str, dict[str, int]]:
        """split -> tasks, and how many have a train solution / share an assert / share a hidden assert."""
        if not self.train_solutions and not self.train_asserts:
            return {}
        result: dict[str, dict[str, int]] = {}
        for split, solution, public, hidden in self._others:
            entry = result.setdefault(split, {"tasks": 0, "same_reference_solution": 0,
                                              "sharing_an_assert": 0, "sharing_a_hidden_assert": 0})
            shares_hidden = any(key in self.train_asserts for key in hidden)
            entry["tasks"] += 1
            entry["same_reference_solution"] += bool(solution) and solution in self.train_solutions
            entry["sharing_an_assert"] += shares_hidden or any(key in self.train_asserts for key in public)
            entry["sharing_a_hidden_assert"] += shares_hidden
        return result


class ManifestBuilder:
    """Collects task ids per split while tasks stream past (ids, and hashes for the train overlap;
    never records)."""

    def __init__(self) -> None:
        self._ids: dict[str, list[str]] = {}
        self.skipped: list[dict[str, str]] = []
        self.overlap = TrainOverlap()

    def skip(self, task_id: str, reason: str) -> None:
        """Record an input task that could not be converted (listed in the manifest)."""
        self.skipped.append({"task_id": task_id, "reason": reason})

    def add(self, task: Task) -> None:
        self._ids.setdefault(task.split or UNASSIGNED, []).append(task.task_id)
        self.overlap.add(task)

    def build(self, *, source_format: str, method: str, seed: int | None,
              ratios: dict[str, float] | None, input_file: str, input_sha256: str,
              output_file: str, output_sha256: str, generator: dict[str, Any] | None = None) -> dict[str, Any]:
        order = list(SPLITS) + [UNASSIGNED]
        splits = {name: {"count": len(self._ids[name]), "task_ids": sorted(self._ids[name], key=natural_key)}
                  for name in order if name in self._ids}
        return {
            "manifest_version": MANIFEST_VERSION,
            "format": source_format,
            "method": method,
            "seed": seed,
            "ratios": ratios,
            "input": {"file": input_file, "sha256": input_sha256},
            "output": {"file": output_file, "sha256": output_sha256},
            "total": sum(len(ids) for ids in self._ids.values()),
            "counts": {name: entry["count"] for name, entry in splits.items()},
            "splits": splits,
            "skipped_tasks": sorted(self.skipped, key=lambda entry: natural_key(entry["task_id"])),
            "generator": generator,
            "overlap_with_train": {name: counts for name, counts in sorted(self.overlap.counts().items(),
                                                                          key=lambda item: order.index(item[0]))},
        }
