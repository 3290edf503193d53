"""Types, literals and signatures of the generated families in C++, Java, JavaScript and Rust.

Why a module of its own: a translated task (generated_languages.py) writes every test input and
expected value as a literal of the target language, in the shapes MultiPL-E's translations use
(so a model practising on them sees what it will be evaluated on): C++ `std::vector<long>({(long)1,
(long)2})`, `std::make_tuple(..)`, `std::map<std::string,long>({{"a", 1}})`; Java `long`,
`ArrayList<Long>`, javatuples' `Pair.with(..)`, `HashMap<String,Long>`; JavaScript arrays (tuples
too) and objects; Rust `isize`, `Vec`, tuples, `String::from(..)`, `HashMap::from([..])`.

A type is a string (`"int"`, `"bool"`, `"str"`) or a tuple headed by its kind: `("list", T)`,
`("tuple", A, B)`, `("dict", K, V)`. Floats are not here on purpose: the languages' equality is
exact, and the Python families with float results compare with a tolerance (skipped families are
listed in generated_languages.SKIPPED).
"""

from __future__ import annotations

import json
import re
from typing import Any

Type = Any  # str or tuple (module docstring)
INT, BOOL, STR = "int", "bool", "str"
INT_LIST, STR_LIST = ("list", INT), ("list", STR)
LANGUAGE_NAMES = {"cpp": "C++", "java": "Java", "js": "JavaScript", "rust": "Rust"}
MAX_INT = 2 ** 62  # every value must fit the narrowest integer type used (64-bit long / isize)


def fits(value: Any, kind: Type) -> bool:
    """True when a Python value is representable as `kind` in every target language."""
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_INT
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == STR:
        return isinstance(value, str) and all(" " <= char <= "~" for char in value)
    head = kind[0]
    if head == "list":
        return isinstance(value, list) and all(fits(item, kind[1]) for item in value)
    if head == "tuple":
        return isinstance(value, tuple) and len(value) == len(kind) - 1 and all(
            fits(item, part) for item, part in zip(value, kind[1:]))
    if head == "dict":
        return isinstance(value, dict) and all(fits(k, kind[1]) and fits(v, kind[2]) for k, v in value.items())
    raise ValueError(f"unknown type {kind!r}")


def type_name(kind: Type, language: str, boxed: bool = False) -> str:
    """The language's spelling of `kind` (Java: `boxed` for a type argument, `Long` not `long`)."""
    if language == "cpp":
        scalars = {INT: "long", BOOL: "bool", STR: "std::string"}
        generic = {"list": "std::vector<{}>", "tuple": "std::tuple<{}>", "dict": "std::map<{}>"}
        separator = {"list": ", ", "tuple": ", ", "dict": ","}
    elif language == "java":
        scalars = {INT: "Long" if boxed else "long", BOOL: "Boolean" if boxed else "boolean", STR: "String"}
        generic = {"list": "ArrayList<{}>", "tuple": "Pair<{}>", "dict": "HashMap<{}>"}
        separator = {"list": ", ", "tuple": ", ", "dict": ","}
    elif language == "rust":
        scalars = {INT: "isize", BOOL: "bool", STR: "String"}
        generic = {"list": "Vec<{}>", "tuple": "({})", "dict": "HashMap<{}>"}
        separator = {"list": ", ", "tuple": ", ", "dict": ", "}
    else:
        raise ValueError(f"no type names in {language!r}")
    if isinstance(kind, str):
        return scalars[kind]
    parts = separator[kind[0]].join(type_name(part, language, boxed=True) for part in kind[1:])
    return generic[kind[0]].format(parts)


def literal(value: Any, kind: Type, language: str, element: bool = False) -> str:
    """`value` written in `language` as MultiPL-E writes it (`element`: inside a container)."""
    if kind == BOOL:
        return "true" if value else "false"
    if kind == STR:
        text = json.dumps(value)  # printable ASCII (fits): the same escapes in all four languages
        return f"String::from({text})" if language == "rust" else text
    if kind == INT:
        if language == "java":
            return f"(long){value}l" if element else f"{value}l"
        return f"(long){value}" if language == "cpp" and element else str(value)
    head, parts = kind[0], kind[1:]
    if head == "list":
        items = [literal(item, parts[0], language, element=True) for item in value]
        return _sequence(items, kind, language)
    if head == "tuple":
        items = ", ".join(literal(item, part, language, element=True) for item, part in zip(value, parts))
        return {"cpp": f"std::make_tuple({items})", "java": f"Pair.with({items})", "js": f"[{items}]",
                "rust": f"({items})"}[language]
    pairs = [(literal(k, parts[0], language, True), literal(v, parts[1], language, True)) for k, v in value.items()]
    if language == "js":
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if language == "rust":
        return "HashMap::from([" + ", ".join(f"({k}, {v})" for k, v in pairs) + "])"
    name = type_name(kind, language)
    if language == "cpp":
        return f"{name}({{" + ", ".join(f"{{{k}, {v}}}" for k, v in pairs) + "})" if pairs else f"{name}()"
    return f"new {name}(Map.of(" + ", ".join(f"{k}, {v}" for k, v in pairs) + "))" if pairs else f"new {name}()"


