"""Static quality signals and run-time efficiency of a candidate program.

These are diagnostics: they are recorded beside the reward so a researcher can see what a
policy learns (longer code? bare excepts?) without the signals steering training unless a
config gives them weight. Everything here is computed from the source text with `ast` and
`tokenize`; nothing executes candidate code.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from typing import Any

# Nodes that add one independent path (McCabe 1976: complexity = decision points + 1).
_BRANCH_NODES = (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler,
                 ast.Assert, ast.comprehension, ast.match_case)
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SKIPPED_TOKENS = {tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.INDENT,
                   tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}


def quality_signals(code: str | None) -> dict[str, Any] | None:
    """AST quality signals of `code`, or None when there is no code or it does not parse.

    Keys: lines (non-blank, non-comment lines), tokens (lexical tokens without layout and
    comments), cyclomatic_complexity (max over functions and module-level code),
    unused_names (sorted), unused_name_count, bare_except_count.

    One traversal of the tree serves every signal (the environment computes these for each
    step of a server, so separate `ast.walk`s per signal showed in its step latency).
    """
    if code is None:
        return None
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes, complexities, functions = _scan(tree)
    unused = _unused_names(nodes, functions)
    return {
        "lines": code_lines(code),
        "tokens": _parsed_token_count(code),
        "cyclomatic_complexity": max(complexities),
        "unused_names": unused,
        "unused_name_count": len(unused),
        "bare_except_count": sum(isinstance(node, ast.ExceptHandler) and node.type is None for node in nodes),
    }


def code_lines(code: str) -> int:
    """Lines holding code: blank lines and comment-only lines do not count."""
    return sum(1 for line in code.splitlines() if line.strip() and not line.strip().startswith("#"))


def token_count(code: str) -> int:
    """Number of lexical tokens (names, operators, literals); layout and comments excluded.

    A program that parses is counted with one regular expression built from `tokenize`'s
    own token patterns, which gives tokenize's count (checked against it on every program
    of the datasets, tests/test_rewards_quality.py) at a fifth of its cost: the
    environment counts every step's program. Other text goes through tokenize itself."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return tokenize_count(code)
    return _parsed_token_count(code)


def _parsed_token_count(code: str) -> int:
    """token_count of code known to parse: the matches of _TOKENS that are not comments
    (findall gives a comment's text for a comment, "" for a token)."""
    found = _TOKENS.findall(code)
    return found.count("")


def tokenize_count(code: str) -> int:
    """token_count by `tokenize` (0 when it gives up)."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(code).readline)
        return sum(1 for token in tokens if token.type not in _SKIPPED_TOKENS)
    except (tokenize.TokenError, SyntaxError):
        return 0


# a comment (the one capturing group), or a token in tokenize's order of preference: strings
# (triple-quoted first), numbers, operators, names, and a carriage return not ending a line
# (tokenize's ERRORTOKEN); the layout between them (spaces, line ends, backslash
# continuations) is stepped over by findall, as no token starts with any of it
_TOKENS = re.compile(re.sub(r"(?<!\\)\((?!\?)", "(?:", "|".join((
    r"\r(?!\n)", tokenize.StringPrefix + "'''" + tokenize.Single3, tokenize.StringPrefix + '"""' + tokenize.Double3,
    tokenize.String, tokenize.Number, tokenize.Special, tokenize.Name))) + "|(" + tokenize.Comment + ")", re.DOTALL)


