"""Where functions, `main` and import lines are in C++, Java, JavaScript and Rust source.

The answer parser (codeself.parsing_languages) needs three facts about a candidate's code,
without a compiler: does it define the entry point (so the right fenced block is taken),
where is its own `main` (the harness owns the program's entry, and two `main`s do not link),
and which import lines of the prompt does it lack. Every search runs on the source with
comments and literals blanked (codeself.code_mask), so a `}` or `main(` inside a string or
comment never counts, and on cut-off or broken code nothing raises: a search finds nothing.

Definitions (`name` being the entry point), at the top level unless said:
- C++: `<type> name(...) [const|noexcept] [-> type] {`: a type-like token before the name
  (word, `>`, `*`, `&`), the parameter list, then the body.
- Java: a `static` method `name(...) [throws ...] {` in a class body (or at the top level,
  for an answer that is the method alone).
- JavaScript: `function name(`, or `const|let|var name = function / (...) => / x =>`.
- Rust: `fn name(` or `fn name<...>(`.
"""

from __future__ import annotations

import re

from codeself.code_mask import depth_at, mask, matching_close

STRUCTURE_LANGUAGES = ("cpp", "java", "js", "rust")
_MAIN = {"cpp": r"\b(?:int|signed|auto|void)\s+main\s*\(", "java": r"\bstatic\s+void\s+main\s*\(",
         "rust": r"\bfn\s+main\s*\("}
_HEADER_LINE = {"cpp": r"[ \t]*#[ \t]*include\b[^\n]*", "java": r"[ \t]*import\s+[\w.*\s]+;[ \t]*",
                "rust": r"[ \t]*(?:pub\s+)?use\s+[^;\n]+;[ \t]*"}
_MODIFIERS = re.compile(r"[ \t]*(?:(?:public|private|protected|final|static|inline|pub|#\[[^\]\n]*\])\s+)*")
_JAVA_TYPE_DECLARATION = re.compile(r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)")


def definition_sites(code: str, language: str, entry_point: str) -> list[int]:
    """Offsets in `code` where the entry point is defined (see the module doc), in order."""
    masked = mask(code, language)
    name = re.escape(entry_point)
    if language == "rust":
        return [m.start() for m in re.finditer(rf"\bfn\s+{name}\s*[<(]", masked) if depth_at(masked, m.start()) == 0]
    if language == "js":
        pattern = (rf"\bfunction\b\s*\*?\s*{name}\s*\(|\b(?:const|let|var)\s+{name}\s*=\s*"
                   rf"(?:async\b\s*)?(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>)")
        return [m.start() for m in re.finditer(pattern, masked) if depth_at(masked, m.start()) == 0]
    if language not in ("cpp", "java"):
        raise ValueError(f"no definition rules for language {language!r}")
    sites = []
    for match in re.finditer(rf"(?<![\w$]){name}\s*\(", masked):
        start = match.start()
        allowed = (0,) if language == "cpp" else (0, 1)
        if depth_at(masked, start) in allowed and _is_function_header(masked, start, match.end() - 1, language):
            sites.append(start)
    return sites


def _is_function_header(masked: str, name_at: int, paren_at: int, language: str) -> bool:
    """A declaration (type before the name, or `static` for Java) followed by its body."""
    before = masked[max(0, name_at - 300):name_at]
    statement = re.split(r"[;{}]", before)[-1]
    stripped = statement.rstrip()
    if not stripped or stripped.endswith((".", "->")) or not re.search(r"[\w>*&\]]$", stripped):
        return False
    if language == "java" and not re.search(r"\bstatic\b", statement):
        return False
    if re.search(r"(?:^|[^=!<>])=(?!=)|\breturn\b", statement):
        return False  # `x = name(...)`, `return name(...)`: a call
    close = matching_close(masked, paren_at)
    if close is None:
        return False
    tail = r"\s*(?:(?:const|noexcept|override|final)\b\s*)*(?:->\s*[^{;]+)?\{" if language == "cpp" \
        else r"\s*(?:throws\s+[\w.,\s]+)?\{"
    return re.match(tail, masked[close + 1:close + 400]) is not None


def defines(code: str, language: str, entry_point: str) -> bool:
    """True when `code` defines `entry_point` (module doc rules)."""
    return bool(definition_sites(code, language, entry_point))


def java_class_of(code: str, offset: int) -> str | None:
    """Name of the outermost class (or interface, enum, record) whose body holds `offset`."""
    masked = mask(code, "java")
    for match in _JAVA_TYPE_DECLARATION.finditer(masked):
        if depth_at(masked, match.start()) != 0:
            continue
        opening = masked.find("{", match.end())
        close = matching_close(masked, opening) if opening >= 0 else None
        if opening >= 0 and opening < offset and (close is None or offset < close):
            return match.group(1)
    return None


def has_type_declaration(code: str) -> bool:
    """True when Java `code` declares a class, interface, enum or record."""
    return _JAVA_TYPE_DECLARATION.search(mask(code, "java")) is not None


def remove_main(code: str, language: str) -> tuple[str, int]:
    """(`code` without its `main` functions, how many were removed); JavaScript has none.

    C++ and Rust: a top-level `int main(...) {...}` / `fn main() {...}`; Java: a `static void
    main(...)` method in any class. The line's modifiers (`public`, `#[...]`) and the newline
    after the closing brace go too; a `main` whose body never closes stays.
    """
    if language not in _MAIN:
        return code, 0
    removed = 0
    while True:
        span = _main_span(code, language)
        if span is None:
            return code, removed
        code = code[:span[0]] + code[span[1]:]
        removed += 1


def _main_span(code: str, language: str) -> tuple[int, int] | None:
    masked = mask(code, language)
    for match in re.finditer(_MAIN[language], masked):
        in_class = depth_at(masked, match.start()) > 0
        if in_class != (language == "java"):  # Java: a method; C++ and Rust: a top-level function
            continue
        close = matching_close(masked, match.end() - 1)
        body = None if close is None else re.match(r"\s*(?:throws\s+[\w.,\s]+)?(?:->\s*[^{;]+)?\{",
                                                    masked[close + 1:])
        end = matching_close(masked, close + body.end()) if body else None
        if end is None:
            continue
        line_start = masked.rfind("\n", 0, match.start()) + 1
        modifiers = _MODIFIERS.match(masked, line_start)
        start = line_start if modifiers and modifiers.end() >= match.start() else match.start()
        end += 1
        if masked.startswith("\n", end):
            end += 1
        return start, end
    return None


def header_lines(prompt: str, language: str) -> list[str]:
    """The prompt's include / import / use lines, in order (JavaScript prompts have none)."""
    if language not in _HEADER_LINE:
        return []
    return [m.group(0).strip() for m in re.finditer(rf"^{_HEADER_LINE[language]}$", prompt, re.MULTILINE)]


def missing_header_lines(code: str, prompt: str, language: str) -> list[str]:
    """Header lines of `prompt` that `code` lacks (compared with whitespace removed). A Rust
    `use` is not missing when a `use` of `code` already imports its last name: importing a name
    twice does not compile there."""
    present = {re.sub(r"\s+", "", line) for line in header_lines(code, language)}
    missing = []
    for line in header_lines(prompt, language):
        if re.sub(r"\s+", "", line) in present:
            continue
        if language == "rust":
            last = re.findall(r"\w+", line)[-1]
            if re.search(rf"^\s*(?:pub\s+)?use\b[^;]*\b{re.escape(last)}\b", code, re.MULTILINE):
                continue
        missing.append(line)
    return missing
