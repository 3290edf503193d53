"""Split a test snippet into probes (run by the candidate) and a judge (run by the parent).

Why: a test judged inside the candidate's process can be faked (an `__eq__` that always
says yes, reading the expected value from the caller's frame). So for
`assert sorted(f(x)) == [1, 2]` the child only evaluates the *probe* `sorted(f(x))` and
returns its value through the closed codec; the parent evaluates the *judge*
`_v0 == [1, 2]` on the decoded value. Expected values never enter the child.

A probe is the largest subexpression around a call of the entry point that holds no
expected data: the call itself, wrapped by single-argument conversions (`set`, `sorted`,
`list`, `len`, ...), `round(., <int literal>)`, `sorted(., key=<builtin>, reverse=<bool>)`
and constant subscripts (`f(x)[0]`). A probe that is the whole assertion (`assert f(x)`,
`assert not f(x)`) is wrapped in `bool()`: only its truth value matters, exactly as in
the original `assert`.

Anything we cannot split faithfully falls back (judge=None, fallback=snippet) and runs
in the child, counted as judged in-process: several statements, no assertion, no call of
the entry point, a call whose evaluation the original would skip (second operand of
`and`/`or`, branch of `x if c else y`, later links of a chained comparison), calls inside
comprehensions or lambdas, `:=`, attribute access or method calls on a result, and judges
that would need names the parent cannot evaluate (helpers, setup objects, constants).
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from dataclasses import dataclass

from codeself.execution.judge import JUDGE_FUNCTIONS, MATH_NAMES, ORACLE_FUNCTIONS

# One-argument conversions/reductions that may wrap a probe: none of them takes expected data.
# `_evalplus_not_none` is EvalPlus's oracle for MBPP+ 737/787/794 (a bool as is, anything else
# by whether it is None), defined by the task's setup_code: applied in the child, it turns a
# returned `re.Match` into True before the codec, as EvalPlus accepts it.
_WRAPPERS = frozenset({
    "set", "frozenset", "sorted", "list", "tuple", "dict", "abs", "len", "str", "repr",
    "int", "float", "bool", "complex", "bytes", "min", "max", "sum", "any", "all", "round",
    "_evalplus_not_none",
})
# Builtins allowed as `sorted(..., key=NAME)` inside a probe.
_KEY_FUNCTIONS = frozenset({"len", "str", "abs", "int", "float", "tuple", "list", "sorted", "sum", "min", "max"})
_RESERVED = re.compile(r"^_v\d+$")


@dataclass(frozen=True)
class SplitTest:
    """A test snippet split for out-of-process judging (docs/schemas.md, "Verdicts")."""

    probes: tuple[str, ...]  # expressions the child evaluates, in order, after candidate + setup
    judge: str | None  # expression the parent evaluates with _v0.._vN bound; truthy = pass
    fallback: str | None  # when judge is None: the whole snippet, run inside the child

    @property
    def in_process(self) -> bool:
        """True when this test must be asserted inside the candidate's process."""
        return self.judge is None


class _CannotSplit(ValueError):
    """Internal: the snippet needs the in-process fallback; the message says why."""


@functools.lru_cache(maxsize=1 << 16)
def split_test(snippet: str, entry_point: str) -> SplitTest:
    """Split `snippet` (one test) for `entry_point`; falls back rather than guess."""
    split, _reason = split_test_with_reason(snippet, entry_point)
    return split


def split_test_with_reason(snippet: str, entry_point: str) -> tuple[SplitTest, str | None]:
    """`split_test` plus the reason for a fallback (None when split): for statistics."""
    try:
        probes, judge = _split(snippet, entry_point)
    except _CannotSplit as why:
        return SplitTest(probes=(), judge=None, fallback=snippet), str(why)
    return SplitTest(probes=probes, judge=judge, fallback=None), None


