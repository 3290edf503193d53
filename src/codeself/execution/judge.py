"""Evaluate a split test's judge in the parent, on decoded probe values.

Why here and not in the child: the expected values live only in the judge, and the judge
sees only fresh builtin objects built by `codec.decode`, so no method the candidate wrote
can run and the candidate never sees what it is compared with.

Semantics: plain Python evaluation of the judge expression (`True == 1` holds, as in the
original in-process `assert`), with two deliberate differences:

* Tolerance (atol > 0, or `default_float_atol` > 0 for EvalPlus-style float outputs):
  every `==` / `!=` in the judge compares with `tolerant_equal`: a float/complex leaf
  against a number passes when |actual - expected| <= atol + RTOL * |expected| (RTOL =
  1e-7 and nan equal to nan, as numpy.testing.assert_allclose, which EvalPlus uses),
  recursing through lists, tuples and dict values of the same container type; everything
  else compares with `==`. When neither or both sides involve a probe value the relative
  term uses the larger magnitude.
* Resource guards: the values come from the candidate, so operations whose cost can
  explode with a value (`**`, `*`, `<<`, big-int division, `bytes(n)`, `round(x, -n)`,
  building a set/dict from hash-colliding keys) are checked first and raise
  `JudgeLimitExceeded` (a failed test) instead of stalling the parent; `sum(lists, [])`
  concatenates in linear time. (The guards themselves: judge_guards.py.)
"""

from __future__ import annotations

import ast
import builtins
import cmath
import functools
import math
import reprlib
import threading
import types
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from codeself.execution.judge_guards import CHECKED_OPS, GUARDED, JudgeLimitExceeded  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from codeself.execution.assertions import SplitTest

RTOL = 1e-7  # relative tolerance used with atol, as numpy.testing.assert_allclose's default
MAX_MESSAGE = 300

MATH_NAMES = frozenset({
    "pi", "e", "tau", "inf", "nan", "isclose", "isnan", "isinf", "isfinite", "sqrt", "fabs",
    "floor", "ceil", "trunc", "log", "log2", "log10", "log1p", "exp", "expm1", "sin", "cos",
    "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "hypot", "degrees", "radians", "copysign", "fmod", "fsum", "modf", "frexp", "pow", "dist",
    "remainder",
})  # no factorial/comb/perm/prod/gcd/lcm/isqrt: their cost explodes with big ints
JUDGE_FUNCTIONS = frozenset({
    "abs", "all", "any", "bool", "bytes", "chr", "complex", "dict", "divmod", "enumerate",
    "filter", "float", "frozenset", "int", "isinstance", "len", "list", "map", "max", "min",
    "ord", "pow", "repr", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "type", "zip",
})


def judge_test(split: "SplitTest", values: list, *, atol: float = 0.0, hidden: bool = False,
               default_float_atol: float = 0.0) -> tuple[bool, str | None, str]:
    """(passed, error_type, message) for one split test on its decoded probe values.

    `values` must hold exactly one decoded value per probe, and `split.judge` must pass
    `assertions.validate_judge`; otherwise ValueError (a harness bug, not a candidate
    failure). Any exception while evaluating the judge is a failed test. Hidden-test
    messages never contain the test text or an expected value.
    """
    if split.judge is None:
        raise ValueError("judge_test needs a split test; this one falls back to in-process assertion")
    if len(values) != len(split.probes):
        raise ValueError(f"judge_test got {len(values)} values for {len(split.probes)} probes")
    tolerant = atol > 0 or default_float_atol > 0
    code = _compile(split.judge, len(values), tolerant)  # ValueError/SyntaxError: not a valid judge
    namespace = _namespace(values, atol, default_float_atol)
    try:
        passed = bool(eval(code, namespace))  # noqa: S307 - validated judge, builtin values only
    except Exception as error:  # noqa: BLE001 - any judge error is a failed test
        return False, type(error).__name__, _error_message(error, hidden)
    if passed:
        return True, None, ""
    if hidden:
        return False, "AssertionError", f"hidden test failed: returned {_type_list(values)} did not match"
    return False, "AssertionError", _mismatch_message(split.judge, values, namespace)


