"""The canonical task record every stage reads.

Loaders (`mbpp`, `humaneval`, `evalplus`) turn each foreign format into `Task` at the edge,
so nothing downstream sees format quirks. A `Task` holds hidden tests and the reference
solution; anything that builds text for a model receives a `PublicTask` instead, which has no
such fields at all, so leaking them needs a deliberate change of type, not a slip.

A task's `language` says what its tests and candidates are written in. It is written to JSON
only when it is not "python", so task files from before the field load unchanged and
re-serialise byte for byte. Code that can handle Python only calls `require_python`, which
refuses any other task in one line instead of, say, running C++ as Python.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
# `test_heldout_families`: tasks of families absent from every other split (the generated
# distribution, codeself.datasets.generated), for measuring transfer to unseen task kinds.
SPLITS = ("train", "validation", "test", "prompt", "test_heldout_families")
# Languages a task may be written in. MultiPL-E's "rs" becomes "rust" at the edge (multipl_e.py).
LANGUAGES = ("python", "cpp", "java", "js", "rust")
DEFAULT_LANGUAGE = "python"
# metadata key of tasks that may never be practised on (MultiPL-E's licence forbids training on
# its data): such a task cannot be in split "train" (Task refuses to exist so).
EVALUATION_ONLY = "evaluation_only"


@dataclass(frozen=True)
class Task:
    """One programming task (schema documented in docs/schemas.md, "Task")."""

    task_id: str  # unique, "<source>/<original id>", e.g. "mbpp/11"
    source: str  # dataset family: "mbpp", "humaneval", "mbppplus", "example", ...
    prompt: str  # statement shown to the model
    entry_point: str  # name of the function under test
    starter_code: str  # code shown to the model; may be ""
    public_tests: tuple[str, ...]  # test snippets the model may see
    hidden_tests: tuple[str, ...]  # test snippets used for the verdict, never shown
    setup_code: str  # runs after the candidate, before the tests (MBPP test_setup_code)
    reference_solution: str | None  # complete program passing every test; never shown
    split: str | None  # one of SPLITS, or None when unassigned
    metadata: dict[str, Any] = field(default_factory=dict)  # provenance, unknown input fields
    schema_version: int = SCHEMA_VERSION
    language: str = DEFAULT_LANGUAGE  # one of LANGUAGES; written to JSON only when not "python"

    def __post_init__(self) -> None:
        check_language(self.language)
        if self.split == "train" and (self.metadata or {}).get(EVALUATION_ONLY):
            why = (self.metadata or {}).get("licence") or "its licence forbids training on it"
            raise ValueError(f"task {self.task_id} is evaluation-only (metadata.{EVALUATION_ONLY}; {why}) "
                             "and cannot be in split 'train'")

    def to_json(self) -> dict[str, Any]:
        record = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        record["public_tests"] = list(self.public_tests)
        record["hidden_tests"] = list(self.hidden_tests)
        if self.language == DEFAULT_LANGUAGE:
            del record["language"]  # files from before the field stay byte-identical
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "Task":
        """Build a Task from a canonical record; unknown keys move into `metadata`.

        Raises ValueError for a missing required field or a field of the wrong type.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        missing = [name for name in REQUIRED_FIELDS if name not in record]
        if missing:
            raise ValueError(f"missing required field(s): {', '.join(missing)}")
        for name, expected in FIELD_TYPES.items():
            if name not in record and name not in REQUIRED_FIELDS:
                continue  # optional with a default (schema_version, language)
            value = record[name]
            if not _has_type(value, expected):
                raise ValueError(f"field {name!r} must be {_type_name(expected)}, got {type(value).__name__}")
        for name in ("public_tests", "hidden_tests"):
            if not all(isinstance(item, str) for item in record[name]):
                raise ValueError(f"field {name!r} must be a list of strings")
        if record["split"] is not None and record["split"] not in SPLITS:
            raise ValueError(f"field 'split' must be one of {', '.join(SPLITS)} or null, got {record['split']!r}")
        metadata = dict(record.get("metadata") or {})
        extras = {key: value for key, value in record.items() if key not in known}
        if extras:
            metadata.setdefault("extra_fields", {}).update(extras)
        values = {name: record[name] for name in known if name in record}
        values["public_tests"] = tuple(record["public_tests"])
        values["hidden_tests"] = tuple(record["hidden_tests"])
        values["metadata"] = metadata
        values.setdefault("schema_version", SCHEMA_VERSION)
        return cls(**values)

    def public_view(self) -> "PublicTask":
        return PublicTask(
            task_id=self.task_id,
            prompt=self.prompt,
            entry_point=self.entry_point,
            starter_code=self.starter_code,
            public_tests=self.public_tests,
            language=self.language,
        )

    def with_split(self, split: str | None) -> "Task":
        return dataclasses.replace(self, split=split)


@dataclass(frozen=True)
class PublicTask:
    """What a model may see of a task. Deliberately has no hidden tests or reference."""

    task_id: str
    prompt: str
    entry_point: str
    starter_code: str
    public_tests: tuple[str, ...]
    language: str = DEFAULT_LANGUAGE


def check_language(language: Any) -> None:
    """ValueError unless `language` is one of LANGUAGES."""
    if language not in LANGUAGES:
        raise ValueError(f"field 'language' must be one of {', '.join(LANGUAGES)}, got {language!r}")


def require_python(task: Task | PublicTask, what: str) -> None:
    """Refuse a non-Python task in code that handles Python only (one-line ValueError).

    `what` names that code, e.g. "the execution engine"; the message names the task.
    """
    if task.language != DEFAULT_LANGUAGE:
        raise ValueError(f"task {task.task_id} is written in {task.language}; {what} handles Python "
                         "tasks only")


REQUIRED_FIELDS = (
    "task_id", "source", "prompt", "entry_point", "starter_code", "public_tests",
    "hidden_tests", "setup_code", "reference_solution", "split", "metadata",
)
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "task_id": (str,),
    "source": (str,),
    "prompt": (str,),
    "entry_point": (str,),
    "starter_code": (str,),
    "public_tests": (list, tuple),
    "hidden_tests": (list, tuple),
    "setup_code": (str,),
    "reference_solution": (str, type(None)),
    "split": (str, type(None)),
    "metadata": (dict,),
    "schema_version": (int,),
    "language": (str,),
}


def _has_type(value: Any, expected: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in expected:
        return False
    return value is None and type(None) in expected or isinstance(value, expected)


def _type_name(expected: tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list", tuple: "a list", dict: "an object",
             int: "an integer", type(None): "null"}
    return " or ".join(dict.fromkeys(names[t] for t in expected))


def load_tasks(path: str | os.PathLike) -> Iterator[Task]:
    """Stream Tasks from a canonical JSONL file; errors name the file and line."""
    from codeself.jsonl import iter_jsonl_lines

    for line_number, record in iter_jsonl_lines(path):
        try:
            yield Task.from_json(record)
        except ValueError as error:
            task_id = record.get("task_id", "?")
            raise ValueError(f"{path}:{line_number}: {task_id}: {error}") from None
