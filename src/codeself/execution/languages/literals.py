"""Decoded values written back in the task's language, for the messages of failing public tests.

Why: a model revising a C++ answer reads `expected {1, 2}, got {2, 1}` more easily than Python's
`[1, 2]`; the judge compares the decoded values and this module only renders them. Types are
not known here (the codec carries kinds, not C++ or Java types), so containers are written in
the shape a literal of their kind takes: C++ brace lists and `std::make_tuple`, Java `[a, b]`
lists and javatuples' `Pair.with`, JavaScript arrays and objects, Rust `vec![..]`, tuples and
`HashMap::from([..])`. Output is bounded like `judge.short_repr` (long containers and strings
elided, then cut to `judge.MAX_MESSAGE`); anything unexpected falls back to `short_repr`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from codeself.execution.judge import MAX_MESSAGE, short_repr

MAX_ITEMS = 12  # container elements shown before "..."
MAX_STRING = 120  # characters of a string shown before "..."
OPTIONAL = b"Optional"  # Java's Optional encodes as a tuple headed by these bytes (runtime/Rt.java)
_NONE = {"cpp": "std::nullopt", "java": "Optional.empty()", "js": "null", "rust": "None"}
_INFINITY = {"cpp": "INFINITY", "java": "Double.POSITIVE_INFINITY", "js": "Infinity", "rust": "f64::INFINITY"}
_NAN = {"cpp": "NAN", "java": "Double.NaN", "js": "NaN", "rust": "f64::NAN"}
_TUPLES = {"cpp": "std::make_tuple({})", "js": "[{}]", "rust": "({})"}
_JAVA_TUPLES = {2: "Pair", 3: "Triplet", 4: "Quartet", 5: "Quintet"}


def shown(value: Any, language: str) -> str:
    """`value` as a literal of `language` (module docstring), at most MAX_MESSAGE characters."""
    try:
        return _shown(value, language, 0)[:MAX_MESSAGE]
    except Exception:  # noqa: BLE001 - a message must never fail
        return short_repr(value)


def _items(values: list, language: str, depth: int) -> str:
    written = [_shown(item, language, depth + 1) for item in values[:MAX_ITEMS]]
    return ", ".join(written + (["..."] if len(values) > MAX_ITEMS else []))


def _shown(value: Any, language: str, depth: int) -> str:
    if depth > 8:
        return "..."
    if value is None:
        return _NONE[language]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return _NAN[language]
        if math.isinf(value):
            return ("-" if value < 0 else "") + _INFINITY[language]
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value[:MAX_STRING])[:-1] + ('..."' if len(value) > MAX_STRING else '"')
    if isinstance(value, tuple) and value[:1] == (OPTIONAL,) and language == "java":
        return f"Optional.of({_shown(value[1], language, depth + 1)})" if len(value) > 1 else "Optional.empty()"
    if isinstance(value, list):
        inner = _items(value, language, depth)
        return {"cpp": f"{{{inner}}}", "rust": f"vec![{inner}]"}.get(language, f"[{inner}]")
    if isinstance(value, tuple):
        inner = _items(list(value), language, depth)
        if language == "java":
            name = _JAVA_TUPLES.get(len(value))
            return f"{name}.with({inner})" if name else f"[{inner}]"
        return _TUPLES[language].format(inner)
    if isinstance(value, (set, frozenset)):
        inner = _items(sorted(value, key=repr), language, depth)
        return {"cpp": f"{{{inner}}}", "java": f"Set.of({inner})", "js": f"new Set([{inner}])"}.get(
            language, f"HashSet::from([{inner}])")
    if isinstance(value, dict):
        pairs = [(_shown(k, language, depth + 1), _shown(v, language, depth + 1))
                 for k, v in list(value.items())[:MAX_ITEMS]]
        more = ", ..." if len(value) > MAX_ITEMS else ""
        if language == "cpp":
            return "{" + ", ".join(f"{{{k}, {v}}}" for k, v in pairs) + more + "}"
        if language == "java":
            return "Map.of(" + ", ".join(f"{k}, {v}" for k, v in pairs) + more + ")"
        if language == "js":
            return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + more + "}"
        return "HashMap::from([" + ", ".join(f"({k}, {v})" for k, v in pairs) + more + "])"
    return short_repr(value)
