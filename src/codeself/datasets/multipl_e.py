"""MultiPL-E (Cassano et al. 2023) -> canonical `Task`, for evaluation only.

MultiPL-E translates HumanEval and MBPP into other languages; each record holds a `prompt`
(includes, doc comment, signature up to the body), `tests` (the rest of MultiPL-E's program:
it closes the function, then a `main` that asserts on the candidate) and `stop_tokens`. Its
licence forbids training on the data, so every converted task has split `test` and
`metadata.evaluation_only` true, and `Task` refuses such a task in split `train`.

Per record (docs/schemas.md, "MultiPL-E tasks"):
- `task_id` `multipl-e/<benchmark>-<language>/<number>` (`multipl-e/humaneval-cpp/0`,
  `multipl-e/mbpp-rust/3`); MultiPL-E's own id (`HumanEval_0_has_close_elements`) is
  `metadata.original_task_id`, so samples keyed by it resolve (codeself.datasets.task_ids).
- `language`: MultiPL-E's `rs` becomes `rust`; `cpp`, `java`, `js` stay.
- `entry_point`: the function whose signature ends the prompt (Java: the static method of
  `class Problem`); for C++, JavaScript and Rust it must be the one the tests alias as
  `candidate`, for Java the one every assert calls.
- `hidden_tests`: one string per assert statement exactly as MultiPL-E wrote it; no public
  tests (MultiPL-E's verdict uses every assert). `tests` is rebuilt byte for byte from
  `metadata.multipl_e` (`tests_preamble`, `assert_indent`, the asserts, `tests_epilogue`):
  see `multipl_e_tests`, which a conversion checks on every record.
- `reference_solution`: `gpt_solution` parsed as a model's answer (codeself.parsing_languages:
  the fenced block that defines the entry point, its `main` removed). Null when that parse is
  not usable (cut off, unbalanced) or the answer defines no function of the entry point's
  name (some rename it); `metadata.multipl_e.gpt_solution` then keeps the answer as written.
  `metadata.multipl_e.reference_parse` says how each was read.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from codeself.code_mask import mask, matching_close
from codeself.datasets.task import EVALUATION_ONLY, Task
from codeself.datasets.validate import MALFORMED_TESTS, visible_hidden_tests
from codeself.jsonl import iter_jsonl_lines
from codeself.parsing_languages import CLOSING, parse_language_completion, well_formed

FORMAT = "multipl-e"
LANGUAGE_NAMES = {"cpp": "cpp", "java": "java", "js": "js", "rs": "rust"}  # MultiPL-E's -> ours
BENCHMARKS = {"HumanEval": "humaneval", "mbpp": "mbpp"}
LICENCE = ("MultiPL-E's licence: the data may not be used as training data for any machine learning "
           "model; evaluation only")
_ID = re.compile(r"^(HumanEval|mbpp)_(\d+)_\w+$")
_CANDIDATE_ALIAS = re.compile(r"^[ \t]*(?:auto|let|var|const)\s+candidate\s*=\s*([A-Za-z_$][\w$]*)\s*;", re.MULTILINE)
_CONSUMED = ("task_id", "name", "language", "prompt", "tests", "stop_tokens", "gpt_solution",
             "doctests", "prompt_terminology")
# Splits one assert into (call, expected, equality); the execution engineer's, found lazily
# so that conversion of the text works before it exists (then nothing is counted).
SplitAssert = Callable[[str, str, str], Any]


def iter_multipl_e_records(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream `(line, record)` from one MultiPL-E language file (`humaneval-cpp.jsonl`, ...)."""
    yield from iter_jsonl_lines(path)


