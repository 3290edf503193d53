"""Error-pattern analysis: which error categories, how often, and how that changes across files.

Input: rollout or execution-result JSONL files (a run, a checkpoint's evaluation, or a training
run's `rollouts.jsonl`, whose records carry `step`), given in a meaningful order (baseline
first, then later checkpoints). Each file — or, with `by_step`, each training step — is one
*group*. The summary (docs/schemas.md, "Error analysis JSON") holds per group the counts and
shares of every error category (`codeself.execution.errors`), LiveCodeBench codes and a
per-split breakdown (and a per-language one when the group holds more than one language); the paired transition table between the first and the last group when
they cover the same tasks; and the most frequent failure messages per category, normalised
(`normalise_message`) so that messages differing only in numbers or names count together.

Every number is computed from the records alone, so the same inputs give the same JSON.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from codeself.datasets.task import LANGUAGES
from codeself.execution.errors import ERROR_CATEGORIES, PASSED_KEY, category_of, lcb_error_code
from codeself.jsonl import iter_jsonl_lines, sha256_file
from codeself.reporting.records import record_language

SCHEMA_VERSION = 1
KEYS = (PASSED_KEY, *ERROR_CATEGORIES)  # count keys, in report order
UNASSIGNED_SPLIT = "unassigned"
MESSAGES_PER_CATEGORY = 5
MAX_MESSAGE_CHARS = 160

# Builtin type names stay readable in masked messages: "'NoneType' object is not subscriptable"
# is a pattern worth keeping apart from "'int' object ...", while names of the candidate's own
# variables and functions are masked.
_KEPT_NAMES = frozenset({"NoneType", "int", "float", "str", "bytes", "bool", "list", "tuple", "dict", "set",
                         "frozenset", "complex", "function", "builtin_function_or_method", "generator",
                         "range", "map", "filter", "zip", "type", "object", "method", "module"})
_QUOTED = re.compile(r"'([^'\n]{0,200})'|\"([^\"\n]{0,200})\"")
_NUMBER = re.compile(r"(?<![\w<])[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w>])")
_IDENTIFIER = re.compile(r"[A-Za-z_][\w.]*")
_EXPECTED_GOT = re.compile(r"^expected (a true value|a false value|.*?), got .*$", re.DOTALL)


def normalise_message(message: str) -> str:
    """A failure message with numbers and names masked, so similar failures count together.

    >>> normalise_message("name 'foo' is not defined")
    "name '<name>' is not defined"
    >>> normalise_message("expected [1, 2], got [2, 1]")
    'expected <value>, got <value>'
    >>> normalise_message("list index out of range at line 12")
    'list index out of range at line <n>'
    """
    text = " ".join(str(message).split())
    matched = _EXPECTED_GOT.match(text)
    if matched:  # the judge's public-test message: the values are the data, not the pattern
        wanted = matched.group(1)
        text = f"expected {wanted if wanted in ('a true value', 'a false value') else '<value>'}, got <value>"
    elif text.startswith("assertion failed: "):
        text = "assertion failed: <judge> with <values>"
    text = _QUOTED.sub(_mask_quoted, text)
    text = _NUMBER.sub("<n>", text)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS - 3] + "..."


def _mask_quoted(match: re.Match) -> str:
    quote = "'" if match.group(1) is not None else '"'
    content = match.group(1) if match.group(1) is not None else match.group(2)
    if content in _KEPT_NAMES:
        return match.group(0)
    return f"{quote}{'<name>' if _IDENTIFIER.fullmatch(content) else '<str>'}{quote}"


def failure_detail(execution: dict[str, Any]) -> tuple[str | None, str]:
    """(error type, message) of the failure that decided the category: the first failed test
    that ran (public tests come first, and their messages say the most), else the result's own."""
    for test in execution.get("tests") or ():
        if isinstance(test, dict) and not test.get("passed") and test.get("error_type") != "NotRun":
            return test.get("error_type"), str(test.get("message") or "")
    return execution.get("error_type"), str(execution.get("message") or "")


@dataclass(frozen=True)
class ErrorSample:
    """What the analysis reads from one record."""

    task_id: str
    sample_index: int | None
    split: str
    category: str | None  # None: passed
    lcb_code: int | None
    error_type: str | None
    message: str
    step: int | None
    language: str = "python"

    @property
    def task_key(self) -> tuple[str, str]:
        """What names one task: a MultiPL-E id is the same in every language."""
        return self.task_id, self.language


