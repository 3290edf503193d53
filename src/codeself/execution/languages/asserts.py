"""Split one MultiPL-E assert statement into the candidate call and the expected value.

Why: the judge must never put the expected value into the candidate's process. The assert as
MultiPL-E wrote it (`assert_eq!(candidate(vec![1]), vec![2]);`) is split here into its call
(`candidate(vec![1])`), its argument text, its expected-value expression and the equality
rule the original statement applied, so that the harness runs only the call and trusted code
evaluates the expected value apart.

The shapes, one per language (every assert of the MultiPL-E files has one of them):
  cpp   assert(candidate(ARGS) == EXPECTED);
  java  assert(NAME(ARGS) == EXPECTED);   assert(NAME(ARGS).equals(EXPECTED));
  js    assert.deepEqual(candidate(ARGS),EXPECTED);
  rust  assert_eq!(candidate(ARGS), EXPECTED);
where NAME is the entry point (Java calls the method directly; the others through a
`candidate` alias of it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from codeself.execution.languages.lexer import matching_close, statements

LANGUAGES = ("cpp", "java", "js", "rust")

# The equality each original statement applied (how the parent must compare):
EQUALITY_RULES = (
    "cpp_eq",  # C++ operator== between the returned value and EXPECTED
    "java_eq",  # Java ==: primitive (unboxed) comparison
    "java_equals",  # Java result.equals(EXPECTED)
    "js_deep_equal",  # node:assert deepEqual (loose deep equality)
    "rust_eq",  # assert_eq!: PartialEq
)

_OPENERS = {
    "cpp": ("assert(", "cpp_eq"),
    "java": ("assert(", None),
    "js": ("assert.deepEqual(", "js_deep_equal"),
    "rust": ("assert_eq!(", "rust_eq"),
}


@dataclass(frozen=True)
class SplitAssert:
    """One assert, split. `call` is `callee(args)` exactly as written."""

    callee: str  # "candidate", or the entry point for Java
    args: str  # the text between the call's parentheses, stripped
    expected: str  # the expected-value expression, stripped, outer parentheses kept as written
    equality: str  # one of EQUALITY_RULES

    @property
    def call(self) -> str:
        return f"{self.callee}({self.args})"

    def to_json(self) -> dict[str, Any]:
        return {"callee": self.callee, "args": self.args, "expected": self.expected,
                "equality": self.equality}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "SplitAssert":
        return cls(**record)


def _fail(source: str, why: str) -> ValueError:
    shown = source if len(source) <= 80 else source[:77] + "..."
    return ValueError(f"cannot split assert {shown!r}: {why}")


def split_assert(language: str, source: str, entry_point: str) -> SplitAssert:
    """Split one assert statement; ValueError (one line, says why) when it has no known shape.

    >>> split_assert("rust", "assert_eq!(candidate(vec![1, 2]), vec![2, 1]);", "rev").expected
    'vec![2, 1]'
    """
    if language not in _OPENERS:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    text = source.strip()
    opener, rule = _OPENERS[language]
    if not text.startswith(opener) or not text.endswith(";"):
        raise _fail(text, f"expected {opener}...);")
    outer_open = len(opener) - 1
    try:
        outer_close = matching_close(text, outer_open, language)
    except ValueError as exc:
        raise _fail(text, str(exc)) from None
    if text[outer_close + 1 :].strip() != ";":
        raise _fail(text, "text after the assert's closing parenthesis")
    inner = text[outer_open + 1 : outer_close]
    callee = entry_point if language == "java" else "candidate"
    return _split_inner(language, text, inner, callee, rule)


def _split_inner(language: str, text: str, inner: str, callee: str, rule: str | None) -> SplitAssert:
    lead = re.match(r"\s*" + re.escape(callee) + r"\s*\(", inner)
    if lead is None:
        raise _fail(text, f"the assert does not start with a call to {callee}")
    call_open = lead.end() - 1
    try:
        call_close = matching_close(inner, call_open, language)
    except ValueError as exc:
        raise _fail(text, str(exc)) from None
    args = inner[call_open + 1 : call_close].strip()
    rest = inner[call_close + 1 :]
    if language in ("js", "rust"):
        head = re.match(r"\s*,", rest)
    elif language == "cpp":
        head = re.match(r"\s*==", rest)
    else:
        head = re.match(r"\s*==", rest)
        rule = "java_eq"
        if head is None:
            head, rule = re.match(r"\s*\.equals\s*(?=\()", rest), "java_equals"
    if head is None:
        raise _fail(text, "no comparison right after the call")
    expected = rest[head.end() :].strip()
    if rule == "java_equals":
        try:
            if matching_close(expected, 0, language) != len(expected) - 1:
                raise _fail(text, "text after .equals(...)")
        except ValueError as exc:
            raise _fail(text, str(exc)) from None
        expected = expected[1:-1].strip()
    if not expected:
        raise _fail(text, "no expected value")
    assert rule is not None
    return SplitAssert(callee=callee, args=args, expected=expected, equality=rule)


def assert_statements(language: str, tests: str) -> list[str]:
    """The assert statements of a MultiPL-E `tests` field, in order, each exactly as written.

    A statement counts when it begins with the language's assert opener (see the module doc).
    """
    if language not in _OPENERS:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    prefix = _OPENERS[language][0].rstrip("(")
    return [s for s in statements(tests, language) if re.match(re.escape(prefix) + r"\s*\(", s)]
