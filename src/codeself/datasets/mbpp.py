"""MBPP (Austin et al. 2021) -> canonical `Task`.

Two inputs are accepted: the original release (`mbpp.jsonl`, one object per line with
`text`) and the sanitized release (`sanitized-mbpp.json`, one JSON list with `prompt` and
`test_imports`). MBPP never names the function under test, so the entry point is inferred
from the tests. `test_setup_code` becomes `setup_code`, which runs after the candidate
because in tasks 367 and 927 it builds objects from a class the solution defines.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

from codeself.datasets.snippets import infer_entry_point, snippet_key
from codeself.datasets.task import Task
from codeself.jsonl import iter_jsonl_lines, require_regular_file

SOURCE = "mbpp"
# Fields this loader turns into Task fields; anything else is kept in metadata.
_CONSUMED = {"task_id", "text", "prompt", "code", "test_list", "test_setup_code",
             "test_imports", "challenge_test_list"}
_TOP_LEVEL_DEF = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)


def iter_mbpp_records(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_or_position, record)` from either MBPP release.

    The sanitized release is a single JSON list, so it is read whole; the original
    release is streamed line by line.
    """
    path = require_regular_file(path)
    first = ""
    if path.suffix != ".gz":
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            first = handle.read(256).lstrip("\ufeff \t\r\n")[:1]
    if first != "[":
        yield from iter_jsonl_lines(path)
        return
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: invalid JSON: {error.msg}") from None
    for position, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise ValueError(f"{path}: item {position}: expected a JSON object, got {type(record).__name__}")
        yield position, record


def normalise_newlines(text: str) -> str:
    """MBPP stores Windows line endings inside code strings; Python wants `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def mbpp_prompt(record: dict[str, Any]) -> tuple[str, str]:
    """(canonical task id, prompt) of a record without converting it: the converter's first
    pass (duplicate prompts) needs only these."""
    statement = record.get("text", record.get("prompt"))
    if not isinstance(statement, str) or not isinstance(record.get("code"), str):
        raise ValueError("MBPP record needs string fields 'text' (or 'prompt') and 'code'")
    original_id = record.get("task_id")
    if not isinstance(original_id, int) or isinstance(original_id, bool):
        raise ValueError(f"MBPP task_id must be an integer, got {original_id!r}")
    return f"{SOURCE}/{original_id}", normalise_newlines(statement).strip()


def mbpp_to_task(record: dict[str, Any], *, public_count: int = 1,
                 include_challenge: bool = False) -> Task:
    """Convert one MBPP record; raises ValueError naming the problem.

    The first `public_count` tests are public and the rest hidden, but at least one test
    always stays hidden. Challenge tests are extra hidden tests when `include_challenge`,
    otherwise they are kept in `metadata["challenge_tests"]`.
    """
    task_id, prompt = mbpp_prompt(record)
    raw_tests = [normalise_newlines(t) for t in _string_list(record, "test_list")]
    tests = _unique_tests(raw_tests)
    if not tests:
        raise ValueError("MBPP record has an empty test_list")
    challenge = [normalise_newlines(t) for t in _string_list(record, "challenge_test_list")]
    code = normalise_newlines(record["code"])
    original_id = record["task_id"]
    public_count = max(0, min(public_count, len(tests) - 1))
    hidden = tests[public_count:] + (challenge if include_challenge else [])
    metadata: dict[str, Any] = {"original_task_id": original_id}
    if len(tests) < len(raw_tests):
        metadata["duplicate_tests_removed"] = len(raw_tests) - len(tests)  # e.g. task 37 repeats one test 3 times
    if challenge and not include_challenge:
        metadata["challenge_tests"] = challenge
    metadata.update(_extra_fields(record))
    return Task(
        task_id=task_id,
        source=SOURCE,
        prompt=prompt,
        entry_point=infer_entry_point(tests, _TOP_LEVEL_DEF.findall(code)),
        starter_code="",
        public_tests=tuple(tests[:public_count]),
        hidden_tests=tuple(hidden),
        setup_code=_setup_code(record),
        reference_solution=code,
        split=None,
        metadata=metadata,
    )


def _extra_fields(record: dict[str, Any]) -> dict[str, Any]:
    extras = {key: value for key, value in record.items() if key not in _CONSUMED}
    return {"extra_fields": extras} if extras else {}


def _unique_tests(tests: list[str]) -> list[str]:
    """Tests in order, each once (by `snippet_key`): a repeated test would count twice."""
    seen: set[str] = set()
    unique = []
    for test in tests:
        key = snippet_key(test)
        if key not in seen:
            seen.add(key)
            unique.append(test)
    return unique


def _setup_code(record: dict[str, Any]) -> str:
    """Sanitized MBPP's `test_imports` are imports the tests need: they join the setup."""
    imports = _string_list(record, "test_imports")
    setup = record.get("test_setup_code") or ""
    if not isinstance(setup, str):
        raise ValueError("MBPP field 'test_setup_code' must be a string")
    parts = [normalise_newlines(line) for line in imports] + ([normalise_newlines(setup)] if setup.strip() else [])
    return "\n".join(parts)


def _string_list(record: dict[str, Any], name: str) -> list[str]:
    value = record.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"MBPP field {name!r} must be a list of strings")
    return value


def mbpp_official_split(task: Task) -> str | None:
    """MBPP's published split by original id: prompt 1-10, test 11-510, validation 511-600, train 601-974."""
    number = task.metadata.get("original_task_id")
    if not isinstance(number, int):
        return None
    for low, high, split in ((1, 10, "prompt"), (11, 510, "test"), (511, 600, "validation"), (601, 974, "train")):
        if low <= number <= high:
            return split
    return None