def read_error_sample(record: dict[str, Any]) -> ErrorSample:
    """The fields of a rollout or execution-result record the analysis needs; ValueError if bad."""
    task_id = record.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("missing or non-string task_id")
    execution = record.get("execution")
    if not isinstance(execution, dict):
        raise ValueError("missing 'execution' object (run the samples through execution first)")
    category = category_of(execution)
    index, step = record.get("sample_index"), record.get("step")
    for name, value in (("sample_index", index), ("step", step)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    split = record.get("split")
    error_type, message = failure_detail(execution) if category is not None else (None, "")
    return ErrorSample(task_id=task_id, sample_index=index, split=split if isinstance(split, str) and split
                       else UNASSIGNED_SPLIT, category=category,
                       lcb_code=lcb_error_code(category, str(execution.get("phase"))),
                       error_type=error_type, message=message, step=step, language=record_language(record))


@dataclass
class Group:
    """One file, or one training step of a file, accumulated while streaming."""

    label: str
    path: str
    step: int | None = None
    counts: Counter = field(default_factory=Counter)
    lcb_codes: Counter = field(default_factory=Counter)
    splits: dict[str, Counter] = field(default_factory=dict)
    languages: dict[str, Counter] = field(default_factory=dict)
    outcomes: dict[tuple, str] = field(default_factory=dict)  # (task key, index) -> key, for pairing
    per_task: Counter = field(default_factory=Counter)  # samples seen per task key (index when absent)
    duplicates: int = 0

    def add(self, sample: ErrorSample) -> None:
        key = sample.category or PASSED_KEY
        self.counts[key] += 1
        if sample.category is not None:
            self.lcb_codes["none" if sample.lcb_code is None else str(sample.lcb_code)] += 1
        self.splits.setdefault(sample.split, Counter())[key] += 1
        self.languages.setdefault(sample.language, Counter())[key] += 1
        task = sample.task_key
        index = self.per_task[task] if sample.sample_index is None else sample.sample_index
        self.per_task[task] += 1
        if (task, index) in self.outcomes:
            self.duplicates += 1
        self.outcomes[(task, index)] = key

    @property
    def samples(self) -> int:
        return sum(self.counts.values())


@dataclass
class Messages:
    """Failure messages per (category, error type, normalised text), with the first example."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[tuple, tuple[str, str]] = field(default_factory=dict)  # key -> (task_id, group label)

    def add(self, sample: ErrorSample, label: str) -> None:
        if sample.category is None:
            return
        key = (sample.category, sample.error_type or "", normalise_message(sample.message))
        self.counts[key] += 1
        self.examples.setdefault(key, (sample.task_id, label))

    def top(self, per_category: int) -> dict[str, list[dict[str, Any]]]:
        """The most frequent messages of each category (ties: error type, then text)."""
        ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        out: dict[str, list[dict[str, Any]]] = {}
        for (category, error_type, message), count in ranked:
            rows = out.setdefault(category, [])
            if len(rows) < per_category:
                task_id, label = self.examples[(category, error_type, message)]
                rows.append({"error_type": error_type or None, "message": message, "count": count,
                             "example_task_id": task_id, "example_file": label})
        return {category: out[category] for category in ERROR_CATEGORIES if category in out}


def file_labels(paths: list[str]) -> list[str]:
    """Base names, or the paths as given when two base names collide."""
    names = [os.path.basename(os.fspath(path)) for path in paths]
    return names if len(set(names)) == len(names) else [os.fspath(path) for path in paths]


def read_groups(paths: list[str], *, by_step: bool = False, progress=None) -> tuple[list[Group], Messages]:
    """Stream every file once; one group per file, or per (file, step) with `by_step`."""
    groups: list[Group] = []
    messages = Messages()
    for path, label in zip(paths, file_labels(paths)):
        steps: dict[int, Group] = {}
        whole = Group(label=label, path=os.fspath(path))
        for line_number, record in iter_jsonl_lines(path):
            try:
                sample = read_error_sample(record)
                if by_step and sample.step is None:
                    raise ValueError("no 'step' field; --by-step reads a training run's rollouts.jsonl")
            except ValueError as error:
                raise ValueError(f"{path}:{line_number}: {error}") from None
            group = whole
            if by_step:
                name = f"step {sample.step}" if len(paths) == 1 else f"{label} step {sample.step}"
                group = steps.setdefault(sample.step, Group(label=name, path=os.fspath(path), step=sample.step))
            group.add(sample)
            messages.add(sample, group.label)
            if progress is not None:
                progress.update()
        found = [steps[step] for step in sorted(steps)] if by_step else [whole]
        if not any(group.samples for group in found):
            raise ValueError(f"{path}: no samples to analyse")
        groups += found
    return groups, messages


def _shares(counts: Counter, total: int) -> dict[str, float]:
    return {key: counts[key] / total for key in KEYS}


def group_summary(group: Group, sha256: str) -> dict[str, Any]:
    total = group.samples
    return {
        "label": group.label, "path": group.path, "sha256": sha256, "step": group.step,
        "samples": total, "tasks": len(group.per_task), "failing": total - group.counts[PASSED_KEY],
        "counts": {key: group.counts[key] for key in KEYS}, "shares": _shares(group.counts, total),
        "lcb_error_codes": {code: group.lcb_codes[code] for code in ("-1", "-2", "-3", "-4", "-5", "none")},
        "per_split": {split: {key: counts[key] for key in KEYS} for split, counts in sorted(group.splits.items())},
        "duplicate_samples": group.duplicates,
        **per_language(group),
    }


def per_language(group: Group) -> dict[str, Any]:
    """Counts per language (LANGUAGES order) for a group holding more than one language; a
    single-language group's counts are its breakdown, so Python-only analyses are unchanged."""
    if len(group.languages) < 2:
        return {}
    return {"per_language": {language: {key: group.languages[language][key] for key in KEYS}
                             for language in sorted(group.languages, key=LANGUAGES.index)}}


def transitions(first: Group, last: Group) -> dict[str, Any]:
    """Paired table of categories, sample by sample ((task_id, sample_index) in both groups).

    Rows are the first group's category, columns the last group's; `fixed` counts samples that
    failed in the first and pass in the last, by their first category; `appeared` the reverse,
    by their new category.
    """
    result: dict[str, Any] = {"from": first.label, "to": last.label, "paired": 0, "note": None}
    if set(first.per_task) != set(last.per_task):
        result["note"] = (f"not paired: the two cover different tasks ({len(first.per_task)} and "
                          f"{len(last.per_task)}, {len(set(first.per_task) & set(last.per_task))} in common)")
        return result
    if first.duplicates or last.duplicates:
        result["note"] = ("not paired: a (task_id, sample_index) occurs more than once in a group "
                          "(a training run's rollouts without --by-step?)")
        return result
    common = first.outcomes.keys() & last.outcomes.keys()
    table = {row: dict.fromkeys(KEYS, 0) for row in KEYS}
    for key in common:
        table[first.outcomes[key]][last.outcomes[key]] += 1
    result.update({
        "paired": len(common),
        "unpaired": {"from_only": len(first.outcomes) - len(common), "to_only": len(last.outcomes) - len(common)},
        "table": table,
        "fixed": {c: table[c][PASSED_KEY] for c in ERROR_CATEGORIES},
        "appeared": {c: table[PASSED_KEY][c] for c in ERROR_CATEGORIES},
        "changed": sum(table[a][b] for a in KEYS for b in KEYS if a != b),
    })
    return result


def analyse(paths: list[str], *, by_step: bool = False, messages_per_category: int = MESSAGES_PER_CATEGORY,
            progress=None) -> dict[str, Any]:
    """The analysis document (docs/schemas.md, "Error analysis JSON")."""
    if not paths:
        raise ValueError("give at least one rollout file")
    groups, messages = read_groups(paths, by_step=by_step, progress=progress)
    digests = {os.fspath(path): sha256_file(path) for path in paths}
    return {
        "schema_version": SCHEMA_VERSION, "by_step": by_step, "categories": list(KEYS),
        "files": [group_summary(group, digests[group.path]) for group in groups],
        "transitions": transitions(groups[0], groups[-1]) if len(groups) >= 2 else None,
        "messages": messages.top(messages_per_category),
    }
