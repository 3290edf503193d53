"""The equality each MultiPL-E assert applied, on decoded values, in the parent.

Why values and not the language's own `==`: the comparison must run where the expected value
is, and the expected value must never enter the candidate's process. Both sides arrive as
fresh builtin Python objects (`codec.decode`), encoded by the same harness runtime from the
language's own values, so comparing them with Python's `==` reproduces C++'s operator==,
Java's ==/equals and Rust's PartialEq for the types MultiPL-E returns (numbers compare by
value, exactly; containers element-wise; maps as sets of pairs). Rust's and Java's `equals`
compare only values of one kind (`typed_equal`): the compiler refuses `assert_eq!(1, true)`
and `Long.equals(Boolean)` is false, where Python's `1 == True` holds. Java's `==` compares
numbers with numbers and booleans with booleans (`java_primitive_equal`). JavaScript's
`assert.deepEqual` is loose, so it gets its own rule below, written from Node 20's
`innerDeepEqual` (lib/internal/util/comparisons.js): primitives compare with `==` (or both
NaN), an object never equals a primitive, arrays and plain objects compare key by key.
Known differences are listed in docs/languages.md.
"""

from __future__ import annotations

import math
import re
from typing import Any

_JS_WHITESPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
                 "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_DECIMAL = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)\Z")
_JS_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)\Z")
_RADIX = {"x": 16, "o": 8, "b": 2}


def values_equal(rule: str, actual: Any, expected: Any) -> bool:
    """True when the language's assert would have held for these two (decoded) values."""
    if rule == "js_deep_equal":
        return js_deep_equal(actual, expected)
    if rule == "rust_eq":
        return typed_equal(actual, expected, _ieee_equal)
    if rule == "java_equals":
        return typed_equal(actual, expected, _java_boxed_equal)
    if rule == "java_eq":
        return java_primitive_equal(actual, expected)
    try:
        return bool(actual == expected)
    except (TypeError, ValueError, RecursionError):
        return False


def _ieee_equal(left: float, right: float) -> bool:
    return left == right  # nan differs from itself, -0.0 equals 0.0 (f64's PartialEq, Java's ==)


def _java_boxed_equal(left: float, right: float) -> bool:
    """Double.equals / Float.equals: the bits compare (nan equals nan, -0.0 differs from 0.0)."""
    return repr(left) == repr(right)


def typed_equal(actual: Any, expected: Any, float_equal=_ieee_equal, depth: int = 0) -> bool:
    """Equality of decoded values where a value equals only values of its own kind (bool, int,
    float, str, list, tuple, dict, set, None): what Rust's PartialEq and Java's `equals`
    do on the types MultiPL-E returns. Map keys and set elements compare by kind and value."""
    kind = type(actual)
    if kind is not type(expected) or depth > 200:
        return False
    if kind is float:
        return float_equal(actual, expected)
    if kind in (list, tuple):
        return len(actual) == len(expected) and all(
            typed_equal(a, e, float_equal, depth + 1) for a, e in zip(actual, expected))
    if kind is dict:
        mine = {_typed_key(key): value for key, value in actual.items()}
        theirs = {_typed_key(key): value for key, value in expected.items()}
        return mine.keys() == theirs.keys() and all(
            typed_equal(mine[key], theirs[key], float_equal, depth + 1) for key in theirs)
    if kind in (set, frozenset):
        return {_typed_key(item) for item in actual} == {_typed_key(item) for item in expected}
    return bool(actual == expected)  # None, bool, int, str, bytes, complex: same kind already


def _typed_key(value: Any) -> Any:
    """A hashable form of a decoded value that keeps its kind (so 1 and True differ)."""
    kind = type(value)
    if kind in (list, tuple):
        return (kind.__name__, tuple(_typed_key(item) for item in value))
    if kind in (set, frozenset):
        return (kind.__name__, frozenset(_typed_key(item) for item in value))
    if kind is dict:
        return ("dict", frozenset((_typed_key(k), _typed_key(v)) for k, v in value.items()))
    if kind is float:
        return ("float", repr(value))
    return (kind.__name__, value)


def java_primitive_equal(actual: Any, expected: Any) -> bool:
    """Java's `==` on the primitives MultiPL-E compares with it (long, boolean, float): a
    boolean equals only a boolean, numbers compare by value (nan never equal)."""
    numbers = (int, float)
    if type(actual) is bool or type(expected) is bool:
        return type(actual) is type(expected) and actual == expected
    if type(actual) in numbers and type(expected) in numbers:
        return actual == expected
    return typed_equal(actual, expected)


def _is_primitive(value: Any) -> bool:
    return value is None or type(value) in (bool, int, float, str)


def js_deep_equal(actual: Any, expected: Any, depth: int = 0) -> bool:
    """Node's legacy (loose) `assert.deepEqual` on values encoded by the JS runtime
    (null and undefined both arrive as None, arrays as lists, plain objects as dicts)."""
    if depth > 200:
        return False
    if _is_primitive(actual) or _is_primitive(expected):
        if not (_is_primitive(actual) and _is_primitive(expected)):
            return False
        return js_loose_equal(actual, expected) or (_is_nan(actual) and _is_nan(expected))
    if type(actual) is list and type(expected) is list:
        return len(actual) == len(expected) and all(
            js_deep_equal(a, e, depth + 1) for a, e in zip(actual, expected))
    if type(actual) is dict and type(expected) is dict:
        return actual.keys() == expected.keys() and all(
            js_deep_equal(actual[key], expected[key], depth + 1) for key in expected)
    return False


def _is_nan(value: Any) -> bool:
    return type(value) is float and math.isnan(value)


def js_loose_equal(left: Any, right: Any) -> bool:
    """JavaScript's `==` between primitives (null/undefined as None)."""
    if left is None or right is None:
        return left is None and right is None
    if type(left) is str and type(right) is str:
        return left == right
    return _js_number(left) == _js_number(right)  # nan never equals anything, as in JS


def _js_number(value: Any) -> float:
    """ToNumber for booleans, numbers and strings."""
    if type(value) is bool:
        return 1.0 if value else 0.0
    if type(value) in (int, float):
        return float(value) if type(value) is float or abs(value) < 2**1023 else math.inf
    return js_string_to_number(value)


def js_string_to_number(text: str) -> float:
    """JavaScript's StringToNumber: trimmed; "" is 0; decimal, Infinity, 0x/0o/0b literals."""
    stripped = text.strip(_JS_WHITESPACE)
    if not stripped:
        return 0.0
    radix = _JS_RADIX.match(stripped)
    if radix:
        try:
            return float(int(radix.group(2), _RADIX[radix.group(1).lower()]))
        except (ValueError, OverflowError):
            return math.nan
    if _JS_DECIMAL.match(stripped):
        return float(stripped.replace("Infinity", "inf"))
    return math.nan
