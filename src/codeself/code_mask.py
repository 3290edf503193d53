"""Blank out the comments and literals of C++, Java, JavaScript and Rust source.

Why: finding where a function begins and ends in a model's answer needs its braces, and a
brace, quote or `//` inside a string or comment (`"}"`, `// don't`) must not count. `mask`
returns the source with the inside of every comment and literal replaced by spaces, same
length and same newlines, so that positions in the mask are positions in the source and
plain regular expressions and brace counting on the mask see only code.

A model's answer may be cut off or wrong: an unterminated literal or comment masks to the
end of the text, and nothing here raises. Handled: `//` and `/* */` comments (nested in
Rust), `"..."` with backslash escapes, character literals (`'a'`, `'\\n'`; a Rust lifetime
`'a` is code), C++ raw strings `R"x(...)x"`, Rust raw strings `r#"..."#` (and `b`/`br`
prefixes), Java text blocks `\"\"\"...\"\"\"`, JavaScript `'...'`, template literals and
regular-expression literals (`/[}"]/g` after an operator or `(`, not after a value).

    >>> mask('f("}") // }\\n', "cpp")
    'f(" ") //  \\n'
"""

from __future__ import annotations

import functools
import re

MASK_LANGUAGES = ("cpp", "java", "js", "rust")
OPENERS = "([{"
CLOSERS = ")]}"
# After one of these (or at the start) a JavaScript `/` starts a regular expression, not a division.
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_AFTER_WORDS = ("return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield")
_CPP_RAW = re.compile(r'(?:u8|[uUL])?R"([^()\\\s]{0,16})\(')
_RUST_RAW = re.compile(r'b?r(#*)"')
# Where a comment or literal may start (everything else is code, skipped in one search).
_STARTS = {"cpp": re.compile("[/\"']|(?:u8|[uUL])?R\""), "java": re.compile("[/\"']"),
           "js": re.compile("[/\"'`]"), "rust": re.compile("[/\"']|b?r#*\"")}


def mask(source: str, language: str, *, multiline_strings: bool = False) -> str:
    """`source` with comment and literal contents blanked (delimiters kept); see the module doc.

    A `"` or `'` string that reaches the end of its line ends there (broken code stays local)
    unless the language lets it span lines (Rust) or `multiline_strings` is set: MultiPL-E's
    own tests hold such a literal (HumanEval_51 in JavaScript), and they are read as written.
    """
    if language not in MASK_LANGUAGES:
        raise ValueError(f"no source mask for language {language!r}; choose one of {', '.join(MASK_LANGUAGES)}")
    return _mask(source, language, multiline_strings)


@functools.lru_cache(maxsize=64)  # the parser asks several questions of the same block
def _mask(source: str, language: str, multiline_strings: bool) -> str:
    pieces, done, i, n = [], 0, 0, len(source)
    starts = _STARTS[language]
    while i < n:
        candidate = starts.search(source, i)
        if candidate is None:
            break
        i = candidate.start()
        found = _literal_at(source, i, language, multiline_strings)
        if found is None:
            i += 1
            continue
        first, last, resume = found
        last = min(last, n)
        pieces += [source[done:first], re.sub(r"[^\n]", " ", source[first:last])]
        done = last
        i = max(resume, i + 1)
    pieces.append(source[done:])
    return "".join(pieces)


def _literal_at(text: str, i: int, language: str, multiline: bool) -> tuple[int, int, int] | None:
    """(first blanked index, index past the last blanked one, index to go on from) for a comment
    or literal starting at text[i]; None when none starts there."""
    ch, n = text[i], len(text)
    if text.startswith("//", i):
        end = text.find("\n", i)
        end = n if end < 0 else end
        return i + 2, end, end
    if text.startswith("/*", i):
        end = _block_comment_end(text, i, nested=language == "rust")
        return i + 2, end, end + 2
    raw = _raw_string(text, i, language)
    if raw is not None:
        return raw
    if language == "java" and text.startswith('"""', i):
        return _delimited(text, i + 3, '"""')
    if ch == '"' or (language == "js" and ch in "'`"):
        end = _quoted_end(text, i + 1, ch, spans_lines=multiline or ch == "`" or language == "rust")
        return i + 1, end, end + 1
    if ch == "'" and language != "js":
        return _char_literal(text, i, language)
    if language == "js" and ch == "/" and _regex_allowed(text, i):
        end = _regex_end(text, i + 1)
        return i + 1, end, end + 1
    return None


