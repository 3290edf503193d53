"""Format dispatch and streaming conversion to canonical task JSONL.

Conversion reads the input twice: a first pass keeps only task ids and prompt hashes to
find tasks that share a prompt, so the second pass can mark them (`metadata["same_prompt_as"]`)
and, for hash splits, keep each such group in one split. The second pass converts one
record at a time and streams it to an atomic writer, so memory holds at most one output
record beyond the input itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeself.datasets.evalplus import parse_evalplus
from codeself.datasets.evalplus_tests import ComputeExpected, convert_evalplus
from codeself.datasets.humaneval import humaneval_prompt, humaneval_to_task, iter_humaneval_records
from codeself.datasets.mbpp import iter_mbpp_records, mbpp_prompt, mbpp_to_task
from codeself.datasets.multipl_e import (default_split_assert, iter_multipl_e_records, multipl_e_prompt,
                                         multipl_e_to_task)
from codeself.datasets.snippets import collapse_whitespace, leak_reason, snippet_key
from codeself.datasets.splits import ManifestBuilder, make_assigner, natural_key
from codeself.datasets.task import Task, load_tasks
from codeself.jsonl import sha256_file, write_json, write_jsonl

FORMATS = ("mbpp", "humaneval", "evalplus", "multipl-e", "canonical")


@dataclass(frozen=True)
class ConvertOptions:
    """What `scripts/prepare_datasets.py` was asked to do."""

    source_format: str
    public_count: int = 1
    include_challenge: bool = False
    docstring_tests: bool = True  # HumanEval: docstring examples become public tests
    assign_splits: bool = False
    seed: int = 0
    ratios: dict[str, float] | None = None

    @property
    def split_method(self) -> str:
        """"keep" (splits as read; null for foreign formats), "mbpp_official" or "hash"."""
        if not self.assign_splits:
            return "keep"
        if self.ratios is None and self.source_format == "mbpp":
            return "mbpp_official"
        return "hash"


def iter_source_tasks(path: str | os.PathLike, options: ConvertOptions,
                      compute_expected: ComputeExpected | None = None,
                      on_skip: Callable[[str, str], None] | None = None) -> Iterator[Task]:
    """Tasks of `path` as read by the loader for `options.source_format`."""
    fmt = options.source_format
    if fmt == "mbpp":
        convert = lambda record: mbpp_to_task(record, public_count=options.public_count,
                                              include_challenge=options.include_challenge)
        yield from _convert_records(path, iter_mbpp_records(path), convert)
    elif fmt == "humaneval":
        convert = lambda record: humaneval_to_task(record, docstring_tests_public=options.docstring_tests)
        yield from _convert_records(path, iter_humaneval_records(path), convert)
    elif fmt == "evalplus":
        if compute_expected is None:
            raise ValueError("--format evalplus needs expected outputs from running the reference "
                             "solutions, which needs the execution engine (codeself.execution.engine)")
        yield from convert_evalplus(parse_evalplus(path), compute_expected,
                                    public_count=options.public_count, on_skip=on_skip)
    elif fmt == "multipl-e":
        split_assert = default_split_assert()
        yield from _convert_records(path, iter_multipl_e_records(path),
                                    lambda record: multipl_e_to_task(record, split_assert))
    elif fmt == "canonical":
        yield from load_tasks(path)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _convert_records(path, records, convert: Callable[[dict], Any]) -> Iterator[Any]:
    """`convert` of each record (a Task, or (id, prompt) for the first pass); errors name file and line."""
    for line, record in records:
        try:
            task = convert(record)
        except (ValueError, SyntaxError) as error:
            detail = getattr(error, "msg", None) if isinstance(error, SyntaxError) else str(error)
            raise ValueError(f"{path}:{line}: {record.get('task_id', '?')}: {detail}") from None
        yield task


def iter_prompts(path: str | os.PathLike, options: ConvertOptions) -> Iterator[tuple[str, str]]:
    """(task_id, prompt) of every task, without computing anything expensive."""
    if options.source_format == "evalplus":
        from codeself.datasets.evalplus_tests import _statement

        for problem in parse_evalplus(path):
            yield f"{problem.dataset}plus/{problem.number}", _statement(problem)
        return
    light = {"multipl-e": (iter_multipl_e_records, multipl_e_prompt),
             "humaneval": (iter_humaneval_records, humaneval_prompt),
             "mbpp": (iter_mbpp_records, mbpp_prompt)}.get(options.source_format)
    if light is not None:  # the id and prompt only: a full conversion would be done again in the second pass
        records, prompt_of = light
        yield from _convert_records(path, records(path), prompt_of)
        return
    for task in iter_source_tasks(path, options):
        yield task.task_id, task.prompt


def prompt_groups(pairs: Iterator[tuple[str, str]]) -> dict[str, list[str]]:
    """task_id -> naturally sorted ids of every task with the same normalised prompt (>1 only)."""
    by_prompt: dict[str, list[str]] = {}
    for task_id, prompt in pairs:
        digest = hashlib.sha256(collapse_whitespace(prompt).encode("utf-8")).hexdigest()
        by_prompt.setdefault(digest, []).append(task_id)
    groups = {}
    for ids in by_prompt.values():
        if len(ids) > 1:
            ordered = sorted(ids, key=natural_key)
            groups.update({task_id: ordered for task_id in ids})
    return groups


def reveal_visible_tests(task: Task) -> Task:
    """Make public every hidden test the prompt already shows, and drop hidden copies of public tests.

    A test the model can read in its prompt is not hidden; keeping it hidden would inflate
    held-out scores. At least one hidden test always remains (validation then reports it).
    `metadata.test_sets` (set name -> positions of its tests in public-then-hidden order, as
    the EvalPlus converter writes for its base and plus inputs) is kept in step with the moves
    and drops.
    """
    count = len(task.public_tests)
    public = list(enumerate(task.public_tests))  # (position before, test) pairs
    public_keys = {snippet_key(test) for _, test in public}
    hidden = list(enumerate(task.hidden_tests, start=count))
    kept = [item for item in hidden if snippet_key(item[1]) not in public_keys] or hidden
    visible = [item for item in kept if leak_reason(item[1], task.prompt) or leak_reason(item[1], task.starter_code)]
    metadata = dict(task.metadata)
    if len(visible) == len(kept):
        # The dataset shows every one of its tests in the prompt (HumanEval/34): keep them
        # hidden, and say so in metadata so that validation counts it instead of failing.
        remaining = kept
        if visible:
            metadata["hidden_tests_visible_in_prompt"] = list(range(len(kept)))
    else:
        visible_tests = {test for _, test in visible}
        remaining = [item for item in kept if item[1] not in visible_tests]
        public += [item for item in visible if snippet_key(item[1]) not in public_keys]
        if visible:
            metadata["hidden_tests_made_public"] = len(visible)
    if isinstance(metadata.get("test_sets"), dict):
        metadata["test_sets"] = _moved_test_sets(metadata["test_sets"], [before for before, _ in public + remaining])
    return dataclasses.replace(task, public_tests=tuple(test for _, test in public),
                               hidden_tests=tuple(test for _, test in remaining), metadata=metadata)


def _moved_test_sets(test_sets: dict[str, list[int]], order: list[int]) -> dict[str, list[int]]:
    """Each set's positions after the tests were reordered to `order` (the position each test
    had before); tests no longer present leave their sets.

    >>> _moved_test_sets({"base": [0, 1], "plus": [2, 3]}, [0, 3, 1])
    {'base': [0, 2], 'plus': [1]}
    """
    after = {before: position for position, before in enumerate(order)}
    return {name: sorted(after[p] for p in positions if p in after) for name, positions in test_sets.items()}


def convert_file(input_path: str | os.PathLike, output_path: str | os.PathLike, options: ConvertOptions, *,
                 compute_expected: ComputeExpected | None = None, manifest_path: str | os.PathLike | None = None,
                 on_task: Callable[[Task], None] | None = None) -> dict[str, Any]:
    """Convert `input_path` to canonical JSONL at `output_path`; returns the manifest dict."""
    groups = prompt_groups(iter_prompts(input_path, options))
    assign = make_assigner(options.split_method, seed=options.seed, ratios=options.ratios,
                           group_of=lambda task_id: groups.get(task_id, [task_id])[0])
    builder = ManifestBuilder()

    def records() -> Iterator[dict[str, Any]]:
        for task in iter_source_tasks(input_path, options, compute_expected, builder.skip):
            # MultiPL-E's verdict uses every assert as written: none is moved to the public tests.
            if options.source_format not in ("canonical", "multipl-e"):
                task = reveal_visible_tests(task)
            task = _with_groups(task, groups).with_split(assign(task))
            builder.add(task)
            if on_task:
                on_task(task)
            yield task.to_json()

    write_jsonl(output_path, records())
    method = options.split_method
    manifest = builder.build(
        source_format=options.source_format, method="unchanged" if method == "keep" else method,
        seed=options.seed if method == "hash" else None,
        ratios=assign_ratios(options) if method == "hash" else None,
        input_file=Path(input_path).name, input_sha256=sha256_file(input_path),
        output_file=Path(output_path).name, output_sha256=sha256_file(output_path))
    if manifest_path is not None:
        write_json(manifest_path, manifest)
    return manifest


def assign_ratios(options: ConvertOptions) -> dict[str, float]:
    from codeself.datasets.splits import DEFAULT_RATIOS

    return dict(options.ratios or DEFAULT_RATIOS)


def _with_groups(task: Task, groups: dict[str, list[str]]) -> Task:
    if task.task_id not in groups:
        return task
    others = [task_id for task_id in groups[task.task_id] if task_id != task.task_id]
    return dataclasses.replace(task, metadata={**task.metadata, "same_prompt_as": others})