def parse_stop_tokens(value: Any) -> list[str]:
    """MultiPL-E's stop tokens: a list of strings, or that list written as a Python literal
    (`"['\\\\n}']"`, as some copies of the dataset store it), read with `ast.literal_eval`."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"stop_tokens {value[:60]!r} is not a Python list literal") from None
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(t, str) and t for t in value):
        raise ValueError("stop_tokens must be a non-empty list of non-empty strings")
    return list(value)


def prompt_entry_point(prompt: str, language: str) -> str:
    """The function whose signature ends the prompt: Rust's last `fn <name>`, JavaScript's last
    `function <name>`; C++ and Java: the name before the parameter list that the prompt's last
    `{` follows (the body MultiPL-E's completion fills)."""
    masked = mask(prompt, language)
    if language in ("rust", "js"):
        keyword = "fn" if language == "rust" else "function"
        names = re.findall(rf"\b{keyword}\s+([A-Za-z_$][\w$]*)", masked)
        if not names:
            raise ValueError(f"the prompt has no `{keyword} <name>` signature")
        return names[-1]
    body = masked.rstrip().rfind("{")
    close = masked.rfind(")", 0, body) if body >= 0 else -1
    opening = _matching_open(masked, close) if close >= 0 else None
    found = re.search(r"([A-Za-z_$][\w$]*)\s*(?:<[^<>()]*>)?\s*$", masked[:opening]) if opening else None
    if found is None or found.group(1) in ("if", "for", "while", "switch", "catch"):
        raise ValueError("the prompt does not end with a function signature opening its body")
    return found.group(1)


def _matching_open(masked: str, close: int) -> int | None:
    """Index of the `(` that the `)` at masked[close] closes."""
    depth = 0
    for j in range(close, -1, -1):
        if masked[j] == ")":
            depth += 1
        elif masked[j] == "(":
            depth -= 1
            if depth == 0:
                return j
    return None


def split_tests(tests: str, language: str, asserts: list[str]) -> dict[str, str]:
    """`tests_preamble`, `assert_indent` and `tests_epilogue` around `asserts` (in order), such
    that `multipl_e_tests` rebuilds `tests` exactly; ValueError when anything but the indent and
    a newline stands between two asserts."""
    if not asserts:
        raise ValueError("tests hold no assert")
    first = tests.find(asserts[0])
    line_start = tests.rfind("\n", 0, first) + 1
    indent = tests[line_start:first]
    if indent.strip():
        raise ValueError(f"the first assert does not start its line: {tests[line_start:first][:40]!r}")
    position = first + len(asserts[0])
    for index, statement in enumerate(asserts[1:], start=1):
        expected_gap = "\n" + indent
        if not tests.startswith(expected_gap + statement, position):
            found = tests[position:position + 60]
            raise ValueError(f"tests: assert {index} is not on the line after assert {index - 1} "
                             f"(found {found!r}); only asserts may stand between the preamble and the end")
        position += len(expected_gap) + len(statement)
    parts = {"tests_preamble": tests[:line_start], "assert_indent": indent, "tests_epilogue": tests[position:]}
    if re.search(r"\bassert", mask(parts["tests_epilogue"], language, multiline_strings=True)):
        raise ValueError("tests hold an assert after the last one found")
    return parts


def multipl_e_tests(task: Task) -> str:
    """MultiPL-E's `tests` text of a converted task, rebuilt byte for byte (its program is
    `prompt + completion + "\\n" + tests`)."""
    info = task.metadata["multipl_e"]
    body = "\n".join(info["assert_indent"] + statement for statement in task.hidden_tests)
    return info["tests_preamble"] + body + info["tests_epilogue"]


def multipl_e_to_task(record: dict[str, Any], split_assert: SplitAssert | None = None) -> Task:
    """Convert one MultiPL-E record; ValueError (one line) naming what is wrong.

    With `split_assert`, every assert is split at conversion time, and those that do not split
    are listed (`hidden_tests[i]: why`) in `metadata.multipl_e.unsplit_asserts` (empty: all split).
    """
    missing = [name for name in ("task_id", "language", "prompt", "tests", "stop_tokens")
               if not isinstance(record.get(name), (str, list))]
    if missing:
        raise ValueError(f"MultiPL-E record needs field(s) {', '.join(missing)}")
    original_id, their_language = record["task_id"], record["language"]
    task_id, benchmark, language = _identity(record)
    prompt, tests = record["prompt"], record["tests"]
    entry_point = _entry_point(prompt, tests, language)
    _check_closing(tests, language)
    asserts = _asserts(tests, language)
    info: dict[str, Any] = {"task_id": original_id, "language": their_language, "benchmark": benchmark,
                            "stop_tokens": parse_stop_tokens(record["stop_tokens"]),
                            **split_tests(tests, language, asserts)}
    if split_assert is not None:
        info["unsplit_asserts"] = _unsplit(asserts, language, entry_point, split_assert)
    reference = _reference(record.get("gpt_solution"), language, entry_point, prompt, info)
    for name in ("doctests", "prompt_terminology"):
        if name in record:
            info[name] = record[name]
    if record.get("name", original_id) != original_id:
        info["name"] = record["name"]
    metadata: dict[str, Any] = {"original_task_id": original_id, EVALUATION_ONLY: True, "licence": LICENCE,
                                "multipl_e": info}
    extras = {key: value for key, value in record.items() if key not in _CONSUMED}
    if extras:
        metadata["extra_fields"] = extras
    malformed = [index for index, statement in enumerate(asserts) if not well_formed(statement, language)]
    if malformed:
        metadata[MALFORMED_TESTS] = malformed
    task = Task(task_id=task_id, source=f"{FORMAT}-{benchmark}",
                prompt=prompt, entry_point=entry_point, starter_code=prompt, public_tests=(),
                hidden_tests=tuple(asserts), setup_code="", reference_solution=reference, split="test",
                metadata=metadata, language=language)
    visible = visible_hidden_tests(task)
    if not visible:
        return task
    # The prompt's examples repeat these asserts; they stay hidden, as MultiPL-E's verdict uses them.
    return dataclasses.replace(task, metadata={**metadata, "hidden_tests_visible_in_prompt": visible})


def _identity(record: dict[str, Any]) -> tuple[str, str, str]:
    """(canonical task id, benchmark, language) of a record; ValueError naming what is wrong."""
    original_id, their_language = record.get("task_id"), record.get("language")
    if their_language not in LANGUAGE_NAMES:
        raise ValueError(f"language {their_language!r} is not one of {', '.join(LANGUAGE_NAMES)}")
    matched = _ID.match(original_id) if isinstance(original_id, str) else None
    if matched is None:
        raise ValueError(f"task_id {original_id!r} is not HumanEval_<n>_<name> or mbpp_<n>_<name>")
    benchmark, language = BENCHMARKS[matched.group(1)], LANGUAGE_NAMES[their_language]
    return f"{FORMAT}/{benchmark}-{language}/{matched.group(2)}", benchmark, language


def multipl_e_prompt(record: dict[str, Any]) -> tuple[str, str]:
    """(canonical task id, prompt) of a record without converting it: the converter's first
    pass (duplicate prompts) needs only these, and a full conversion costs about 2 ms a task."""
    if not isinstance(record.get("prompt"), str):
        raise ValueError("MultiPL-E record needs field(s) prompt")
    return _identity(record)[0], record["prompt"]


def _entry_point(prompt: str, tests: str, language: str) -> str:
    name = prompt_entry_point(prompt, language)
    if language == "java":
        return name
    alias = _CANDIDATE_ALIAS.search(tests)
    if alias is None:
        raise ValueError("tests have no `candidate = <function>;` line")
    if alias.group(1) != name:
        raise ValueError(f"tests call {alias.group(1)!r} but the prompt's signature is {name!r}")
    return name


def _check_closing(tests: str, language: str) -> None:
    """The tests begin by closing the prompt's function as CLOSING (the parser's) assumes."""
    function_close = CLOSING[language].split("\n")[0]
    if function_close and not tests.startswith(function_close + "\n"):
        raise ValueError(f"tests do not begin by closing the function with {function_close!r}")


def _asserts(tests: str, language: str) -> list[str]:
    """Every assert statement of `tests`, exactly as written, in order (a statement starts with
    `assert` and ends at its `;` outside brackets, comments and literals)."""
    masked = mask(tests, language, multiline_strings=True)
    found = []
    for match in re.finditer(r"^[ \t]*(assert\w*!?)\s*[.(]", masked, re.MULTILINE):
        opening = masked.find("(", match.start(1))
        close = matching_close(masked, opening)
        end = masked.find(";", close) if close is not None else -1
        if end < 0 or masked[close + 1:end].strip():
            raise ValueError(f"tests: an assert does not end with ';' after its parentheses: "
                             f"{tests[match.start(1):match.start(1) + 60]!r}")
        found.append(tests[match.start(1):end + 1])
    return found


def _unsplit(asserts: list[str], language: str, entry_point: str, split_assert: SplitAssert) -> list[str]:
    failures = []
    for index, statement in enumerate(asserts):
        try:
            split_assert(language, statement, entry_point)
        except ValueError as error:
            failures.append(f"hidden_tests[{index}]: {error}")
    return failures


def _reference(gpt_solution: Any, language: str, entry_point: str, prompt: str, info: dict[str, Any]) -> str | None:
    """The parsed `gpt_solution` when it is usable and defines the entry point; else None, and
    the answer as written stays in `info["gpt_solution"]` (a reference must pass every test:
    one that cannot even be read as defining the entry point is no reference)."""
    if not isinstance(gpt_solution, str):
        return None
    parsed = parse_language_completion(gpt_solution, language, entry_point, prompt)
    info["reference_parse"] = {"status": parsed.parse_status, "detail": parsed.detail}
    if parsed.usable and f"; no def {entry_point}" not in parsed.detail:
        return parsed.code
    info["gpt_solution"] = gpt_solution
    return None


def default_split_assert() -> SplitAssert | None:
    """codeself.execution.languages.split_assert when it is installed, else None; remembered,
    since conversion and validation ask it about the same assert more than once."""
    try:
        from codeself.execution.languages import split_assert  # noqa: F401
    except ImportError:
        return None
    return _remembered_split


def _remembered_split(language: str, source: str, entry_point: str) -> Any:
    split, error = _split_or_error(language, source, entry_point)
    if error is not None:
        raise ValueError(error)
    return split


@functools.lru_cache(maxsize=4096)
def _split_or_error(language: str, source: str, entry_point: str) -> tuple[Any, str | None]:
    from codeself.execution.languages import split_assert

    try:
        return split_assert(language, source, entry_point), None
    except ValueError as error:
        return None, str(error)


class ConversionTally:
    """What a MultiPL-E conversion produced, for the converter's summary line and warnings."""

    def __init__(self) -> None:
        self.tasks = self.asserts = 0
        self.checked = True  # every task's asserts went through split_assert
        self.unsplit: list[str] = []  # "task_id: hidden_tests[i]: why"
        self.malformed: list[str] = []  # "task_id: hidden_tests[i]"
        self.references: dict[str, int] = {}  # reference parse status -> tasks
        self.references_dropped: list[str] = []  # tasks whose gpt_solution is no usable reference

    def add(self, task: Task) -> None:
        info = task.metadata.get("multipl_e") or {}
        self.tasks += 1
        self.asserts += len(task.hidden_tests)
        if "unsplit_asserts" not in info:
            self.checked = False
        self.unsplit += [f"{task.task_id}: {why}" for why in info.get("unsplit_asserts") or ()]
        self.malformed += [f"{task.task_id}: hidden_tests[{i}]" for i in task.metadata.get(MALFORMED_TESTS) or ()]
        parsed = info.get("reference_parse") or {"status": "none", "detail": ""}
        self.references[parsed["status"]] = self.references.get(parsed["status"], 0) + 1
        if task.reference_solution is None:
            self.references_dropped.append(task.task_id)

    def warnings(self) -> list[str]:
        lines = [f"assert does not split: {why}" for why in self.unsplit]
        lines += [f"the dataset's assert is malformed (brackets do not balance), kept as written: {where}"
                  for where in self.malformed]
        if not self.checked:
            lines.append("asserts not checked: codeself.execution.languages.split_assert is not available")
        return lines

    def summary(self) -> str:
        """e.g. `multipl-e: 161 tasks (split test, evaluation only), 1130 asserts, all split; references
        (gpt_solution parsed): multiple_blocks 1, ok 158, truncated 2; 2 without a usable reference`"""
        split = "not checked" if not self.checked else "all split" if not self.unsplit \
            else f"{len(self.unsplit)} do not split"
        references = ", ".join(f"{status} {count}" for status, count in sorted(self.references.items()))
        return (f"{FORMAT}: {self.tasks} tasks (split test, evaluation only), {self.asserts} asserts, {split}; "
                f"references (gpt_solution parsed): {references}; "
                f"{len(self.references_dropped)} without a usable reference (reference_solution null)")