def _split(snippet: str, entry_point: str) -> tuple[tuple[str, ...], str]:
    try:
        with warnings.catch_warnings():  # e.g. regex literals with invalid escapes like '\d'
            warnings.simplefilter("ignore")
            module = ast.parse(snippet.strip())
    except SyntaxError:
        raise _CannotSplit("syntax error") from None
    imported, star, statements = _math_imports(module.body)
    if len(statements) != 1 or not isinstance(statements[0], ast.Assert):
        raise _CannotSplit("not a single assert statement")
    test = statements[0].test
    parents, calls = _scan(test, entry_point)
    rename = _MathNames(imported, star) if imported or star else None
    if not calls:  # e.g. `assert True, "..."`: judge it in the parent if it needs nothing else
        root = rename.visit(test) if rename else test
        try:
            validate_judge(ast.Expression(body=root), 0, exclude=entry_point)
        except _CannotSplit:
            raise _CannotSplit("no call of the entry point") from None
        return (), ast.unparse(root)
    probes = [_widen(call, parents) for call in calls]
    texts = []
    for probe in probes:
        _check_probe(probe, imported, star)
        text = ast.unparse(probe)
        if _in_truth_context(probe, parents) and not _is_call_of(probe, "bool"):
            text = f"bool({text})"
        texts.append(text)
    root: ast.expr = test
    for index, probe in enumerate(probes):
        name = ast.Name(id=f"_v{index}", ctx=ast.Load())
        if probe is test:
            root = name
        else:
            _replace_child(parents[probe], probe, name)
    if rename:
        root = rename.visit(root)
    validate_judge(ast.Expression(body=root), len(probes), exclude=entry_point)
    return tuple(texts), ast.unparse(root)


def _scan(test: ast.expr, entry_point: str) -> tuple[dict[ast.AST, ast.AST], list[ast.Call]]:
    """One walk: the parent of every node, and the outermost calls of the entry point in source order."""
    parents: dict[ast.AST, ast.AST] = {}
    calls = []
    for node in ast.walk(test):  # breadth-first: a node's parent is recorded before the node is seen
        if isinstance(node, ast.Name) and _RESERVED.match(node.id):
            raise _CannotSplit("uses a reserved _vN name")
        if isinstance(node, ast.NamedExpr):
            raise _CannotSplit("uses :=")
        if _is_call_of(node, entry_point):
            ancestor = parents.get(node)
            while ancestor is not None and not _is_call_of(ancestor, entry_point):
                ancestor = parents.get(ancestor)
            if ancestor is None:
                _check_always_evaluated(node, parents)
                calls.append(node)
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents, sorted(calls, key=lambda node: (node.lineno, node.col_offset))


def _math_imports(body: list[ast.stmt]) -> tuple[dict[str, str], bool, list[ast.stmt]]:
    """Strip `import math` / `from math import ...` lines: the judge always has `math`.

    Returns {bound name: dotted math name}, whether `from math import *` was seen, and the
    remaining statements.
    """
    imported: dict[str, str] = {}
    star = False
    rest = []
    for statement in body:
        if isinstance(statement, ast.Import) and all(alias.name == "math" for alias in statement.names):
            imported.update({alias.asname or "math": "math" for alias in statement.names})
        elif isinstance(statement, ast.ImportFrom) and statement.module == "math" and not statement.level:
            for alias in statement.names:
                if alias.name == "*":
                    star = True
                else:
                    imported[alias.asname or alias.name] = f"math.{alias.name}"
        else:
            rest.append(statement)
    return imported, star, rest


def _is_call_of(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


_LAZY_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension)