def _raw_string(text: str, i: int, language: str) -> tuple[int, int, int] | None:
    """C++ `R"x(...)x"` or Rust `r#"..."#` starting at text[i]."""
    pattern = _CPP_RAW if language == "cpp" else _RUST_RAW if language == "rust" else None
    if pattern is None or text[i] not in "RuUL8br" or _word_before(text, i):
        return None
    match = pattern.match(text, i)
    if match is None:
        return None
    closing = ")" + match.group(1) + '"' if language == "cpp" else '"' + match.group(1)
    return _delimited(text, match.end(), closing)


def _delimited(text: str, start: int, closing: str) -> tuple[int, int, int]:
    end = text.find(closing, start)
    end = len(text) if end < 0 else end
    return start, end, end + len(closing)


def _word_before(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


def _block_comment_end(text: str, i: int, *, nested: bool) -> int:
    depth, j = 1, i + 2
    while j < len(text):
        if nested and text.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j - 2
        else:
            j += 1
    return len(text)


def _quoted_end(text: str, j: int, quote: str, *, spans_lines: bool) -> int:
    """Index of the closing `quote`; a literal that may not span lines also ends (unclosed) at
    a newline, so one stray quote in broken code does not blank the rest of the answer."""
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == quote or (ch == "\n" and not spans_lines):
            return j
        j += 1
    return len(text)


def _char_literal(text: str, i: int, language: str) -> tuple[int, int, int] | None:
    """A character literal at text[i]; None for a Rust lifetime or label, a C++14 digit separator
    or a stray quote."""
    if language == "cpp" and i > 0 and text[i - 1].isalnum() and i + 1 < len(text) and text[i + 1].isalnum():
        return None  # 1'000'000
    if text.startswith("\\", i + 1):
        end = text.find("'", i + 3)
        newline = text.find("\n", i)
        if end < 0 or 0 <= newline < end:
            return None
        return i + 1, end, end + 1
    if i + 2 < len(text) and text[i + 2] == "'" and text[i + 1] != "\n":
        return i + 1, i + 2, i + 3
    return None


def _regex_allowed(text: str, i: int) -> bool:
    if text.startswith("/*", i) or text.startswith("//", i):
        return False
    j = i - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    if j < 0 or text[j] in _REGEX_AFTER:
        return True
    word = re.search(r"[A-Za-z_$][\w$]*$", text[: j + 1])
    return bool(word) and word.group(0) in _REGEX_AFTER_WORDS


def _regex_end(text: str, j: int) -> int:
    in_class = False
    while j < len(text) and text[j] != "\n":
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            return j
        j += 1
    return j


def matching_close(masked: str, i: int) -> int | None:
    """Index of the bracket closing the one at masked[i], or None when the text ends first
    or a bracket of another kind closes it."""
    stack = []
    for j in range(i, len(masked)):
        ch = masked[j]
        if ch in OPENERS:
            stack.append(ch)
        elif ch in CLOSERS:
            if not stack or OPENERS[CLOSERS.index(ch)] != stack.pop():
                return None
            if not stack:
                return j
    return None


def depth_at(masked: str, position: int) -> int:
    """Brace depth (`{}` only) just before masked[position]: opened minus closed, at least 0."""
    return max(0, masked.count("{", 0, position) - masked.count("}", 0, position))


def balanced(masked: str) -> bool:
    """True when every bracket of `masked` is closed by one of its kind, in order."""
    stack = []
    for ch in masked:
        if ch in OPENERS:
            stack.append(ch)
        elif ch in CLOSERS and (not stack or OPENERS[CLOSERS.index(ch)] != stack.pop()):
            return False
    return not stack