def _namespace(values: list, atol: float, default_float_atol: float) -> dict[str, Any]:
    namespace = _BASE_NAMESPACE.copy()  # one copy instead of rebuilding ~45 entries per test
    namespace["__builtins__"] = {}
    namespace["_compare"] = functools.partial(_compare_chain, atol=atol, default_float_atol=default_float_atol)
    namespace.update({f"_v{index}": value for index, value in enumerate(values)})
    return namespace


class CompiledJudges:
    """Compiled judges, least recently used out first, bounded by the judges' total source
    size rather than by their number: a batch must find every judge of its benchmark here
    (MBPP+ has 18.5k distinct ones, 2 MB of source, about 15 MB compiled; when only 8192 were
    kept, each sample compiled most of its judges again, at about 0.5 ms each, which was most
    of the parent's CPU), while judges holding huge expected values cannot fill the memory
    (compiled, a judge takes about ten times its source size). Thread-safe."""

    MAX_SOURCE = 16 << 20  # characters of judge source kept
    ENTRY_OVERHEAD = 256  # counted per judge besides its source: a tiny judge is not free to keep

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, int, bool], Any] = OrderedDict()
        self._source = 0
        self._lock = threading.Lock()
        self.hits = self.compiled = 0

    def get(self, judge: str, probe_count: int, tolerant: bool) -> Any:
        key = (judge, probe_count, tolerant)
        with self._lock:
            code = self._kept.get(key)
            if code is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return code
        code = _compile_judge(judge, probe_count, tolerant)  # outside the lock: other threads go on
        with self._lock:
            self.compiled += 1
            if key not in self._kept:
                self._kept[key] = code
                self._source += len(judge) + self.ENTRY_OVERHEAD
                while self._source > self.MAX_SOURCE and len(self._kept) > 1:
                    (old, _, _), _ = self._kept.popitem(last=False)
                    self._source -= len(old) + self.ENTRY_OVERHEAD
        return code


COMPILED = CompiledJudges()


def _compile(judge: str, probe_count: int, tolerant: bool) -> Any:
    """The compiled judge, from COMPILED (the engine's steady state) or compiled now."""
    return COMPILED.get(judge, probe_count, tolerant)


def _compile_judge(judge: str, probe_count: int, tolerant: bool) -> Any:
    """Validate (again: a SplitTest may have been built by hand) and compile a judge."""
    from codeself.execution.assertions import validate_judge

    tree = ast.parse(judge, mode="eval")
    validate_judge(tree, probe_count)
    tree = _Guard(tolerant).visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, "<judge>", "eval")


_GUARDED_NAMES = frozenset({"set", "frozenset", "dict", "bytes", "pow", "round", "divmod", "type", "sum"})
_TOLERANT_OPS = (ast.Eq, ast.NotEq)


class _Guard(ast.NodeTransformer):
    """Route costly operations through checked helpers; with tolerance, `==` through `_compare`."""

    def __init__(self, tolerant: bool) -> None:
        self.tolerant = tolerant
        self.type_positions: set[int] = set()

    def visit_Expression(self, node: ast.Expression) -> ast.AST:
        self.type_positions = _type_positions(node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _GUARDED_NAMES and id(node) not in self.type_positions:
            return ast.copy_location(ast.Name(id=f"_g_{node.id}", ctx=ast.Load()), node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        name = type(node.op).__name__
        if name not in CHECKED_OPS:
            return node
        call = ast.Call(func=ast.Name(id="_g_arith", ctx=ast.Load()),
                        args=[ast.Constant(name), node.left, node.right], keywords=[])
        return ast.copy_location(call, node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        probe_sides = [_mentions_probe(operand) for operand in [node.left, *node.comparators]]
        self.generic_visit(node)
        if not self.tolerant or not any(isinstance(op, _TOLERANT_OPS) for op in node.ops):
            return node
        links = []
        for index, (op, comparator) in enumerate(zip(node.ops, node.comparators)):
            left_probe, right_probe = probe_sides[index], probe_sides[index + 1]
            side = "right" if left_probe and not right_probe else "left" if right_probe and not left_probe else ""
            thunk = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                                  kw_defaults=[], kwarg=None, defaults=[]), body=comparator)
            links.append(ast.Tuple(elts=[ast.Constant(type(op).__name__), thunk, ast.Constant(side)], ctx=ast.Load()))
        call = ast.Call(func=ast.Name(id="_compare", ctx=ast.Load()),
                        args=[node.left, ast.Tuple(elts=links, ctx=ast.Load())], keywords=[])
        return ast.copy_location(call, node)


def _mentions_probe(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Name) and sub.id.startswith("_v") for sub in ast.walk(node))


