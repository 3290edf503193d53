"""Small, pure helpers on test-snippet text shared by the loaders and the validator.

Loaders and the validator must agree on when two snippets are "the same test" (to keep a
public test out of the hidden set, and to detect a hidden test pasted into a prompt), so
that notion lives here once.
"""

from __future__ import annotations

import ast
import builtins
import io
import math
import re
import sys
import tokenize
from collections.abc import Callable
from typing import Any

_WHITESPACE = re.compile(r"\s+")


def squash_whitespace(text: str) -> str:
    """Remove every whitespace character: `assert f(1) == 2` -> `assertf(1)==2`."""
    return _WHITESPACE.sub("", text)


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace become one space; ends stripped (used for prompt identity)."""
    return _WHITESPACE.sub(" ", text).strip()


def snippet_key(snippet: str) -> str:
    """Identity of a test snippet: its AST dump when it parses, else squashed text.

    Two snippets with the same key are the same test whatever their spacing, quoting or
    parenthesisation (`f( 1 )==2` and `f(1) == 2`).
    """
    try:
        return ast.dump(ast.parse(snippet.strip()))
    except SyntaxError:
        return squash_whitespace(snippet)


def called_names(source: str) -> list[str]:
    """Names called as plain functions in `source`, in order of first appearance."""
    tree = ast.parse(source)
    names: list[str] = []
    nodes = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    for node in nodes:
        if node.func.id not in names:
            names.append(node.func.id)
    return names


def infer_entry_point(tests: list[str], defined: list[str]) -> str:
    """The function under test: the first name the tests call that the solution defines.

    Falls back to the first called name that is not a builtin. Raises ValueError when the
    tests call nothing usable.
    """
    called: list[str] = []
    for test in tests:
        try:
            called.extend(name for name in called_names(test) if name not in called)
        except SyntaxError:
            continue
    for name in called:
        if name in defined:
            return name
    for name in called:
        if not hasattr(builtins, name):
            return name
    raise ValueError("cannot infer the entry point: the tests call no user-defined function")


def expected_literal(snippet: str) -> str | None:
    """Source text of the literal a test compares against, e.g. `[3, 2]` in `assert f(x) == [3, 2]`.

    Only `assert <expr> == <literal>` (either side) counts; returns None otherwise.
    """
    try:
        tree = ast.parse(snippet.strip())
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    test = tree.body[0].test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    for side in (test.comparators[0], test.left):
        if _is_literal(side):
            return ast.get_source_segment(snippet.strip(), side)
    return None


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def segment_of(lines: list[bytes], node: ast.AST) -> str:
    """Source text of `node` given the source's UTF-8 lines (AST offsets are in bytes).

    Same result as `ast.get_source_segment`, without re-splitting the whole source on
    every call (that made splitting a long `check` quadratic).
    """
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first][node.col_offset:node.end_col_offset].decode("utf-8")
    parts = [lines[first][node.col_offset:]] + lines[first + 1:last] + [lines[last][:node.end_col_offset]]
    return b"".join(parts).decode("utf-8")


def rename_name(source: str, old: str, new: str) -> str:
    """Replace the identifier `old` by `new` wherever it is a NAME token (never in strings)."""
    lines = source.splitlines(keepends=True)
    hits = [token.start for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.NAME and token.string == old]
    for row, col in reversed(hits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[col + len(old):]
    return "".join(lines)


# Ints with more decimal digits than the default int/str conversion limit (4,300) are written
# in hex: such decimal text can be neither produced by `repr` nor read back by the compiler,
# while hex has no limit. Every int of up to 4,300 digits is still written in decimal.
_DECIMAL_INT_LIMIT = 10 ** sys.int_info.default_max_str_digits


def python_source(value: Any) -> str:
    """Python source that evaluates (with builtins only) to an equal value of the same type.

    Unlike `repr`, handles inf/nan (`float('inf')`), the empty set (`set()`), ints past the
    decimal digit limit (`0x...`) and nested containers of them; set and frozenset elements
    are sorted by their source text, so the text never depends on string-hash iteration
    order. Only exact builtin types are accepted (a Counter is not written as a dict, which
    would change its type). NaN never compares equal, so callers must not build `==` tests
    from a value containing NaN (see `contains_nan`). Raises ValueError for unsupported types.

    >>> python_source([float('inf'), (1,), {'b', 'a'}, frozenset(), -0.0])
    "[float('inf'), (1,), {'a', 'b'}, frozenset(), -0.0]"
    >>> python_source(-16**4000) == '-0x1' + '0' * 4000  # 4,817 decimal digits: too many
    True
    """
    kind = type(value)
    if kind is int and not -_DECIMAL_INT_LIMIT < value < _DECIMAL_INT_LIMIT:
        return hex(value)  # '0x...' or '-0x...', a literal
    if value is None or kind in (bool, int, str, bytes):
        return repr(value)
    if kind is float:
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return repr(value)
    if kind is complex:
        return f"complex({python_source(value.real)}, {python_source(value.imag)})"
    if kind is list:
        return "[" + ", ".join(python_source(item) for item in value) + "]"
    if kind is tuple:
        inner = ", ".join(python_source(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind in (set, frozenset):
        items = sorted((python_source(item) for item in value))
        body = "{" + ", ".join(items) + "}" if items else ""
        if kind is set:
            return body if items else "set()"
        return f"frozenset({body})"
    if kind is dict:
        pairs = ", ".join(f"{python_source(k)}: {python_source(v)}" for k, v in value.items())
        return "{" + pairs + "}"
    raise ValueError(f"cannot write a {kind.__name__} value as Python source")


def contains_nan(value: Any) -> bool:
    """True when a float NaN sits anywhere inside `value` (containers searched)."""
    if type(value) is float:
        return math.isnan(value)
    if type(value) is complex:
        return math.isnan(value.real) or math.isnan(value.imag)
    if type(value) in (list, tuple, set, frozenset):
        return any(contains_nan(item) for item in value)
    if type(value) is dict:
        return any(contains_nan(k) or contains_nan(v) for k, v in value.items())
    return False


# An expected literal shorter than this (`True`, `0`, `[]`, `'abc'`) turns up in prompts by
# chance, so on its own it is no evidence of a leak; the whole test text still is.
MIN_LEAK_LITERAL_CHARS = 8


def leak_reason(test: str, visible_text: str,
                expected_of: Callable[[str], str | None] | None = None) -> str | None:
    """Why `test` counts as visible in `visible_text` (prompt + starter code), or None.

    Both sides are compared with all whitespace removed. A test is visible when its text
    (without the leading `assert`) appears, or when its expected literal appears and that
    literal has at least MIN_LEAK_LITERAL_CHARS non-space characters. `expected_of` finds a
    test's expected value (default `expected_literal`, for Python asserts).
    """
    haystack = squash_whitespace(visible_text)
    body = squash_whitespace(test)
    if body.startswith("assert"):
        body = body[len("assert"):]
    if body and body in haystack:
        return "its text appears"
    literal = (expected_of or expected_literal)(test)
    if literal is not None:
        squashed = squash_whitespace(literal)
        if len(squashed) >= MIN_LEAK_LITERAL_CHARS and squashed in haystack:
            return f"its expected value {literal[:40]} appears"
    return None
