"""Prompt templates: data files that turn the public view of a task into model input.

Templates live in `configs/prompts/<name>.toml` so prompt changes are reviewed as data and
recorded by name and hash in every rollout. Two safety properties are enforced in code:

* `render_prompt` accepts only a `PublicTask` (exact type; a `Task` raises TypeError), so the
  values a template can reach contain no hidden tests or reference solution at all;
* a template may reference only the fields in `TEMPLATE_FIELDS` (plus `<field>_section`, see
  below); any other placeholder — `{hidden_tests}`, `{reference_solution}`, `{task.x}`,
  `{0}` — raises ValueError when the template is loaded, not when a prompt is rendered.

TOML layout:

    name = "chat_default"           # must equal the file stem
    kind = "chat"                   # "chat" (system + user messages) or "completion" (one string)
    system = "..."                  # chat only; may be ""
    user = "..."                    # chat only
    text = "..."                    # completion only
    stop = ["..."]                  # optional stop sequences for backends that support them
    [sections]                      # optional: text included only when its field is non-empty
    public_tests = "Tests:\\n{public_tests}\\n"   # referenced as {public_tests_section}

Field values: `{prompt}`, `{starter_code}`, `{entry_point}` as in the task; `{public_tests}`
is the public test snippets joined by newlines. Literal braces are written `{{` and `}}`.

Languages: a template says which task languages it asks for (`languages = ["cpp", "java",
"js", "rust"]`; default `["python"]`, so every template written before languages keeps its
hash), and `render_prompt` refuses a task in any other language in one line: a C++ task put to a
Python prompt would be asked for the wrong language. `{language}` (the language's name, e.g.
`C++`) and `{language_tag}` (its fence tag, e.g. `cpp`) let one template ask for the task's own
language. `task_stop = true` (completion templates) adds the task's own stop strings
(`metadata.multipl_e.stop_tokens`, where MultiPL-E ends a continuation) to `stop` for that
task's requests. Answers are parsed by the task's language (codeself.parsing_languages).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import string
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeself.datasets.task import DEFAULT_LANGUAGE, LANGUAGES, PublicTask
from codeself.jsonl import require_regular_file

TEMPLATE_FIELDS = ("prompt", "starter_code", "public_tests", "entry_point")
LANGUAGE_FIELDS = ("language", "language_tag")  # placeholders naming the task's language
LANGUAGE_NAMES = {"python": "Python", "cpp": "C++", "java": "Java", "js": "JavaScript", "rust": "Rust"}
LANGUAGE_TAGS = {"python": "python", "cpp": "cpp", "java": "java", "js": "javascript", "rust": "rust"}
TEMPLATE_KINDS = ("chat", "completion")
PROMPTS_DIR = Path(__file__).resolve().parents[3] / "configs" / "prompts"
_TEXT_KEYS = {"chat": ("system", "user"), "completion": ("text",)}
_ALLOWED_KEYS = {"name", "kind", "description", "system", "user", "text", "stop", "sections", "languages",
                 "task_stop"}

Prompt = str | list[dict[str, str]]


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    kind: str  # one of TEMPLATE_KINDS
    texts: dict[str, str]  # "system"/"user" for chat, "text" for completion
    sections: dict[str, str] = field(default_factory=dict)  # field name -> conditional text
    stop: tuple[str, ...] = ()
    description: str = ""
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)  # the task languages it asks for
    task_stop: bool = False  # add each task's own stop strings (metadata.multipl_e.stop_tokens)

    def to_json(self) -> dict[str, Any]:
        record = {"name": self.name, "kind": self.kind, "texts": dict(self.texts),
                  "sections": dict(self.sections), "stop": list(self.stop),
                  "description": self.description}
        # only when set: templates from before languages keep their hash (and runs their config_hash)
        if self.languages != (DEFAULT_LANGUAGE,):
            record["languages"] = list(self.languages)
        if self.task_stop:
            record["task_stop"] = True
        return record

    def stop_for(self, task: Any) -> tuple[str, ...]:
        """The stop strings of a request for `task` (a Task: the task's own come from its metadata)."""
        if not self.task_stop:
            return self.stop
        own = ((getattr(task, "metadata", None) or {}).get("multipl_e") or {}).get("stop_tokens") or ()
        return tuple(dict.fromkeys(self.stop + tuple(own)))

    def sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.to_json()).encode("utf-8")).hexdigest()


def canonical_json(obj: Any) -> str:
    """The hashing form of a config: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def config_hash(template: PromptTemplate, backend_config: dict[str, Any]) -> str:
    """sha256 of the template and the backend's output-affecting settings (no secrets)."""
    payload = {"template": template.to_json(), "backend": backend_config}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def template_path(name_or_path: str) -> Path:
    """A bundled template name (`chat_default`) or a path to a `.toml` file."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return Path(name_or_path)
    return PROMPTS_DIR / f"{name_or_path}.toml"


def available_templates() -> list[str]:
    return sorted(path.stem for path in PROMPTS_DIR.glob("*.toml"))


def unescape_stop(text: str) -> str:
    """A stop string as typed on a command line: `\\n` is a newline, `\\t` a tab, `\\\\` a backslash."""
    escapes = {"n": "\n", "t": "\t", "\\": "\\"}
    out, index = [], 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in escapes:
            out.append(escapes[text[index + 1]])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def with_stop_strings(template: PromptTemplate, extra: Sequence[str]) -> PromptTemplate:
    """`template` with the command line's stop strings added (so they are part of the config hash)."""
    added = [unescape_stop(item) for item in extra]
    if any(not item for item in added):
        raise ValueError("--stop needs a non-empty string")
    stop = tuple(dict.fromkeys(template.stop + tuple(added)))
    return template if stop == template.stop else dataclasses.replace(template, stop=stop)


