"""Turn a model's answer to a C++, Java, JavaScript or Rust task into the candidate's source.

The Python rules live in codeself.parsing; `parse_for_task` picks by `Task.language`. Results
use the same `ParseResult` and `parse_status` vocabulary (`ok`, `multiple_blocks`,
`truncated`, `syntax_error`, `no_code`); without a compiler at hand, "well formed" means that
the brackets balance once comments and literals are blanked (codeself.code_mask), and the
compiler has the last word in the sandbox.

The candidate's source is one compilation unit that defines the entry point and has no
`main` of its own: the harness supplies the program's entry. Answers come in two forms:

- **Continuation** (MultiPL-E, base models): the completion continues the task's prompt
  (`starter_code`: includes, doc comment, signature up to the body). It is cut at the first
  of the task's stop tokens (`metadata.multipl_e.stop_tokens`, else the language's
  MultiPL-E defaults `STOP_TOKENS`), and the candidate is `prompt + completion + "\\n" +
  CLOSING[language]`: exactly the part of MultiPL-E's program `prompt + completion + "\\n"
  + tests` before its tests, with the braces the tests would have closed (`}` for C++ and
  Rust; the method's `    }` and `class Problem`'s `}` for Java; nothing for JavaScript,
  whose completions close their own function).
- **Whole function** (chat models, like the files' `gpt_solution`): fenced blocks. The
  candidates are the blocks tagged with the language (`LANGUAGE_TAGS`), else the untagged
  ones; the last that defines the entry point is taken (else the last, detail "none
  defines"), as in Python's rule 2 (a later "example usage" block loses to the definition).
  An unclosed fence (the answer was cut before its closing fence) is `truncated`.

`mode="auto"` reads fences first; with no fence, a text that defines the entry point is a
whole-function answer (leading and trailing prose lines, which hold no code character,
dropped), a text with code characters is a continuation, anything else `no_code`.
`mode="continuation"` is always a continuation (the MultiPL-E way); `mode="program"` takes the
completion as the whole source.

A whole-function answer (fenced, unfenced or `program`) is then finished: its own `main`
functions are removed (C++/Rust top level, Java `static void main` methods), a Java answer
that is only methods is wrapped in the prompt's class (`class Problem { ... }`), and the
prompt's include / import / use lines the answer lacks are put first (a Rust `use` only when
no `use` of the answer imports that name). The detail says each of these. A detail ending
`; no def <entry_point>` flags code that does not define the entry point; for Java,
`; <entry_point> is in class X, not Problem` flags a definition the tests cannot call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from codeself import code_structure
from codeself.code_mask import balanced, mask
from codeself.parsing import (BlockRules, ParseResult, choose_block, find_fenced_blocks, parse_completion,
                              strip_chat_noise)

LANGUAGE_PARSE_MODES = ("auto", "continuation", "program")
LANGUAGE_TAGS = {
    "cpp": ("cpp", "c++", "cxx", "cc", "c", "hpp", "h"),
    "java": ("java",),
    "js": ("js", "javascript", "node", "nodejs", "mjs", "cjs", "jsx"),
    "rust": ("rust", "rs"),
}
# MultiPL-E's stop tokens per language (the same in every task of its files).
STOP_TOKENS = {"cpp": ("\n}",), "java": ("\n    }\n",), "js": ("\nfunction ", "\n/*", "\n//", "\nconsole.log"),
               "rust": ("\n}",)}
CLOSING = {"cpp": "}\n", "java": "    }\n}\n", "js": "", "rust": "}\n"}
_CODE_CHARACTERS = re.compile(r"[;{}()=#\[\]]")


def _rules(language: str) -> BlockRules:
    return BlockRules(LANGUAGE_TAGS[language], lambda code, name: code_structure.defines(code, language, name),
                      lambda code: well_formed(code, language), good="balances its brackets",
                      bad="does not balance its brackets")


def well_formed(code: str, language: str) -> bool:
    """True when every bracket of `code` outside comments and literals is closed in order."""
    return balanced(mask(code, language))


def cut_at_stop_tokens(completion: str, stop_tokens: Sequence[str]) -> str:
    """`completion` up to the earliest occurrence of any stop token (MultiPL-E's cut).

    >>> cut_at_stop_tokens("  return 1;\\n}\\nint main() {}", ["\\n}"])
    '  return 1;'
    """
    cuts = [completion.find(token) for token in stop_tokens if token and token in completion]
    return completion[:min(cuts)] if cuts else completion


def parse_language_completion(completion: str, language: str, entry_point: str, prompt: str, *,
                              stop_tokens: Sequence[str] | None = None, mode: str = "auto") -> ParseResult:
    """The candidate's source from one answer; see the module docstring for the rules.

    `prompt` is the code a continuation completes (the task's `starter_code`).
    """
    if language not in LANGUAGE_TAGS:
        raise ValueError(f"no answer parser for language {language!r}; choose one of {', '.join(LANGUAGE_TAGS)}")
    if mode not in LANGUAGE_PARSE_MODES:
        raise ValueError(f"unknown parse mode {mode!r}; choose one of {', '.join(LANGUAGE_PARSE_MODES)}")
    stops = STOP_TOKENS[language] if stop_tokens is None else tuple(stop_tokens)
    if mode == "continuation":
        result = _continuation(completion, language, prompt, stops)
    elif mode == "program":
        result = _finished(ParseResult(completion, "ok", "completion as the whole source"), language, prompt,
                           entry_point) if completion.strip() else ParseResult(None, "no_code", "empty completion")
    else:
        result = _parse_auto(completion, language, entry_point, prompt, stops)
    return _flag_definition(result, language, entry_point, prompt)


def _parse_auto(completion: str, language: str, entry_point: str, prompt: str,
                stops: Sequence[str]) -> ParseResult:
    text = strip_chat_noise(completion)
    if not text.strip():
        return ParseResult(None, "no_code", "empty completion")
    blocks = find_fenced_blocks(text)
    chosen = choose_block(blocks, entry_point, _rules(language))
    if chosen is not None:
        return _finished(chosen, language, prompt, entry_point)
    if blocks:
        tags = ", ".join(sorted({block.tag or "untagged" for block in blocks}))
        return ParseResult(None, "no_code", f"only fenced blocks of other languages ({tags})")
    if code_structure.defines(text, language, entry_point):
        code, dropped = _without_prose(text)
        detail = "unfenced whole function" + (f"; dropped {dropped} prose line(s)" if dropped else "")
        return _finished(_checked(code, language, detail), language, prompt, entry_point)
    if _CODE_CHARACTERS.search(cut_at_stop_tokens(text, stops)) is None:
        return ParseResult(None, "no_code", "no fenced block, no definition and no code characters")
    return _continuation(text, language, prompt, stops)


def _continuation(completion: str, language: str, prompt: str, stops: Sequence[str]) -> ParseResult:
    if not completion.strip():
        return ParseResult(None, "no_code", "empty completion")
    body = cut_at_stop_tokens(completion, stops)
    cut = " (cut at a stop token)" if len(body) < len(completion) else ""
    code = prompt + body + "\n" + CLOSING[language]
    return _checked(code, language, f"prompt + completion{cut} + closing")


def _checked(code: str, language: str, detail: str) -> ParseResult:
    if well_formed(code, language):
        return ParseResult(code, "ok", detail)
    return ParseResult(code, "syntax_error", f"{detail}; does not balance its brackets")


def _without_prose(text: str) -> tuple[str, int]:
    """`text` without its leading and trailing lines that hold no code character."""
    lines = text.strip("\n").split("\n")
    start, end = 0, len(lines)
    while start < end and not _CODE_CHARACTERS.search(lines[start]) and not lines[start].lstrip().startswith("//"):
        start += 1
    while end > start and not _CODE_CHARACTERS.search(lines[end - 1]):
        end -= 1
    dropped = sum(1 for line in lines[:start] + lines[end:] if line.strip())
    return "\n".join(lines[start:end]) + "\n", dropped


def _finished(result: ParseResult, language: str, prompt: str, entry_point: str) -> ParseResult:
    """A whole-function answer made a candidate: no `main`, in the prompt's class, with the
    prompt's header lines (module docstring)."""
    if result.code is None:
        return result
    code, notes = result.code, []
    if entry_point != "main":
        code, removed = code_structure.remove_main(code, language)
        if removed:
            notes.append("its main removed" if removed == 1 else f"its {removed} main functions removed")
    if language == "java" and not code_structure.has_type_declaration(code):
        class_name = _prompt_class(prompt)
        code = _wrap_in_class(code, class_name)
        notes.append(f"wrapped in class {class_name}")
    missing = code_structure.missing_header_lines(code, prompt, language)
    if missing:
        code = _with_header(code, missing, language)
        notes.append(f"{len(missing)} header line(s) of the prompt added")
    detail = "; ".join([result.detail] + notes)
    return ParseResult(code, result.parse_status, detail)


def _prompt_class(prompt: str) -> str:
    found = re.search(r"\bclass\s+([A-Za-z_$][\w$]*)", mask(prompt, "java"))
    return found.group(1) if found else "Problem"


def _wrap_in_class(code: str, class_name: str) -> str:
    """Java methods alone, in `class <class_name>`; the answer's own import lines stay first."""
    lines = code.strip("\n").split("\n")
    first = 0
    while first < len(lines) and re.match(r"\s*(?:(?:import|package)\b|$)", lines[first]):
        first += 1
    head, body = "".join(line + "\n" for line in lines[:first]), "\n".join(lines[first:])
    return f"{head}class {class_name} {{\n{body}\n}}\n"


def _with_header(code: str, lines: list[str], language: str) -> str:
    header = "".join(line + "\n" for line in lines)
    if language == "java":
        package = re.match(r"\s*package\s+[\w.]+\s*;[^\n]*\n?", code)
        if package:
            return code[:package.end()] + header + code[package.end():]
    return header + code


def _flag_definition(result: ParseResult, language: str, entry_point: str, prompt: str) -> ParseResult:
    if result.code is None:
        return result
    sites = code_structure.definition_sites(result.code, language, entry_point)
    if not sites:
        return ParseResult(result.code, result.parse_status, f"{result.detail}; no def {entry_point}")
    if language == "java":
        holder, wanted = code_structure.java_class_of(result.code, sites[-1]), _prompt_class(prompt)
        if holder is not None and holder != wanted:
            return ParseResult(result.code, result.parse_status,
                               f"{result.detail}; {entry_point} is in class {holder}, not {wanted}")
    return result


def parse_for_task(task, completion: str, *, mode: str = "auto") -> ParseResult:
    """Parse an answer to `task` (a Task) by its language: codeself.parsing for Python, the
    rules above for the others, with the task's own stop tokens when it has them."""
    if task.language == "python":
        return parse_completion(completion, task.starter_code, task.entry_point, mode=mode)
    stops = ((task.metadata or {}).get("multipl_e") or {}).get("stop_tokens")
    return parse_language_completion(completion, task.language, task.entry_point, task.starter_code,
                                     stop_tokens=stops, mode=mode)


SAMPLE_KEYS = ("solution", "code", "completion")  # the first holding a string is the answer


def parse_sample(task, sample: dict, *, mode: str = "auto") -> ParseResult:
    """The candidate's source for one sample record of a C++, Java, JavaScript or Rust task:
    `solution` or `code` is the whole source (mode `program`: its own `main` removed, the
    prompt's header lines added), `completion` is an answer read by `mode` (`auto`: a fenced or
    whole-function answer, else a continuation of the prompt cut at the task's stop tokens).
    The first of those keys holding a string wins, as for Python samples."""
    for key in SAMPLE_KEYS:
        value = sample.get(key)
        if isinstance(value, str):
            return parse_for_task(task, value, mode=mode if key == "completion" else "program")
    raise ValueError(f"sample has none of {', '.join(repr(key) for key in SAMPLE_KEYS)} as a string")


def parse_samples(samples: Iterable[dict], index, *, mode: str = "auto") -> Iterator[tuple[Any, ParseResult]]:
    """(task, parsed answer) for each sample, in input order.

    A sample is `{"task_id": canonical id or the dataset's own (MultiPL-E's
    "HumanEval_0_has_close_elements"), "completion": text}`, optionally with `language`
    (MultiPL-E's codes accepted: "rs"), which picks among tasks sharing an original id.
    `index` is a codeself.datasets.task_ids.TaskIndex; ValueError (one line) for an unknown
    or ambiguous id or a sample without a string `completion`.
    """
    for sample in samples:
        task = index.tasks[index.resolve(sample.get("task_id"), sample.get("language"))]
        completion = sample.get("completion")
        if not isinstance(completion, str):
            raise ValueError(f"sample for {task.task_id} has no string 'completion'")
        yield task, parse_for_task(task, completion, mode=mode)