def _type_positions(tree: ast.AST) -> set[int]:
    """ids of Name nodes used as types (isinstance's 2nd argument, comparison operands)."""
    positions: set[int] = set()
    for node in ast.walk(tree):
        candidates: list[ast.AST] = []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            candidates = node.args[1:2]
            if candidates and isinstance(candidates[0], ast.Tuple):
                candidates = list(candidates[0].elts)
        elif isinstance(node, ast.Compare):
            candidates = [node.left, *node.comparators]
        positions.update(id(item) for item in candidates if isinstance(item, ast.Name))
    return positions


# ---- tolerant equality -------------------------------------------------------------------

_NUMBERS = (bool, int, float, complex)
_INEXACT = (float, complex)


def tolerant_equal(actual: Any, expected: Any, atol: float, *, symmetric: bool = False) -> bool:
    """`actual == expected`, except float/complex leaves may differ by atol + RTOL*|expected|.

    Containers must have the same type (list vs tuple stays unequal, as with `==`); dicts
    need equal key sets, then their values compare tolerantly. nan equals nan here.
    """
    if actual == expected:
        return True
    kind, expected_kind = type(actual), type(expected)
    if kind in _NUMBERS and expected_kind in _NUMBERS:
        return (kind in _INEXACT or expected_kind in _INEXACT) and _close(actual, expected, atol, symmetric)
    if kind is expected_kind and kind in (list, tuple):
        return len(actual) == len(expected) and all(
            tolerant_equal(a, e, atol, symmetric=symmetric) for a, e in zip(actual, expected))
    if kind is expected_kind is dict:
        return actual.keys() == expected.keys() and all(
            tolerant_equal(actual[key], value, atol, symmetric=symmetric) for key, value in expected.items())
    return False


def _isnan(value: Any) -> bool:
    kind = type(value)
    return cmath.isnan(value) if kind is complex else math.isnan(value) if kind is float else False


def _close(actual: Any, expected: Any, atol: float, symmetric: bool) -> bool:
    if _isnan(actual) or _isnan(expected):
        return _isnan(actual) and _isnan(expected)
    try:
        if cmath.isinf(actual) or cmath.isinf(expected):
            return False  # equal infinities were caught by `==`
        scale = max(abs(actual), abs(expected)) if symmetric else abs(expected)
        return abs(actual - expected) <= atol + RTOL * scale
    except OverflowError:  # an int too big for a float is not close to any float
        return False


def is_floats(value: Any) -> bool:
    """EvalPlus's test for applying its default float tolerance: a float or a flat list/tuple of floats."""
    if type(value) is float:
        return True
    return type(value) in (list, tuple) and all(type(item) is float for item in value)


def _compare_chain(left: Any, links: tuple, *, atol: float, default_float_atol: float) -> bool:
    current = left
    for op_name, thunk, expected_side in links:
        right = thunk()
        if op_name in ("Eq", "NotEq"):
            equal = _equal(current, right, expected_side, atol, default_float_atol)
            outcome = equal if op_name == "Eq" else not equal
        else:
            outcome = _COMPARISONS[op_name](current, right)
        if not outcome:
            return False
        current = right
    return True


def _equal(left: Any, right: Any, expected_side: str, atol: float, default_float_atol: float) -> bool:
    actual, expected = (right, left) if expected_side == "left" else (left, right)
    symmetric = not expected_side
    if atol <= 0:
        atol = default_float_atol if not symmetric and is_floats(expected) else 0.0
    if atol <= 0:
        return actual == expected
    return tolerant_equal(actual, expected, atol, symmetric=symmetric)