def load_template(name_or_path: str) -> PromptTemplate:
    """Load and validate a template; every problem is a ValueError naming the file."""
    path = template_path(name_or_path)
    if path.exists():
        require_regular_file(path, "--template")
    else:
        raise ValueError(f"prompt template {name_or_path!r} not found ({path}); "
                         f"bundled templates: {', '.join(available_templates())}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: invalid TOML: {error}") from None
    try:
        return template_from_dict(data, expected_name=path.stem)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def template_from_dict(data: dict[str, Any], expected_name: str | None = None) -> PromptTemplate:
    unknown = sorted(set(data) - _ALLOWED_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ALLOWED_KEYS))}")
    kind = data.get("kind")
    if kind not in TEMPLATE_KINDS:
        raise ValueError(f"'kind' must be one of {', '.join(TEMPLATE_KINDS)}, got {kind!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name or (expected_name and name != expected_name):
        raise ValueError(f"'name' must be a non-empty string equal to the file name ({expected_name!r})")
    texts = {key: data.get(key, "" if key == "system" else None) for key in _TEXT_KEYS[kind]}
    for key, value in texts.items():
        if not isinstance(value, str):
            raise ValueError(f"a {kind} template needs a string {key!r}")
    misplaced = sorted(set(data) & ({"system", "user", "text"} - set(_TEXT_KEYS[kind])))
    if misplaced:
        raise ValueError(f"key(s) {', '.join(misplaced)} do not belong in a {kind} template")
    sections = _check_sections(data.get("sections", {}))
    for key, value in texts.items():
        _check_placeholders(value, key, allow_sections=set(sections))
    stop = data.get("stop", [])
    if not isinstance(stop, list) or not all(isinstance(item, str) and item for item in stop):
        raise ValueError("'stop' must be a list of non-empty strings")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ValueError("'description' must be a string")
    languages = data.get("languages", [DEFAULT_LANGUAGE])
    if not isinstance(languages, list) or not languages or any(item not in LANGUAGES for item in languages):
        raise ValueError(f"'languages' must be a non-empty list of {', '.join(LANGUAGES)}")
    task_stop = data.get("task_stop", False)
    if not isinstance(task_stop, bool) or (task_stop and kind != "completion"):
        raise ValueError("'task_stop' must be true or false, and true only in a completion template "
                         "(the task's stop strings end a continuation, and would cut a chat answer)")
    return PromptTemplate(name, kind, texts, sections, tuple(stop), description,
                          tuple(dict.fromkeys(languages)), task_stop)


def _check_sections(sections: Any) -> dict[str, str]:
    if not isinstance(sections, dict):
        raise ValueError("'sections' must be a table of field name -> text")
    for key, value in sections.items():
        if key not in TEMPLATE_FIELDS:
            raise ValueError(f"section {key!r} is not a template field; fields: {', '.join(TEMPLATE_FIELDS)}")
        if not isinstance(value, str):
            raise ValueError(f"section {key!r} must be a string")
        _check_placeholders(value, f"sections.{key}", allow_sections=set())
    return dict(sections)


def _check_placeholders(text: str, where: str, *, allow_sections: set[str]) -> None:
    allowed = set(TEMPLATE_FIELDS) | set(LANGUAGE_FIELDS) | {f"{name}_section" for name in allow_sections}
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise ValueError(f"{where}: malformed placeholder ({error}); write literal braces as {{{{ }}}}") from None
    for _, field_name, format_spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in allowed:
            raise ValueError(
                f"{where}: placeholder {{{field_name}}} is not allowed; a template sees only the "
                f"public view of a task: {', '.join('{' + name + '}' for name in sorted(allowed))}")
        if format_spec or conversion:
            raise ValueError(f"{where}: placeholder {{{field_name}}} may not have a conversion or format spec")


def _field_values(task: PublicTask) -> dict[str, str]:
    return {
        "prompt": task.prompt,
        "starter_code": task.starter_code,
        "public_tests": "\n".join(test.rstrip("\n") for test in task.public_tests),
        "entry_point": task.entry_point,
        "language": LANGUAGE_NAMES[task.language],
        "language_tag": LANGUAGE_TAGS[task.language],
    }


def check_language(template: PromptTemplate, task: PublicTask) -> None:
    """One line refusing a task whose language the template does not ask for: it would be asked
    for the wrong language and judged on a misread answer."""
    if task.language in template.languages:
        return
    fitting = [name for name in available_templates() if task.language in _bundled_languages(name)]
    raise ValueError(f"task {task.task_id} is written in {task.language}; prompt template {template.name!r} asks "
                     f"for {', '.join(template.languages)} (bundled templates for {task.language}: "
                     f"{', '.join(fitting) or 'none'})")


def _bundled_languages(name: str) -> tuple[str, ...]:
    try:
        return load_template(name).languages
    except ValueError:
        return ()


def render_prompt(template: PromptTemplate, task: PublicTask) -> Prompt:
    """The model input for one task: a message list (chat) or a string (completion)."""
    if type(task) is not PublicTask:
        raise TypeError(f"render_prompt takes a PublicTask (use task.public_view()), got {type(task).__name__}")
    check_language(template, task)
    values = _field_values(task)
    for name, section in template.sections.items():
        values[f"{name}_section"] = section.format(**values) if values[name].strip() else ""
    if template.kind == "completion":
        return template.texts["text"].format(**values)
    messages = []
    if template.texts["system"]:
        messages.append({"role": "system", "content": template.texts["system"].format(**values)})
    messages.append({"role": "user", "content": template.texts["user"].format(**values)})
    return messages