def _check_always_evaluated(node: ast.AST, parents: dict) -> None:
    """Probes are evaluated eagerly, so refuse calls the original might never make."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, _LAZY_SCOPES):
            raise _CannotSplit("entry point called inside a comprehension or lambda")
        if isinstance(parent, ast.BoolOp) and child is not parent.values[0]:
            raise _CannotSplit("entry point called in a short-circuited and/or operand")
        if isinstance(parent, ast.IfExp) and child is not parent.test:
            raise _CannotSplit("entry point called in a conditional-expression branch")
        if isinstance(parent, ast.Compare) and child in parent.comparators[1:]:
            raise _CannotSplit("entry point called in a later link of a chained comparison")
        child, parent = parent, parents.get(parent)


def _widen(node: ast.expr, parents: dict) -> ast.expr:
    """Grow the probe through wrappers that carry no expected data."""
    while True:
        parent = parents.get(node)
        if isinstance(parent, ast.Call) and _is_wrapper_call(parent, node):
            node = parent
        elif isinstance(parent, ast.Subscript) and parent.value is node and _is_constant_index(parent.slice):
            node = parent
        else:
            return node


def _is_wrapper_call(call: ast.Call, argument: ast.expr) -> bool:
    if not isinstance(call.func, ast.Name) or call.func.id not in _WRAPPERS or not call.args:
        return False
    if call.args[0] is not argument or any(isinstance(arg, ast.Starred) for arg in call.args):
        return False
    name, extra, keywords = call.func.id, call.args[1:], call.keywords
    if name == "round":
        return not keywords and len(extra) <= 1 and all(_is_int_literal(arg) for arg in extra)
    if name == "sorted":
        return not extra and all(_is_sort_option(keyword) for keyword in keywords)
    return not extra and not keywords


def _is_int_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _is_sort_option(keyword: ast.keyword) -> bool:
    if keyword.arg == "reverse":
        return isinstance(keyword.value, ast.Constant) and type(keyword.value.value) in (bool, int)
    if keyword.arg == "key":
        return isinstance(keyword.value, ast.Name) and keyword.value.id in _KEY_FUNCTIONS
    return False


def _is_constant_index(node: ast.expr) -> bool:
    if isinstance(node, ast.Slice):
        return all(part is None or _is_int_literal(part) for part in (node.lower, node.upper, node.step))
    return _is_int_literal(node) or isinstance(node, ast.Constant) and type(node.value) is str


def _check_probe(probe: ast.expr, imported: dict[str, str], star: bool) -> None:
    """A probe runs in the child, which does not see the snippet's own import lines."""
    for node in ast.walk(probe):
        if isinstance(node, ast.Name) and (node.id in imported or star and node.id in MATH_NAMES):
            raise _CannotSplit("probe uses a name imported by the snippet")


def _in_truth_context(node: ast.AST, parents: dict) -> bool:
    """Only the truth value of `node` reaches the assert (`assert f(x)`, `assert not f(x)`)."""
    parent = parents.get(node)
    while parent is not None:
        if not (isinstance(parent, ast.BoolOp) or isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
            return False
        parent = parents.get(parent)
    return True


def _replace_child(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is old:
                    value[index] = new
                    return
    raise AssertionError("probe node not found under its parent")


class _MathNames(ast.NodeTransformer):
    """Rewrite names bound by the snippet's math imports to `math.<name>` for the judge."""

    def __init__(self, imported: dict[str, str], star: bool) -> None:
        self.imported = imported
        self.star = star

    def visit_Name(self, node: ast.Name) -> ast.expr:
        target = self.imported.get(node.id)
        if target is None and self.star and node.id in MATH_NAMES and node.id not in JUDGE_FUNCTIONS:
            target = f"math.{node.id}"
        if target is None or target == "math":
            return node
        return ast.Attribute(value=ast.Name(id="math", ctx=ast.Load()), attr=target[5:], ctx=ast.Load())


_JUDGE_NODES = (
    ast.Expression, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Subscript,
    ast.Slice, ast.IfExp, ast.Load, ast.operator, ast.unaryop, ast.cmpop, ast.boolop,
)


def validate_judge(tree: ast.Expression, probe_count: int, *, exclude: str = "") -> None:
    """The judge runs in the parent: only literals, _vN, safe builtins and math.* allowed.

    `exclude` is the entry point's name: a function under test called `sum` shadows the
    builtin in the original test, so the judge must not read it as the builtin.
    Raises ValueError naming what is not allowed.
    """
    allowed = ({f"_v{index}" for index in range(probe_count)} | JUDGE_FUNCTIONS | set(ORACLE_FUNCTIONS)
               | {"math"}) - {exclude}
    math_names = math_attributes = 0
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Constant:
            continue
        if not isinstance(node, _JUDGE_NODES):
            raise _CannotSplit(f"judge would need {kind.__name__}")
        if kind is ast.Name:
            if node.id not in allowed:
                raise _CannotSplit(f"judge would need the name {node.id!r}")
            math_names += node.id == "math"
        elif kind is ast.Attribute:
            if not (isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr in MATH_NAMES):
                raise _CannotSplit("judge would need attribute access")
            math_attributes += 1
        elif kind is ast.Call and not isinstance(node.func, (ast.Name, ast.Attribute)):
            raise _CannotSplit("judge would call a computed function")
    if math_names != math_attributes:  # every `math` must be the `math` of a `math.<name>`
        raise _CannotSplit("judge uses the math module as a value")