def _sequence(items: list[str], kind: Type, language: str) -> str:
    joined = ", ".join(items)
    if language == "js":
        return f"[{joined}]"
    if language == "rust":  # an empty one typed, as MultiPL-E writes it: `vec![]` == Vec<String> is ambiguous
        return f"vec![{joined}]" if items else f"Vec::<{type_name(kind[1], language)}>::new()"
    name = type_name(kind, language)
    if language == "cpp":
        return f"{name}({{{joined}}})" if items else f"{name}()"
    return f"new {name}(Arrays.asList({joined}))"


def char_literal(text: str, language: str) -> str:
    """A one-character constant as a character literal (JavaScript has none: a string)."""
    assert len(text) == 1 and text.isprintable() and text not in "'\\", text
    return json.dumps(text) if language == "js" else f"'{text}'"


def java_name(name: str) -> str:
    """MultiPL-E's Java spelling of a Python name: lowerCamelCase (`keep_even` -> `keepEven`)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def signature(name: str, params: tuple[str, ...], types: tuple[Type, ...], result: Type, language: str) -> str:
    """The function's declaration as a prompt opens it (no body, no brace)."""
    if language == "js":
        return f"function {name}({', '.join(params)})"
    if language == "rust":
        args = ", ".join(f"{p}: {type_name(t, language)}" for p, t in zip(params, types))
        return f"fn {name}({args}) -> {type_name(result, language)}"
    args = ", ".join(f"{type_name(t, language)} {p}" for p, t in zip(params, types))
    head = "public static " if language == "java" else ""
    return f"{head}{type_name(result, language)} {name}({args})"


def test_statement(name: str, args: tuple, types: tuple[Type, ...], expected: Any, result: Type, language: str) -> str:
    """One test in MultiPL-E's assert shape (what codeself.execution.languages.split_assert splits)."""
    written = [literal(value, kind, language) for value, kind in zip(args, types)]
    want = literal(expected, result, language)
    if language == "cpp":
        return f"assert(candidate({', '.join(f'({a})' for a in written)}) == ({want}));"
    if language == "java":
        call = f"{name}({', '.join(f'({a})' for a in written)})"
        return f"assert({call} == ({want}));" if result in (INT, BOOL) else f"assert({call}.equals(({want})));"
    if language == "js":
        return f"assert.deepEqual(candidate({', '.join(written)}),{want});"
    return f"assert_eq!(candidate({', '.join(written)}), {want});"


# Python's words for its types -> the language's (MultiPL-E rewrites its prompts the same way).
_COMMON = ((r"\bTrue\b", "true"), (r"\bFalse\b", "false"))
TERMS = {
    "cpp": ((r"\ba dictionary\b", "a map"), (r"\bdictionary\b", "map"), (r"\blists\b", "vectors"),
            (r"\blist\b", "vector"), (r"\b2-tuples\b", "tuples"), (r"\b2-tuple\b", "tuple")),
    "java": ((r"\ba dictionary\b", "a hash map"), (r"\bdictionary\b", "hash map"), (r"\ba list\b", "an array list"),
             (r"\blists\b", "array lists"), (r"\blist\b", "array list"), (r"\b2-tuples\b", "pairs"),
             (r"\ba 2-tuple\b", "a pair"), (r"\ba tuple\b", "a pair"), (r"\btuples\b", "pairs"), (r"\btuple\b", "pair")),
    "js": ((r"\ba dictionary\b", "an object"), (r"\bdictionary\b", "object"), (r"\ba list\b", "an array"),
           (r"\blists\b", "arrays"), (r"\blist\b", "array"), (r"\b2-tuples\b", "two-element arrays"),
           (r"\ba 2-tuple\b", "a two-element array"), (r"\ba tuple\b", "an array"), (r"\btuples\b", "arrays"),
           (r"\btuple\b", "array")),
    "rust": ((r"\ba dictionary\b", "a HashMap"), (r"\bdictionary\b", "HashMap"), (r"\blists\b", "vectors"),
             (r"\blist\b", "vector"), (r"\b2-tuples\b", "tuples"), (r"\b2-tuple\b", "tuple")),
}


def in_idiom(text: str, language: str) -> str:
    """A Python task's description with the language's names for its types and constants."""
    for pattern, replacement in _COMMON + TERMS[language]:
        text = re.sub(pattern, replacement, text)
    return text