def _children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` as a list, without its two generators per node."""
    children = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


class _Function:
    """The names of one function's subtree (nested scopes included), gathered by _scan."""

    __slots__ = ("name", "stored", "loaded", "declared")

    def __init__(self, name: str) -> None:
        self.name, self.stored, self.loaded, self.declared = name, set(), set(), set()


def _scan(tree: ast.AST) -> tuple[list[ast.AST], list[int], list[_Function]]:
    """(every node of the tree, the McCabe complexity of each scope: the module first, then
    every function and lambda, each 1 + its own decision points, and the names stored, read
    and declared global or nonlocal under each function). Iterative, so deeply nested
    (adversarial) code cannot exhaust the recursion limit.

    Decision points: if/elif, loops, except clauses, asserts, conditional expressions,
    comprehension `for`/`if`, match cases, and each extra operand of `and`/`or`; a nested
    function or lambda is a scope of its own, not part of the enclosing one."""
    nodes, complexities, functions = [tree], [1], []
    stack = [(child, 0, ()) for child in _children(tree)]
    while stack:
        node, scope, within = stack.pop()
        nodes.append(node)
        kind = type(node)
        if kind is ast.Name:
            for function in within:
                (function.stored if type(node.ctx) is ast.Store else function.loaded).add(node.id)
            continue  # a Name's children are its context only
        if isinstance(node, _SCOPE_NODES):
            scope = len(complexities)
            complexities.append(1)
            if kind is not ast.Lambda:
                functions.append(_Function(node.name))
                within = (*within, functions[-1])
        else:
            if isinstance(node, _BRANCH_NODES):
                complexities[scope] += 1
            elif kind is ast.BoolOp:
                complexities[scope] += len(node.values) - 1
            elif kind is ast.Global or kind is ast.Nonlocal:
                for function in within:
                    function.declared.update(node.names)
            if kind is ast.comprehension:
                complexities[scope] += len(node.ifs)
        stack.extend((child, scope, within) for child in _children(node))
    return nodes, complexities, functions


def max_cyclomatic_complexity(tree: ast.AST) -> int:
    """Largest McCabe complexity among the module body and every function or lambda.

    Each scope counts 1 + its decision points (if/elif, loops, except clauses, asserts,
    conditional expressions, comprehension `for`/`if`, match cases, and each extra operand of
    `and`/`or`); nested functions are scored as their own scope.
    """
    return max(_scan(tree)[1])


def unused_names(tree: ast.AST) -> list[str]:
    """Imports never used anywhere, and function locals assigned but never read.

    Names starting with `_`, names declared global/nonlocal, and function parameters are
    exempt (a signature is dictated by the task). Each entry is `name` for an import or
    `function.name` for a local, sorted.
    """
    nodes, _, functions = _scan(tree)
    return _unused_names(nodes, functions)


def _unused_names(nodes: list[ast.AST], functions: list[_Function]) -> list[str]:
    """unused_names of the tree whose nodes (all of them) and functions _scan found."""
    loaded = {node.id for node in nodes if type(node) is ast.Name and type(node.ctx) is not ast.Store}
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                if name != "*" and not name.startswith("_") and name not in loaded:
                    found.add(name)
    for function in functions:  # locals stored under the function and never read there
        found.update(f"{function.name}.{name}" for name in function.stored - function.loaded - function.declared
                     if not name.startswith("_"))
    return sorted(found)


def quality_score(signals: dict[str, Any] | None, reference: dict[str, Any] | None, *,
                  complexity_threshold: int) -> float | None:
    """A score in [0, 1] summarising `signals` (1 = no quality concern), or None without code.

    Mean of four sub-scores: no bare except (1 or 0); 1 / (1 + unused names); complexity
    (1 up to `complexity_threshold`, then threshold / complexity); length (min(1, reference
    tokens / candidate tokens) when the reference's signals are known, else 1).
    """
    if signals is None:
        return None
    bare = 0.0 if signals["bare_except_count"] else 1.0
    unused = 1.0 / (1 + signals["unused_name_count"])
    complexity = min(1.0, complexity_threshold / max(1, signals["cyclomatic_complexity"]))
    length = 1.0
    if reference is not None and signals["tokens"] > 0:
        length = min(1.0, reference["tokens"] / signals["tokens"])
    return (bare + unused + complexity + length) / 4


def efficiency(wall_s: float | None, cpu_s: float | None, metadata: dict[str, Any]) -> dict[str, Any] | None:
    """Wall and CPU time relative to the reference solution's (ratio > 1 = slower).

    The reference timings come from `task.metadata["reference_duration_s"]` and
    `["reference_cpu_time_s"]`; None when either side is unknown or not positive.
    """
    ref_wall = _positive(metadata.get("reference_duration_s"))
    ref_cpu = _positive(metadata.get("reference_cpu_time_s"))
    wall_ratio = wall_s / ref_wall if ref_wall and _positive(wall_s) else None
    cpu_ratio = cpu_s / ref_cpu if ref_cpu and _positive(cpu_s) else None
    if wall_ratio is None and cpu_ratio is None:
        return None
    return {"wall_ratio": wall_ratio, "cpu_ratio": cpu_ratio,
            "reference_duration_s": ref_wall, "reference_cpu_time_s": ref_cpu}


def efficiency_score(ratios: dict[str, Any] | None) -> float | None:
    """log2(1 / ratio) clipped to [-1, 1]: 2x faster -> +1, 2x slower -> -1.

    Uses the CPU ratio when known (less noisy), else the wall ratio; None when neither is.
    """
    if ratios is None:
        return None
    ratio = ratios["cpu_ratio"] if ratios["cpu_ratio"] is not None else ratios["wall_ratio"]
    return max(-1.0, min(1.0, -math.log2(ratio)))


def _positive(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value)
    return None