_COMPARISONS = {
    "Lt": lambda a, b: a < b, "LtE": lambda a, b: a <= b, "Gt": lambda a, b: a > b,
    "GtE": lambda a, b: a >= b, "Is": lambda a, b: a is b, "IsNot": lambda a, b: a is not b,
    "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
}

def _evalplus_poly(coefficients: Any, x: Any) -> float:
    """EvalPlus's oracle for HumanEval/32 (`find_zero`): the polynomial's value at x, so any
    root within atol is accepted. Runs on decoded builtin values only."""
    if type(coefficients) is not list or len(coefficients) > 10_000:
        raise TypeError("polynomial coefficients must be a list of at most 10,000 numbers")
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(coefficients))


# Oracle functions of known datasets: trusted code the judge may call on decoded values, for
# tests like `assert abs(_evalplus_poly(xs, find_zero(xs))) <= atol`: the call of the entry
# point still runs in the child; the oracle and the bound stay in the parent.
ORACLE_FUNCTIONS: dict[str, Any] = {"_evalplus_poly": _evalplus_poly}
_SAFE_BUILTINS = {name: getattr(builtins, name) for name in JUDGE_FUNCTIONS}
_MATH = types.SimpleNamespace(**{name: getattr(math, name) for name in MATH_NAMES})
_BASE_NAMESPACE: dict[str, Any] = {**_SAFE_BUILTINS, **GUARDED, **ORACLE_FUNCTIONS, "math": _MATH}

# ---- messages ---------------------------------------------------------------------------


class _ShortRepr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict = 4, 8, 8, 6
        self.maxset, self.maxfrozenset, self.maxstring, self.maxother = 8, 8, 80, 80

    def repr_int(self, value: int, level: int) -> str:
        if value.bit_length() > 256:
            return f"<int with {value.bit_length()} bits>"
        return repr(value)


_SHORT = _ShortRepr()


def short_repr(value: Any) -> str:
    """A bounded repr of a decoded value for messages."""
    try:
        return _SHORT.repr(value)[:MAX_MESSAGE]
    except Exception:  # noqa: BLE001 - messages must never fail
        return f"<{type(value).__name__}>"


def _type_list(values: list) -> str:
    names = ", ".join(type(value).__name__ for value in values)
    return f"value of type {names}" if len(values) == 1 else f"values of types {names}"


def _error_message(error: Exception, hidden: bool) -> str:
    name = type(error).__name__
    if hidden:
        return f"hidden test failed: {name} while checking the returned value"
    return f"{name} while checking the result: {str(error)[:200]}"[:MAX_MESSAGE]


def _mismatch_message(judge: str, values: list, namespace: dict[str, Any]) -> str:
    """`expected X, got Y` for `_vK == X`-shaped judges, else the judge with the values."""
    if judge in ("_v0", "not _v0"):
        wanted = "a true" if judge == "_v0" else "a false"
        return f"expected {wanted} value, got {short_repr(values[0])}"
    plan = _equality_plan(judge)
    if plan is not None:
        got, expected_source = plan
        try:
            expected = eval(_compile(expected_source, len(values), False), namespace)  # noqa: S307
            return f"expected {short_repr(expected)}, got {short_repr(namespace[got])}"[:MAX_MESSAGE]
        except Exception:  # noqa: BLE001 - fall through to the generic message
            pass
    shown = ", ".join(f"_v{index} = {short_repr(value)}" for index, value in enumerate(values))
    return f"assertion failed: {judge[:150]} with {shown}"[:MAX_MESSAGE]


@functools.lru_cache(maxsize=8192)
def _equality_plan(judge: str) -> tuple[str, str] | None:
    """(probe name, expected-side source) when the judge is `_vK == X` or `X == _vK`."""
    tree = ast.parse(judge, mode="eval").body
    if isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq):
        sides = [tree.left, tree.comparators[0]]
        for got, other in (sides, sides[::-1]):
            if isinstance(got, ast.Name) and got.id.startswith("_v") and not _mentions_probe(other):
                return got.id, ast.unparse(other)
    return None
